"""Checks probed from inside a task's (or a container's) network namespace on its node, the
way `verify` probes: a TCP connect, a name looked up with Docker's DNS, a full-size packet
with don't-fragment set. A lesson grades on them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional, Tuple

from .. import grammar
from ..observe.netns import connect_cmd, dns_cmd, is_ipv4, shown
from ..shell import sh
from .base import PORT, STR, Check, Seen
from .evidence import Evidence, Source, source_problem


class Connect(Check):
    """From every task of a service (or a container), a TCP connect to every address of the
    target: its tasks' addresses on a network both share (any address when none is)."""

    kind = "connect"
    params = {"from": STR, "to": STR, "port": PORT, "open": {"type": "boolean"}}
    required = ("from", "to")

    @classmethod
    def problems(cls, p):
        for key in ("from", "to"):
            msg = source_problem(p[key])
            if msg:
                yield (key,), msg

    def expected(self):
        p = self.p
        how = "connects" if p.get("open", True) else "is blocked"
        return f"{p['from']} -> {p['to']}" + (f":{p['port']}" if p.get("port") else "") + f" {how}"

    def judge(self, ev: Evidence) -> Seen:
        found = probe_all(
            ev, self.p, connect_cmd, lambda ip, port, ok: f"{shown(ip, port)} {'open' if ok else 'blocked'}"
        )
        if found is None:
            return False, ev.sources(self.p["from"])[1]
        results, seen, _ = found
        passed = (bool(results) and all(results)) if self.p.get("open", True) else not any(results)
        return passed, "; ".join(seen)


def targets(ev: Evidence, src: Source, p: dict) -> Tuple[List[Tuple[str, Optional[int]]], str]:
    """The addresses (and port) of p["to"] a probe from src tries, with what is missing when none."""
    mine = ev.container_ips(src.host, src.container)
    if "/" in p["to"]:
        node, _, name = p["to"].partition("/")
        host = ev.host(node)
        ips = ev.container_ips(host, name) if host else {}
        shared = [ip for n, ip in ips.items() if n in mine] or list(ips.values())[:1]
        return [(ip, p.get("port")) for ip in shared], f"no container {name} with an address on {node}"
    dst = ev.service(p["to"])
    if dst is None or not dst.tasks:
        return [], f"no running task of {p['to']}"
    ports: List[Optional[int]] = [p["port"]] if p.get("port") else (list(dst.ports) or [None])
    out = []
    for t in dst.tasks:
        shared = [ip for n, ip in t.ips.items() if n in mine] or list(t.ips.values())[:1]
        out += [(ip, port) for ip in shared[:1] for port in ports[:1]]
    return out, f"{p['to']} has no address"


def probe_all(ev: Evidence, p: dict, command, said) -> Optional[Tuple[List[bool], List[str], bool]]:
    """From every source of p["from"], command(ip, port) in its namespace against every
    address of p["to"], all at once (a blocked one waits its timeout): (each probe's
    success, what was seen, whether a source had no target); None without a source."""
    sources, _ = ev.sources(p["from"])
    if not sources:
        return None
    probes, seen = [], []
    for src in sources:
        found, why = targets(ev, src, p)
        probes += [(src, ip, port) for ip, port in found]
        if not found:
            seen.append(f"from {src.label}: {why}")
    missing = bool(seen)
    with ThreadPoolExecutor(max_workers=max(1, len(probes))) as pool:
        results = list(pool.map(lambda x: ev.run_in(x[0], command(x[1], x[2])).ok, probes))
    seen += [f"{src.label} -> {said(ip, port, ok)}" for (src, ip, port), ok in zip(probes, results)]
    return results, seen, missing


class PathMtu(Check):
    """From every task of a service (or a container), a packet of `size` bytes with
    don't-fragment set to every address of the target (ping -M do): whether a full-size
    packet crosses the path."""

    kind = "mtu"
    params = {"from": STR, "to": STR, "size": {"type": "integer", "minimum": 576, "maximum": 9000}}
    required = ("from", "to", "size")
    problems = Connect.problems

    def expected(self):
        return f"a {self.p['size']}-byte packet (don't fragment) crosses from {self.p['from']} to {self.p['to']}"

    def judge(self, ev: Evidence) -> Seen:
        size = self.p["size"]

        def ping(ip, _port):
            return sh("ping", "-c", 2, "-W", 1, "-M", "do", "-s", size - 28, ip)

        found = probe_all(
            ev,
            {"from": self.p["from"], "to": self.p["to"]},
            ping,
            lambda ip, _port, ok: f"{ip}: {size} bytes {'cross' if ok else 'LOST'}",
        )
        if found is None:
            return False, ev.sources(self.p["from"])[1]
        results, seen, missing = found
        return bool(results) and all(results) and not missing, "; ".join(seen)


class Resolves(Check):
    """A name looked up from every task of a service (or a container), with Docker's
    embedded DNS (127.0.0.11 in the task's namespace)."""

    kind = "resolves"
    params = {"from": STR, "name": STR, "resolves": {"type": "boolean"}}
    required = ("from", "name")

    @classmethod
    def problems(cls, p):
        msg = source_problem(p["from"])
        if msg:
            yield ("from",), msg
        msg = grammar.LOOKUP.problem(p["name"])
        if msg:
            yield ("name",), msg

    def expected(self):
        p = self.p
        return f"{p['name']} {'resolves' if p.get('resolves', True) else 'does not resolve'} from {p['from']}"

    def judge(self, ev: Evidence) -> Seen:
        sources, why = ev.sources(self.p["from"])
        if not sources:
            return False, why
        answers = {}
        for src in sources:
            r = ev.run_in(src, dns_cmd(self.p["name"]))
            answers[src.label] = [x for x in r.stdout.split() if is_ipv4(x)]
        want = self.p.get("resolves", True)
        passed = all(bool(a) == want for a in answers.values())
        return passed, "; ".join(f"from {k}: {', '.join(v) or 'no answer'}" for k, v in answers.items())

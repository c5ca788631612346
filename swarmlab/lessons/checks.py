"""What a lesson step is graded on, probed the way `verify` probes: from inside a task's
(or a container's) network namespace on its node — a TCP connect, a name looked up with
Docker's DNS, a full-size packet with don't-fragment set — and from outside the swarm — a
published port, an HTTP request. Each kind is a class with its schema, its own name rules
and its test; CHECKS is the registry of every kind (the swarm's own records: state_checks.py)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Tuple, Type

from .. import grammar
from ..observe.http import http_get
from ..providers.base import Host
from ..shell import sh
from ..observe.netns import connect_cmd, dns_cmd, is_ipv4, shown, tcp_open
from ..observe.topology import Service
from .evidence import Check, Evidence, OnTasks, Problems, Source, _source_problem, service_problems
from .state_checks import Container, File, Networks, NodeState, Replaced, Replicas

_port = {"type": "integer", "minimum": 1, "maximum": 65535}


class Reach(Check):
    """From every task of a service (or a container), a TCP connect to every address of the
    target: its tasks' addresses on a network both share (any address when none is)."""

    kind = "reach"
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["from", "to"],
        "properties": {
            "from": {"type": "string"},
            "to": {"type": "string"},
            "port": _port,
            "expect": {"enum": ["open", "blocked"]},
        },
    }

    @classmethod
    def problems(cls, p):
        for key in ("from", "to"):
            msg = _source_problem(p[key])
            if msg:
                yield (key,), msg

    @classmethod
    def expected(cls, p):
        how = "connects" if p.get("expect", "open") == "open" else "is blocked"
        return f"{p['from']} -> {p['to']}" + (f":{p['port']}" if p.get("port") else "") + f" {how}"

    @classmethod
    def observe(cls, ev, p):
        found = probe_all(ev, p, connect_cmd, lambda ip, port, ok: f"{shown(ip, port)} {'open' if ok else 'blocked'}")
        if found is None:
            return False, ev.sources(p["from"])[1]
        results, seen, _ = found
        want_open = p.get("expect", "open") == "open"
        passed = (bool(results) and all(results)) if want_open else not any(results)
        return passed, "; ".join(seen)

    @staticmethod
    def _targets(ev: Evidence, src: Source, p: dict) -> Tuple[List[Tuple[str, Optional[int]]], str]:
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


class PathMtu(Check):
    """From every task of a service (or a container), a packet of `size` bytes with
    don't-fragment set to every address of the target (ping -M do): whether a full-size
    packet crosses the path."""

    kind = "mtu"
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["from", "to", "size"],
        "properties": {
            "from": {"type": "string"},
            "to": {"type": "string"},
            "size": {"type": "integer", "minimum": 576, "maximum": 9000},
        },
    }
    problems = Reach.problems

    @classmethod
    def expected(cls, p):
        return f"a {p['size']}-byte packet (don't fragment) crosses from {p['from']} to {p['to']}"

    @classmethod
    def observe(cls, ev, p):
        def ping(ip, _port):
            return sh("ping", "-c", 2, "-W", 1, "-M", "do", "-s", p["size"] - 28, ip)

        found = probe_all(
            ev,
            {"from": p["from"], "to": p["to"]},
            ping,
            lambda ip, _port, ok: f"{ip}: {p['size']} bytes {'cross' if ok else 'LOST'}",
        )
        if found is None:
            return False, ev.sources(p["from"])[1]
        results, seen, missing = found
        return bool(results) and all(results) and not missing, "; ".join(seen)


def probe_all(ev: Evidence, p: dict, command, said) -> Optional[Tuple[List[bool], List[str], bool]]:
    """From every source of p["from"], command(ip, port) in its namespace against every
    address of p["to"] (Reach's targets), all at once (a blocked one waits its timeout):
    (each probe's success, what was seen, whether a source had no target); None without a source."""
    sources, _ = ev.sources(p["from"])
    if not sources:
        return None
    probes, seen = [], []
    for src in sources:
        targets, why = Reach._targets(ev, src, p)
        probes += [(src, ip, port) for ip, port in targets]
        if not targets:
            seen.append(f"from {src.label}: {why}")
    missing = bool(seen)
    with ThreadPoolExecutor(max_workers=max(1, len(probes))) as pool:
        results = list(pool.map(lambda x: ev.run_in(x[0], command(x[1], x[2])).ok, probes))
    seen += [f"{src.label} -> {said(ip, port, ok)}" for (src, ip, port), ok in zip(probes, results)]
    return results, seen, missing


class Resolves(Check):
    """A name looked up from every task of a service (or a container), with Docker's
    embedded DNS (127.0.0.11 in the task's namespace)."""

    kind = "resolves"
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["from", "name"],
        "properties": {"from": {"type": "string"}, "name": {"type": "string"}, "expect": {"type": "boolean"}},
    }

    @classmethod
    def problems(cls, p):
        msg = _source_problem(p["from"])
        if msg:
            yield ("from",), msg
        msg = grammar.LOOKUP.problem(p["name"])
        if msg:
            yield ("name",), msg

    @classmethod
    def expected(cls, p):
        return f"{p['name']} {'resolves' if p.get('expect', True) else 'does not resolve'} from {p['from']}"

    @classmethod
    def observe(cls, ev, p):
        sources, why = ev.sources(p["from"])
        if not sources:
            return False, why
        answers = {}
        for src in sources:
            r = ev.run_in(src, dns_cmd(p["name"]))
            answers[src.label] = [x for x in r.stdout.split() if is_ipv4(x)]
        want = p.get("expect", True)
        passed = all(bool(a) == want for a in answers.values())
        return passed, "; ".join(f"from {k}: {', '.join(v) or 'no answer'}" for k, v in answers.items())


def _serving(ev: Evidence, svc: Service, port: int) -> List[Host]:
    """The nodes where a published port must answer: every node with the routing mesh,
    the nodes running its tasks with a host-mode port."""
    spec = next((x for x in svc.published if x["published"] == port), None)
    if spec is None or spec["mode"] == "host":
        nodes = {t.node for t in svc.tasks}
        return [h for h in ev.handle.running if h.name in nodes]
    return list(ev.handle.running)


class Published(Check):
    """A service's port as someone outside the swarm sees it: from the controller, on each
    node that must serve it."""

    kind = "published"
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["service", "port"],
        "properties": {"service": {"type": "string"}, "port": _port, "expect": {"enum": ["open", "closed"]}},
    }

    @classmethod
    def problems(cls, params: dict) -> Problems:
        return service_problems(params)

    @classmethod
    def expected(cls, p):
        answers = "answers" if p.get("expect", "open") == "open" else "does not answer"
        return f"port {p['port']} of {p['service']} {answers} from outside"

    @classmethod
    def observe(cls, ev, p):
        svc = ev.service(p["service"])
        hosts = _serving(ev, svc, p["port"]) if svc and svc.tasks else list(ev.handle.running)
        seen = {h.name: tcp_open(h.address, p["port"]) for h in hosts}
        want = p.get("expect", "open") == "open"
        passed = bool(seen) and all(o == want for o in seen.values())
        published = ", ".join(f"{x['published']}->{x['target']}" for x in svc.published) if svc else ""
        return passed, (
            ", ".join(f"{n}:{p['port']} {'open' if o else 'closed'}" for n, o in seen.items())
            + f" ({p['service']} publishes {published or 'nothing'})"
        )


class Http(OnTasks):
    """An HTTP GET from the controller through every node serving the published port."""

    kind = "http"
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["service", "port"],
        "properties": {
            "service": {"type": "string"},
            "port": _port,
            "path": {"type": "string", "pattern": "^/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]{0,255}$"},
            "status": {"type": "integer", "minimum": 100, "maximum": 599},
        },
    }

    @classmethod
    def expected(cls, p):
        return f"GET {p.get('path', '/')} on {p['service']}'s port {p['port']} answers {p.get('status', 200)}"

    @classmethod
    def seen(cls, ev, p, svc):
        seen = {}
        for h in _serving(ev, svc, p["port"]):
            try:
                status, _, raw = http_get(f"http://{h.address}:{p['port']}{p.get('path', '/')}", timeout=5)
            except OSError as exc:  # refused, reset, timed out: no HTTP answer at all
                status, raw = 0, str(getattr(exc, "reason", exc))
            said = " ".join(raw.split())[:100]
            seen[h.name] = f"{status or 'no answer'}" + (f" {said}" if status != p.get("status", 200) else "")
        passed = bool(seen) and all(v == str(p.get("status", 200)) for v in seen.values())
        return passed, "; ".join(f"via {n}: {v}" for n, v in seen.items()) or "served by no node"


CHECKS: Dict[str, Type[Check]] = {
    c.kind: c
    for c in (Reach, Resolves, Published, Http, Replicas, NodeState, Networks, Container, File, Replaced, PathMtu)
}

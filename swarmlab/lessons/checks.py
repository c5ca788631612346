"""What a lesson step is graded on: evidence read from the running lab, the way `verify`
reads it (a task's own network namespace on its node, the swarm's records, requests from
the controller). Each kind is a class with its schema, its own name rules and its test
(a registry, like the drill's faults); `Evidence` is what they share for one `check`."""
from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Optional, Tuple

from .. import grammar
from ..handle import Lab
from ..naming import short_task
from ..providers.base import Host
from ..result import CommandResult
from ..shell import sh
from ..verify.netns import connect_cmd, dns_cmd, is_ipv4, shown, tcp_open
from ..verify.topology import Service, Topology

Problems = Iterator[Tuple[Tuple[str, ...], str]]
_port = {"type": "integer", "minimum": 1, "maximum": 65535}


def _source_problem(ref: Any) -> Optional[str]:
    """A source is a service's short name, or NODE/CONTAINER (a container on a node)."""
    if isinstance(ref, str) and "/" in ref:
        node, _, name = ref.partition("/")
        return grammar.NODE.problem(node) or grammar.VOLUME.problem(name)
    return grammar.SERVICE.problem(ref)


@dataclass
class Source:
    label: str         # "web.1 on node-2", "a on node-1"
    host: Host
    container: str


@dataclass
class Evidence:
    """The lab as one `lesson check` sees it, read once."""
    handle: Lab
    topo: Topology

    def service(self, short: str) -> Optional[Service]:
        return next((s for s in self.topo.services.values() if s.short == short), None)

    def host(self, name: str) -> Optional[Host]:
        return next((h for h in self.handle.running if h.name == name), None)

    def sources(self, ref: str) -> Tuple[List[Source], str]:
        """Where a probe of `ref` runs: every running task of a service, or the one
        container; with what is missing when there is none."""
        if "/" in ref:
            node, _, name = ref.partition("/")
            host = self.host(node)
            if host is None:
                return [], f"no running node {node}"
            r = host.transport.run(["docker", "inspect", "--format", "{{.State.Running}}", name], warn=True)
            if r.stdout.strip() != "true":
                return [], f"no running container {name} on {node}"
            return [Source(f"{name} on {node}", host, name)], ""
        svc = self.service(ref)
        if svc is None or not svc.tasks:
            return [], f"no running task of {ref}" if svc else f"no service {ref}"
        return [Source(f"{short_task(t.name).split('_', 1)[-1]} on {t.node}", self.topo.hosts[t.node], t.name)
                for t in svc.tasks], ""

    def run_in(self, src: Source, cmd: str, timeout: float = 20) -> CommandResult:
        """cmd inside the source's network namespace, with the node's tools."""
        return src.host.transport.run(
            "pid=$(" + sh("docker", "inspect", "--format", "{{.State.Pid}}", src.container) + ") && "
            + 'nsenter -n -t "$pid" sh -c ' + sh(cmd), timeout=timeout, warn=True)

    def container_ips(self, host: Host, name: str) -> Dict[str, str]:
        r = host.transport.run(["docker", "inspect", "--format", "{{json .NetworkSettings.Networks}}", name],
                               warn=True)
        nets = json.loads(r.stdout) if r.ok and r.stdout.strip() not in ("", "null") else {}
        return {n: v["IPAddress"] for n, v in nets.items() if v.get("IPAddress")}


class Check:
    kind = ""
    schema: dict = {}

    @classmethod
    def problems(cls, params: dict) -> Problems:
        return iter(())

    @classmethod
    def expected(cls, p: dict) -> str: ...

    @classmethod
    def observe(cls, ev: Evidence, p: dict) -> Tuple[bool, str]: ...


class Reach(Check):
    """From every task of a service (or a container), a TCP connect to every address of the
    target: its tasks' addresses on a network both share (any address when none is)."""
    kind = "reach"
    schema = {"type": "object", "additionalProperties": False, "required": ["from", "to"],
              "properties": {"from": {"type": "string"}, "to": {"type": "string"}, "port": _port,
                             "expect": {"enum": ["open", "blocked"]}}}

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
        sources, why = ev.sources(p["from"])
        if not sources:
            return False, why
        probes, seen = [], []
        for src in sources:
            targets, why = cls._targets(ev, src, p)
            probes += [(src, ip, port) for ip, port in targets]
            if not targets:
                seen.append(f"from {src.label}: {why}")
        with ThreadPoolExecutor(max_workers=max(1, len(probes))) as pool:   # a blocked one waits 2 s
            results = list(pool.map(lambda x: ev.run_in(x[0], connect_cmd(x[1], x[2])).ok, probes))
        seen += [f"{src.label} -> {shown(ip, port)} {'open' if ok else 'blocked'}"
                 for (src, ip, port), ok in zip(probes, results)]
        want_open = p.get("expect", "open") == "open"
        passed = (bool(probes) and all(results)) if want_open else not any(results)
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
        ports = [p["port"]] if p.get("port") else (dst.ports or [None])
        out = []
        for t in dst.tasks:
            shared = [ip for n, ip in t.ips.items() if n in mine] or list(t.ips.values())[:1]
            out += [(ip, port) for ip in shared[:1] for port in ports[:1]]
        return out, f"{p['to']} has no address"


class Resolves(Check):
    """A name looked up from every task of a service (or a container), with Docker's
    embedded DNS (127.0.0.11 in the task's namespace)."""
    kind = "resolves"
    schema = {"type": "object", "additionalProperties": False, "required": ["from", "name"],
              "properties": {"from": {"type": "string"}, "name": {"type": "string"},
                             "expect": {"type": "boolean"}}}

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
    schema = {"type": "object", "additionalProperties": False, "required": ["service", "port"],
              "properties": {"service": {"type": "string"}, "port": _port, "expect": {"enum": ["open", "closed"]}}}

    @classmethod
    def problems(cls, p):
        msg = grammar.SERVICE.problem(p["service"])
        if msg:
            yield ("service",), msg

    @classmethod
    def expected(cls, p):
        return f"port {p['port']} of {p['service']} {'answers' if p.get('expect', 'open') == 'open' else 'does not answer'} from outside"

    @classmethod
    def observe(cls, ev, p):
        svc = ev.service(p["service"])
        hosts = _serving(ev, svc, p["port"]) if svc and svc.tasks else list(ev.handle.running)
        seen = {h.name: tcp_open(h.address, p["port"]) for h in hosts}
        want = p.get("expect", "open") == "open"
        passed = bool(seen) and all(o == want for o in seen.values())
        published = ", ".join(f"{x['published']}->{x['target']}" for x in svc.published) if svc else ""
        return passed, (", ".join(f"{n}:{p['port']} {'open' if o else 'closed'}" for n, o in seen.items())
                        + f" ({p['service']} publishes {published or 'nothing'})")


class Http(Check):
    """An HTTP GET from the controller through every node serving the published port."""
    kind = "http"
    schema = {"type": "object", "additionalProperties": False, "required": ["service", "port"],
              "properties": {"service": {"type": "string"}, "port": _port,
                             "path": {"type": "string", "pattern": "^/[A-Za-z0-9._~!$&'()*+,;=:@%/?-]{0,255}$"},
                             "status": {"type": "integer", "minimum": 100, "maximum": 599}}}
    problems = Published.problems

    @classmethod
    def expected(cls, p):
        return f"GET {p.get('path', '/')} on {p['service']}'s port {p['port']} answers {p.get('status', 200)}"

    @classmethod
    def observe(cls, ev, p):
        from ..actions.wait import http_get

        svc = ev.service(p["service"])
        if svc is None or not svc.tasks:
            return False, f"no running task of {p['service']}"
        seen = {}
        for h in _serving(ev, svc, p["port"]):
            try:
                status, _, raw = http_get(f"http://{h.address}:{p['port']}{p.get('path', '/')}", timeout=5)
            except OSError as exc:   # refused, reset, timed out: no HTTP answer at all
                status, raw = 0, str(getattr(exc, "reason", exc))
            said = " ".join(raw.split())[:100]
            seen[h.name] = f"{status or 'no answer'}" + (f" {said}" if status != p.get("status", 200) else "")
        passed = bool(seen) and all(v == str(p.get("status", 200)) for v in seen.values())
        return passed, "; ".join(f"via {n}: {v}" for n, v in seen.items()) or "served by no node"


class Replicas(Check):
    kind = "replicas"
    schema = {"type": "object", "additionalProperties": False, "required": ["service", "running"],
              "properties": {"service": {"type": "string"}, "running": {"type": "integer", "minimum": 0}}}
    problems = Published.problems

    @classmethod
    def expected(cls, p):
        return f"{p['running']} task(s) of {p['service']} running"

    @classmethod
    def observe(cls, ev, p):
        svc = ev.service(p["service"])
        if svc is None:
            return False, f"no service {p['service']}"
        waiting = [t for t in ev.handle.swarm.tasks(svc.name, waiting_too=True) if not t.running]
        why = "; ".join(sorted({f"a task {t.state.lower()}: {t.error}" if t.error else f"a task {t.state.lower()}"
                                for t in waiting}))
        where = ", ".join(sorted(t.node for t in svc.tasks))
        return len(svc.tasks) == p["running"], f"{len(svc.tasks)} running ({where or 'nowhere'})" + (
            f"; {why}" if why else "")


class NodeState(Check):
    kind = "node"
    schema = {"type": "object", "additionalProperties": False, "required": ["name"],
              "properties": {"name": {"type": "string"}, "availability": {"enum": ["active", "drain", "pause"]},
                             "status": {"enum": ["ready", "down"]}}}

    @classmethod
    def problems(cls, p):
        msg = grammar.NODE.problem(p["name"])
        if msg:
            yield ("name",), msg

    @classmethod
    def expected(cls, p):
        return f"{p['name']} " + " and ".join(p[k] for k in ("status", "availability") if k in p)

    @classmethod
    def observe(cls, ev, p):
        node = next((n for n in ev.topo.nodes if n.name == p["name"]), None)
        if node is None:
            return False, f"no swarm node {p['name']}"
        passed = all(getattr(node, k) == p[k] for k in ("status", "availability") if k in p)
        return passed, f"{node.name} {node.status} and {node.availability}"


class Networks(Check):
    """The networks a service's tasks are attached to (its spec)."""
    kind = "networks"
    schema = {"type": "object", "additionalProperties": False, "required": ["service"],
              "properties": {"service": {"type": "string"},
                             "has": {"type": "array", "items": {"type": "string"}},
                             "lacks": {"type": "array", "items": {"type": "string"}}}}
    problems = Published.problems

    @classmethod
    def expected(cls, p):
        return f"{p['service']} on " + (", ".join(p.get("has", [])) or "-") + (
            f", not on {', '.join(p['lacks'])}" if p.get("lacks") else "")

    @classmethod
    def observe(cls, ev, p):
        view = ev.handle.swarm.service(f"{ev.topo.stack}_{p['service']}") if ev.topo.stack else None
        if view is None:
            return False, f"no service {p['service']}"
        on = set(view.networks)
        passed = set(p.get("has", [])) <= on and not set(p.get("lacks", [])) & on
        return passed, f"{p['service']} is on {', '.join(sorted(on)) or 'no network'}"


class Container(Check):
    """A container the trainee made on a node: running, and on the network named."""
    kind = "container"
    schema = {"type": "object", "additionalProperties": False, "required": ["node", "name"],
              "properties": {"node": {"type": "string"}, "name": {"type": "string"},
                             "network": {"type": "string"}, "running": {"type": "boolean"}}}

    @classmethod
    def problems(cls, p):
        for key, rule in (("node", grammar.NODE), ("name", grammar.VOLUME), ("network", grammar.VOLUME)):
            msg = rule.problem(p[key]) if key in p else None
            if msg:
                yield (key,), msg

    @classmethod
    def expected(cls, p):
        return f"container {p['name']} on {p['node']} " + ("running" if p.get("running", True) else "not running") + (
            f" on network {p['network']}" if p.get("network") else "")

    @classmethod
    def observe(cls, ev, p):
        host = ev.host(p["node"])
        if host is None:
            return False, f"no running node {p['node']}"
        r = host.transport.run(["docker", "inspect", "--format", "{{.State.Running}} {{json .NetworkSettings.Networks}}",
                                p["name"]], warn=True)
        state, _, raw = r.stdout.strip().partition(" ")
        running = state == "true"
        nets = {n: v.get("IPAddress") or "no address" for n, v in (json.loads(raw) or {}).items()} \
            if running and raw.strip() not in ("", "null") else {}
        passed = running == p.get("running", True) and (not p.get("network") or p["network"] in nets)
        return passed, (f"{p['name']} " + ("running" if running else "not running" if r.ok else "does not exist")
                        + (f", on {', '.join(f'{n} ({ip})' for n, ip in nets.items())}" if nets else ""))


class File(Check):
    """A file as a container the trainee made sees it: there or not, holding a text."""
    kind = "file"
    schema = {"type": "object", "additionalProperties": False, "required": ["node", "container", "path"],
              "properties": {"node": {"type": "string"}, "container": {"type": "string"},
                             "path": {"type": "string", "pattern": "^/[A-Za-z0-9._/-]{0,200}$"},
                             "contains": {"type": "string", "maxLength": 200}, "exists": {"type": "boolean"}}}

    @classmethod
    def problems(cls, p):
        for key, rule in (("node", grammar.NODE), ("container", grammar.VOLUME)):
            msg = rule.problem(p[key])
            if msg:
                yield (key,), msg

    @classmethod
    def expected(cls, p):
        if not p.get("exists", True):
            return f"no {p['path']} in {p['container']} on {p['node']}"
        return f"{p['path']} in {p['container']} on {p['node']}" + (
            f" holds {p['contains']!r}" if "contains" in p else " exists")

    @classmethod
    def observe(cls, ev, p):
        host = ev.host(p["node"])
        if host is None:
            return False, f"no running node {p['node']}"
        r = host.transport.run(["docker", "exec", p["container"], "head", "-c", "4096", p["path"]], warn=True)
        said = (r.stderr or r.stdout).strip().splitlines()
        if not r.ok:
            gone = "No such container" in r.stderr or "is not running" in r.stderr
            return (not p.get("exists", True)) and not gone, said[-1][-160:] if said else f"exit {r.exited}"
        text = " ".join(r.stdout.split())[:120]
        passed = p.get("exists", True) and p.get("contains", "") in r.stdout
        return passed, f"{p['path']}: {text!r}"


CHECKS: Dict[str, type] = {c.kind: c for c in (Reach, Resolves, Published, Http, Replicas, NodeState, Networks,
                                                Container, File)}

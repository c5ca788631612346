"""Lesson checks on what the swarm and the engines record (as opposed to checks.py, which
probes from inside the tasks' namespaces and from outside): replicas with Swarm's reason
for a waiting task, a node's state, a service's networks, a trainee's container and its
networks, a file as a container sees it, tasks made since the lesson's checkpoint."""

from __future__ import annotations


from .. import grammar
from ..observe.running import go_time
from ..naming import short_task
from ..observe import reads
from .evidence import Check, OnTasks, Problems, service_problems


class Replicas(Check):
    kind = "replicas"
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["service", "running"],
        "properties": {"service": {"type": "string"}, "running": {"type": "integer", "minimum": 0}},
    }

    @classmethod
    def problems(cls, params: dict) -> Problems:
        return service_problems(params)

    @classmethod
    def expected(cls, p):
        return f"{p['running']} task(s) of {p['service']} running"

    @classmethod
    def observe(cls, ev, p):
        svc = ev.service(p["service"])
        if svc is None:
            return False, f"no service {p['service']}"
        waiting = [t for t in ev.handle.swarm.tasks(svc.name, waiting_too=True) if not t.running]
        why = "; ".join(
            sorted(
                {f"a task {t.state.lower()}: {t.error}" if t.error else f"a task {t.state.lower()}" for t in waiting}
            )
        )
        where = ", ".join(sorted(t.node for t in svc.tasks))
        return len(svc.tasks) == p["running"], f"{len(svc.tasks)} running ({where or 'nowhere'})" + (
            f"; {why}" if why else ""
        )


class NodeState(Check):
    kind = "node"
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["name"],
        "properties": {
            "name": {"type": "string"},
            "availability": {"enum": ["active", "drain", "pause"]},
            "status": {"enum": ["ready", "down"]},
        },
    }

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
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["service"],
        "properties": {
            "service": {"type": "string"},
            "has": {"type": "array", "items": {"type": "string"}},
            "lacks": {"type": "array", "items": {"type": "string"}},
        },
    }

    @classmethod
    def problems(cls, params: dict) -> Problems:
        return service_problems(params)

    @classmethod
    def expected(cls, p):
        return (
            f"{p['service']} on "
            + (", ".join(p.get("has", [])) or "-")
            + (f", not on {', '.join(p['lacks'])}" if p.get("lacks") else "")
        )

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
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["node", "name"],
        "properties": {
            "node": {"type": "string"},
            "name": {"type": "string"},
            "network": {"type": "string"},
            "running": {"type": "boolean"},
        },
    }

    @classmethod
    def problems(cls, p):
        for key, rule in (("node", grammar.NODE), ("name", grammar.VOLUME), ("network", grammar.VOLUME)):
            msg = rule.problem(p[key]) if key in p else None
            if msg:
                yield (key,), msg

    @classmethod
    def expected(cls, p):
        return (
            f"container {p['name']} on {p['node']} "
            + ("running" if p.get("running", True) else "not running")
            + (f" on network {p['network']}" if p.get("network") else "")
        )

    @classmethod
    def observe(cls, ev, p):
        host = ev.host(p["node"])
        if host is None:
            return False, f"no running node {p['node']}"
        seen = reads.container(host, p["name"])
        running = seen.running
        nets = {n: ip or "no address" for n, ip in seen.networks.items()} if running else {}
        passed = running == p.get("running", True) and (not p.get("network") or p["network"] in nets)
        return passed, (
            f"{p['name']} "
            + ("running" if running else "not running" if seen.exists else "does not exist")
            + (f", on {', '.join(f'{n} ({ip})' for n, ip in nets.items())}" if nets else "")
        )


class File(Check):
    """A file as a container the trainee made sees it: there or not, holding a text."""

    kind = "file"
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["node", "container", "path"],
        "properties": {
            "node": {"type": "string"},
            "container": {"type": "string"},
            "path": {"type": "string", "pattern": "^/[A-Za-z0-9._/-]{0,200}$"},
            "contains": {"type": "string", "maxLength": 200},
            "exists": {"type": "boolean"},
        },
    }

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
            f" holds {p['contains']!r}" if "contains" in p else " exists"
        )

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


class Replaced(OnTasks):
    """Every running task of a service was made after the lesson's checkpoint: the service
    was updated, or its task moved or restarted (with the address it has now)."""

    kind = "replaced"
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["service"],
        "properties": {"service": {"type": "string"}},
    }

    @classmethod
    def expected(cls, p):
        return f"every task of {p['service']} made since the lesson's start (or its last reset)"

    @classmethod
    def seen(cls, ev, p, svc):
        made = ev.handle.swarm.created([t.name.rsplit(".", 1)[1] for t in svc.tasks])
        seen, fresh = [], []
        for t in svc.tasks:
            at = go_time(made.get(t.name.rsplit(".", 1)[1], ""))
            ips = ", ".join(f"{ip} on {net}" for net, ip in sorted(t.ips.items())) or "no address"
            when = "?" if at is None else f"{at - ev.since:+.0f} s from the checkpoint"
            seen.append(f"{short_task(t.name).split('_', 1)[-1]} on {t.node} made {when}, {ips}")
            fresh.append(at is not None and at > ev.since)
        return all(fresh), "; ".join(seen)

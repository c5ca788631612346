"""Checks on what the swarm and the engines record of one thing a lesson's trainee made or
changed: a service's networks, a container and its networks, a file as a container sees
it, tasks made since the lesson's checkpoint."""

from __future__ import annotations

from .. import grammar
from ..naming import short_task
from ..observe import reads
from ..observe.running import go_time
from .base import STR, Check, Seen
from .evidence import Evidence

_names = {"type": "array", "items": {"type": "string"}}


class Networks(Check):
    """The networks a service's tasks are attached to (its spec)."""

    kind = "networks"
    params = {"service": STR, "has": _names, "lacks": _names}
    required = ("service",)

    def expected(self):
        p = self.p
        return (
            f"{p['service']} on "
            + (", ".join(p.get("has", [])) or "-")
            + (f", not on {', '.join(p['lacks'])}" if p.get("lacks") else "")
        )

    def judge(self, ev: Evidence) -> Seen:
        p = self.p
        view = ev.handle.swarm.service(f"{ev.topo.stack}_{p['service']}") if ev.topo.stack else None
        if view is None:
            return False, f"no service {p['service']}"
        on = set(view.networks)
        passed = set(p.get("has", [])) <= on and not set(p.get("lacks", [])) & on
        return passed, f"{p['service']} is on {', '.join(sorted(on)) or 'no network'}"


class Container(Check):
    """A container the trainee made on a node: running, and on the network named."""

    kind = "container"
    params = {"node": STR, "name": STR, "network": STR, "running": {"type": "boolean"}}
    required = ("node", "name")

    @classmethod
    def problems(cls, p):
        for key, rule in (("node", grammar.NODE), ("name", grammar.VOLUME), ("network", grammar.VOLUME)):
            msg = rule.problem(p[key]) if key in p else None
            if msg:
                yield (key,), msg

    def expected(self):
        p = self.p
        return (
            f"container {p['name']} on {p['node']} "
            + ("running" if p.get("running", True) else "not running")
            + (f" on network {p['network']}" if p.get("network") else "")
        )

    def judge(self, ev: Evidence) -> Seen:
        p = self.p
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
    params = {
        "node": STR,
        "container": STR,
        "path": {"type": "string", "pattern": "^/[A-Za-z0-9._/-]{0,200}$"},
        "contains": {"type": "string", "maxLength": 200},
        "exists": {"type": "boolean"},
    }
    required = ("node", "container", "path")

    @classmethod
    def problems(cls, p):
        for key, rule in (("node", grammar.NODE), ("container", grammar.VOLUME)):
            msg = rule.problem(p[key])
            if msg:
                yield (key,), msg

    def expected(self):
        p = self.p
        if not p.get("exists", True):
            return f"no {p['path']} in {p['container']} on {p['node']}"
        return f"{p['path']} in {p['container']} on {p['node']}" + (
            f" holds {p['contains']!r}" if "contains" in p else " exists"
        )

    def judge(self, ev: Evidence) -> Seen:
        p = self.p
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


class Replaced(Check):
    """Every running task of a service was made after the lesson's checkpoint: the service
    was updated, or its task moved or restarted (with the address it has now)."""

    kind = "replaced"
    params = {"service": STR}
    required = ("service",)

    def expected(self):
        return f"every task of {self.p['service']} made since the lesson's start (or its last reset)"

    def judge(self, ev: Evidence) -> Seen:
        svc, why = ev.running(self.p["service"])
        if svc is None:
            return False, why
        made = ev.handle.swarm.created([t.name.rsplit(".", 1)[1] for t in svc.tasks])
        seen, fresh = [], []
        for t in svc.tasks:
            at = go_time(made.get(t.name.rsplit(".", 1)[1], ""))
            ips = ", ".join(f"{ip} on {net}" for net, ip in sorted(t.ips.items())) or "no address"
            when = "?" if at is None else f"{at - ev.since:+.0f} s from the checkpoint"
            seen.append(f"{short_task(t.name).split('_', 1)[-1]} on {t.node} made {when}, {ips}")
            fresh.append(at is not None and at > ev.since)
        return all(fresh), "; ".join(seen)

"""Checks on what the swarm itself records, as the managers answer: a node's state, a
service's tasks (running, or waiting with Swarm's reason), the lab whole again, Swarm's
reaction to a drill's fault, a change the managers refuse, a rollback Swarm made."""

from __future__ import annotations

from ..observe import reads
from ..swarm_write import service_write
from .base import STR, Check, LabNow, Seen

_KEYS = ("status", "availability", "manager")


class NodeState(Check):
    kind = "node"
    params = {
        "node": STR,
        "status": {"enum": ["ready", "down", "unknown"]},
        "availability": {"enum": ["active", "drain", "pause"]},
        "manager": {"enum": ["leader", "reachable", "unreachable", "none"]},
    }
    required = ("node",)

    def name(self):
        return f"node {self.p['node']}"

    def expected(self):
        return f"{self.p['node']} " + (", ".join(f"{k} {self.p[k]}" for k in _KEYS if k in self.p) or "listed")

    def judge(self, seen: LabNow) -> Seen:
        n = self.p["node"]
        state = seen.node_state(n)
        if state is None:
            return False, f"{n} not listed" + (f" ({seen.error})" if seen.error else "")
        now = dict(zip(_KEYS, state))
        ok = all(now[k] == self.p[k] for k in _KEYS if k in self.p)
        return ok, f"{n} {now['status']}, {now['availability']}" + (
            f", {now['manager']}" if now["manager"] != "none" else ""
        )


class Running(Check):
    """A service has its replicas running (or `replicas` of them), none on `not_on`, one
    at `at` (not `on`: YAML 1.1 reads that key as a boolean)."""

    kind = "running"
    params = {"service": STR, "replicas": {"type": "integer", "minimum": 0, "maximum": 100}, "not_on": STR, "at": STR}
    required = ("service",)

    def name(self):
        return (
            f"{self.p['service']} running"
            + (f" off {self.p['not_on']}" if "not_on" in self.p else "")
            + (f" at {self.p['at']}" if "at" in self.p else "")
        )

    def expected(self):
        n = self.p.get("replicas")
        return (
            (f"{n} task(s) of {self.p['service']}" if n is not None else f"every replica of {self.p['service']}")
            + " running"
            + (f", none on {self.p['not_on']}" if "not_on" in self.p else "")
            + (f", one on {self.p['at']}" if "at" in self.p else "")
        )

    def judge(self, seen: LabNow) -> Seen:
        s = seen.service_state(self.p["service"])
        if s is None:
            return False, f"no service {self.p['service']}"
        want = self.p.get("replicas", s["want"])
        on = [n for n in s["running"] if n == self.p.get("not_on")]
        said = f"{len(s['running'])}/{want} running" + (f" on {', '.join(s['running'])}" if s["running"] else "")
        said += "".join(f"; a task {why}" for why in s["pending"])
        placed = "at" not in self.p or self.p["at"] in s["running"]
        return len(s["running"]) == want and not on and placed and not seen.error, said


class Waiting(Check):
    """A task of the service waits to be placed, and Swarm says why (`reason` in it)."""

    kind = "waiting"
    params = {"service": STR, "reason": STR}
    required = ("service",)

    def name(self):
        return f"{self.p['service']} waiting"

    def expected(self):
        return "a task waits" + (f", Swarm saying {self.p['reason']!r}" if "reason" in self.p else "")

    def judge(self, seen: LabNow) -> Seen:
        pending = (seen.service_state(self.p["service"]) or {}).get("pending", [])
        hit = [w for w in pending if self.p.get("reason", "") in w]
        return bool(hit), "; ".join(pending) or "no task waiting"


class Reacted(Check):
    """Swarm did what it does about the step's fault (a drill's)."""

    kind = "reacted"

    @classmethod
    def problems(cls, params):
        return iter(())

    def name(self):
        return f"{self.fault.kind}: swarm reacted"

    def expected(self):
        node = self.fault.p.get("node", "")
        return {
            "kill-node": f"{node} marked down and no task counted on it",
            "drain": f"{node} drained and no task running on it",
        }.get(self.fault.kind, f"Swarm shows the {self.fault.kind} of {node}")

    def judge(self, snap):
        ok, seen = self.fault.reacted(snap)
        if ok and self.fault.shows_in is not None:  # where its tasks went, or why they wait
            waiting = [f"{name}: a task {why}" for name, s in snap.services.items() for why in s["pending"]]
            seen += f"; left waiting: {'; '.join(waiting)}" if waiting else "; every task runs elsewhere"
        return ok, seen


class Whole(Check):
    """Every node ready and active, every service at its replicas, the flow answers."""

    kind = "whole"

    def name(self):
        return "recovered"

    def expected(self):
        return "every node ready and active, every service whole" + (", the flow answers" if self.ctx.endpoint else "")

    def judge(self, snap):
        return snap.whole(self.ctx.endpoint is not None)


class Refused(Check):
    """The managers refuse a change to the service (quorum lost): a label update, tried."""

    kind = "refused"
    params = {"service": STR}
    required = ("service",)
    active = True

    def name(self):
        return f"an update of {self.p['service']} refused"

    def expected(self):
        return "the managers refuse to change the service (no quorum)"

    def judge(self, snap):
        svc = f"{self.ctx.stack}_{self.p['service']}"
        # out of sequence is asked again: only a refusal of the change itself counts
        r = service_write(
            self.ctx.watch.transport,
            ["update", "--detach", "--quiet", "--label-add", "swarmlab.drill.probe=1", svc],
            40,
        )
        text = (r.stderr or r.stdout).strip().splitlines()
        return not r.ok, ("refused: " + text[-1][-160:]) if not r.ok and text else "accepted"


class RolledBack(Check):
    """Swarm rolled the service's failed update back by itself."""

    kind = "rolled-back"
    params = {"service": STR}
    required = ("service",)
    active = True

    def name(self):
        return f"{self.p['service']} rolled back"

    def expected(self):
        return "UpdateStatus rollback_completed"

    def judge(self, snap):
        seen = reads.update_state(self.ctx.watch.transport, f"{self.ctx.stack}_{self.p['service']}", True)
        seen = seen or "no update state"
        return seen.startswith("rollback_completed"), seen

"""What a drill expects the lab to show, as a registry: each kind looks at a snapshot
(the swarm's view and the latest request through each published endpoint) or asks the
lab itself (a ping, a service update the managers must refuse), and says what it saw.
A step's expectations are polled until each holds or its `within` bound runs out; the
`throughout` ones are judged on every sample of the whole drill."""

from __future__ import annotations

import re
from typing import Any, Dict, Optional, Tuple

from .. import grammar
from ..observe.http import http_get
from ..swarm_write import service_write
from ..observe.measure import Place, iperf_once
from ..observe import reads
from ..faults import Ctx, Fault

_within = {"type": "number", "minimum": 0, "maximum": 600}


def _schema(required=(), **props) -> dict:
    return {
        "type": ["object", "null"] if not required else "object",
        "additionalProperties": False,
        "required": list(required),
        "properties": {"within": _within, **props},
    }


_str = {"type": "string"}


class Expectation:
    kind = ""
    schema = _schema()
    on = "swarm"  # throughout: judged on swarm snapshots, or on "flow" samples
    active = False  # asks the lab itself (a command) rather than reading the snapshot

    def __init__(self, ctx: Ctx, params: Dict[str, Any], fault: Optional[Fault]):
        self.ctx, self.p, self.fault = ctx, params or {}, fault
        self.within = float(self.p.get("within", 60))

    @classmethod
    def problems(cls, params) -> Any:
        for key, value in (params or {}).items():
            rule = {
                "node": grammar.NODE,
                "not_on": grammar.NODE,
                "at": grammar.NODE,
                "via": grammar.NODE,
                "from": grammar.NODE,
                "to": grammar.NODE,
                "service": grammar.SERVICE,
            }.get(key)
            msg = rule.problem(value) if rule else None
            if msg:
                yield (key,), msg

    def name(self) -> str:
        raise NotImplementedError

    def expected(self) -> str:
        raise NotImplementedError

    def check(self, snap) -> Tuple[bool, str]:
        raise NotImplementedError


class Reacted(Expectation):
    """Swarm did what it does about the step's fault."""

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

    def check(self, snap):
        ok, seen = self.fault.reacted(snap)
        if ok and self.fault.shows_in is not None:  # where its tasks went, or why they wait
            waiting = [f"{name}: a task {why}" for name, s in snap.services.items() for why in s["pending"]]
            seen += f"; left waiting: {'; '.join(waiting)}" if waiting else "; every task runs elsewhere"
        return ok, seen


class NodeState(Expectation):
    kind = "node"
    schema = _schema(
        ["node"],
        node=_str,
        status={"enum": ["ready", "down", "unknown"]},
        availability={"enum": ["active", "drain", "pause"]},
        manager={"enum": ["leader", "reachable", "unreachable", "none"]},
    )

    def name(self):
        return f"node {self.p['node']}"

    def expected(self):
        return ", ".join(f"{k} {self.p[k]}" for k in ("status", "availability", "manager") if k in self.p) or "listed"

    def check(self, snap):
        n = self.p["node"]
        if n not in snap.nodes:
            return False, f"{n} not listed" + (f" ({snap.error})" if snap.error else "")
        status, avail = snap.nodes[n]
        seen = {"status": status, "availability": avail, "manager": snap.managers.get(n, "none")}
        ok = all(seen[k] == self.p[k] for k in ("status", "availability", "manager") if k in self.p)
        return ok, f"{n} {status}, {avail}" + (f", {seen['manager']}" if n in snap.managers else "")


class Running(Expectation):
    """A service has its replicas running (or `replicas` of them), none on `not_on`, one
    at `at` (not `on`: YAML 1.1 reads that key as a boolean)."""

    kind = "running"
    schema = _schema(
        ["service"], service=_str, replicas={"type": "integer", "minimum": 0, "maximum": 100}, not_on=_str, at=_str
    )

    def name(self):
        return (
            f"{self.p['service']} running"
            + (f" off {self.p['not_on']}" if "not_on" in self.p else "")
            + (f" at {self.p['at']}" if "at" in self.p else "")
        )

    def expected(self):
        n = self.p.get("replicas")
        return (
            (f"{n} task(s)" if n is not None else "every replica")
            + " running"
            + (f", none on {self.p['not_on']}" if "not_on" in self.p else "")
            + (f", one on {self.p['at']}" if "at" in self.p else "")
        )

    def check(self, snap):
        s = snap.services.get(self.p["service"])
        if s is None:
            return False, f"no service {self.p['service']}"
        want = self.p.get("replicas", s["want"])
        on = [n for n in s["running"] if n == self.p.get("not_on")]
        seen = f"{len(s['running'])}/{want} running" + (f" on {', '.join(s['running'])}" if s["running"] else "")
        seen += "".join(f"; a task {why}" for why in s["pending"])
        placed = "at" not in self.p or self.p["at"] in s["running"]
        return len(s["running"]) == want and not on and placed and not snap.error, seen


class Waiting(Expectation):
    """A task of the service waits to be placed, and Swarm says why (`reason` in it)."""

    kind = "waiting"
    schema = _schema(["service"], service=_str, reason=_str)

    def name(self):
        return f"{self.p['service']} waiting"

    def expected(self):
        return "a task waits" + (f", Swarm saying {self.p['reason']!r}" if "reason" in self.p else "")

    def check(self, snap):
        pending = (snap.services.get(self.p["service"]) or {}).get("pending", [])
        hit = [w for w in pending if self.p.get("reason", "") in w]
        return bool(hit), "; ".join(pending) or "no task waiting"


class Answers(Expectation):
    """The published endpoint answers: the full flow (web -> db and redis) through every
    node that should serve it (or `via` one, or `any` one of them), or a plain GET of
    `path` via that node."""

    kind = "answers"
    schema = _schema(
        via=_str,
        path={"type": "string", "pattern": "^/[A-Za-z0-9._~/?=&%-]{0,200}$"},
        ok={"type": "boolean"},
        any={"type": "boolean"},
    )
    on = "flow"

    @property
    def active(self):
        return "path" in self.p

    def name(self):
        via = f" via {self.p['via']}" if "via" in self.p else " via some node" if self.p.get("any") else ""
        what = "the flow" if "path" not in self.p else f"GET {self.p['path']}"
        return what + via + (" fails" if self.p.get("ok") is False else " answers")

    def expected(self):
        if self.p.get("ok") is False:
            return "no answer"
        return "HTTP 200 from " + ("at least one endpoint" if self.p.get("any") else "every endpoint asked")

    def check(self, snap):
        want = self.p.get("ok", True)
        if self.ctx.endpoint is None:
            return False, "the lab publishes no HTTP endpoint"
        if "path" in self.p:
            host = self.ctx.hosts[self.p.get("via") or next(iter(sorted(self.ctx.hosts)))]
            try:
                status, _, raw = http_get(f"http://{host.address}:{self.ctx.endpoint.port}{self.p['path']}", timeout=5)
                seen, good = f"via {host.name}: HTTP {status}", status == 200
            except OSError as exc:
                seen, good = f"via {host.name}: no answer ({getattr(exc, 'reason', exc)})", False
            return good == want, seen
        flow = {n: v for n, v in snap.flow.items() if n == self.p.get("via", n)}
        oks = [snap.flow_ok[n] for n in flow]
        seen = "; ".join(f"via {n}: {v}" for n, v in sorted(flow.items())) or "no endpoint to ask"
        good = any(oks) if self.p.get("any") else bool(oks) and all(oks)
        return good if want else not any(oks), seen


class Whole(Expectation):
    """Every node ready and active, every service at its replicas, the flow answers."""

    kind = "whole"

    def name(self):
        return "recovered"

    def expected(self):
        return "every node ready and active, every service whole" + (", the flow answers" if self.ctx.endpoint else "")

    def check(self, snap):
        return snap.whole(self.ctx.endpoint is not None)


class Reach(Expectation):
    """A ping from one node to another's data address gets through (open) or not."""

    kind = "reach"
    schema = _schema(["from", "to"], **{"from": _str, "to": _str, "open": {"type": "boolean"}})
    active = True

    def name(self):
        return f"{self.p['from']} -> {self.p['to']} " + ("open" if self.p.get("open", True) else "cut")

    def expected(self):
        return f"{self.p['from']} " + ("reaches" if self.p.get("open", True) else "cannot reach") + f" {self.p['to']}"

    def check(self, snap):
        src, dst = self.ctx.hosts[self.p["from"]], self.ctx.hosts[self.p["to"]]
        r = src.transport.run(["ping", "-c", 2, "-W", 1, "-i", 0.2, dst.data_addr], timeout=15, warn=True)
        got = [ln.strip() for ln in r.stdout.splitlines() if "packet loss" in ln]
        said = got[0] if got else r.stderr.strip()[-120:]
        return r.ok == self.p.get("open", True), f"ping {dst.data_addr}: {said}"


class Path(Expectation):
    """Many pings from one node to another: loss and round trip within bounds (what an
    impairment shows). A measure, so a bound that is missed is a failure with the figures."""

    kind = "path"
    schema = _schema(
        ["from", "to"],
        **{
            "from": _str,
            "to": _str,
            "count": {"type": "integer", "minimum": 5, "maximum": 200},
            "loss_pct_min": {"type": "number", "minimum": 0, "maximum": 100},
            "loss_pct_max": {"type": "number", "minimum": 0, "maximum": 100},
            "rtt_ms_min": {"type": "number", "minimum": 0},
        },
    )
    active = True

    def name(self):
        return f"path {self.p['from']} -> {self.p['to']}"

    def expected(self):
        bounds = [
            f"loss >= {self.p['loss_pct_min']}%" if "loss_pct_min" in self.p else "",
            f"loss <= {self.p['loss_pct_max']}%" if "loss_pct_max" in self.p else "",
            f"rtt >= {self.p['rtt_ms_min']} ms" if "rtt_ms_min" in self.p else "",
        ]
        return ", ".join(filter(None, bounds)) or "measured"

    def check(self, snap):
        src, dst = self.ctx.hosts[self.p["from"]], self.ctx.hosts[self.p["to"]]
        n = self.p.get("count", 40)
        r = src.transport.run(
            ["ping", "-q", "-n", "-c", n, "-i", 0.05, "-W", 1, dst.data_addr], timeout=n * 0.05 + 20, warn=True
        )
        loss = re.search(r"([\d.]+)% packet loss", r.stdout)
        rtt = re.search(r"= [\d.]+/([\d.]+)/", r.stdout)
        if not loss:
            return False, f"ping gave no summary: {(r.stderr or r.stdout).strip()[-120:]}"
        lost, avg = float(loss.group(1)), float(rtt.group(1)) if rtt else None
        # a delay the step's impairment could not make (no netem here) is not judged, and that is said
        no_delay = any(n.name.endswith(": delay_ms") for n in getattr(self.fault, "notes", ()))
        ok = (
            lost >= self.p.get("loss_pct_min", 0)
            and lost <= self.p.get("loss_pct_max", 100)
            and (no_delay or (avg or 0) >= self.p.get("rtt_ms_min", 0))
        )
        return ok, f"{n} pings: {lost:g}% lost" + (f", rtt avg {avg:g} ms" if avg is not None else "") + (
            " (the rtt bound is not judged: the delay was not possible here)"
            if no_delay and "rtt_ms_min" in self.p
            else ""
        )


class Throughput(Expectation):
    """One iperf3 run (TCP, 2 s) from one node to another's data address: within bounds."""

    kind = "throughput"
    schema = _schema(
        ["from", "to"],
        **{
            "from": _str,
            "to": _str,
            "kbit_max": {"type": "number", "minimum": 1},
            "kbit_min": {"type": "number", "minimum": 0},
        },
    )
    active = True

    def name(self):
        return f"throughput {self.p['from']} -> {self.p['to']}"

    def expected(self):
        bounds = [
            f">= {self.p['kbit_min']:g} kbit/s" if "kbit_min" in self.p else "",
            f"<= {self.p['kbit_max']:g} kbit/s" if "kbit_max" in self.p else "",
        ]
        return ", ".join(filter(None, bounds)) or "measured"

    def check(self, snap):
        src, dst = self.ctx.hosts[self.p["from"]], self.ctx.hosts[self.p["to"]]
        got = iperf_once(Place(src, "", src.name, src.data_addr), Place(dst, "", dst.name, dst.data_addr))
        if isinstance(got, str):
            return False, f"iperf3 gave no figure: {got}"
        kbit = got * 1e6
        ok = self.p.get("kbit_min", 0) <= kbit <= self.p.get("kbit_max", float("inf"))
        return ok, f"{kbit:,.0f} kbit/s (iperf3, TCP, 2 s)"


class Refused(Expectation):
    """The managers refuse a change to the service (quorum lost): a label update, tried."""

    kind = "refused"
    schema = _schema(["service"], service=_str)
    active = True

    def name(self):
        return f"an update of {self.p['service']} refused"

    def expected(self):
        return "the managers refuse to change the service (no quorum)"

    def check(self, snap):
        svc = f"{self.ctx.stack}_{self.p['service']}"
        # out of sequence is asked again: only a refusal of the change itself counts
        r = service_write(
            self.ctx.watch.transport,
            ["update", "--detach", "--quiet", "--label-add", "swarmlab.drill.probe=1", svc],
            40,
        )
        text = (r.stderr or r.stdout).strip().splitlines()
        return not r.ok, ("refused: " + text[-1][-160:]) if not r.ok and text else "accepted"


class RolledBack(Expectation):
    """Swarm rolled the service's failed update back by itself."""

    kind = "rolled-back"
    schema = _schema(["service"], service=_str)
    active = True

    def name(self):
        return f"{self.p['service']} rolled back"

    def expected(self):
        return "UpdateStatus rollback_completed"

    def check(self, snap):
        seen = reads.update_state(self.ctx.watch.transport, f"{self.ctx.stack}_{self.p['service']}", True)
        seen = seen or "no update state"
        return seen.startswith("rollback_completed"), seen


EXPECTATIONS: Dict[str, type] = {
    e.kind: e
    for e in (Reacted, NodeState, Running, Waiting, Answers, Whole, Reach, Path, Throughput, Refused, RolledBack)
}
THROUGHOUT: Dict[str, type] = {e.kind: e for e in (Answers, Running)}

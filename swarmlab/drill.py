"""`swarmlab drill`: break one thing in a running lab, watch Swarm react, heal it, and
check the lab is whole again: an ops drill, with a timeline of what changed and when.

The steps, as data: the lab must be whole first -> break -> observe (until Swarm has
reacted, then `hold` seconds more) -> heal (always: after an error or Ctrl-C too) ->
recover (until every node is Ready and Active, every service has all its replicas and
the flow check passes). Every wait is bounded by `timeout`; a snapshot is a handful of
commands on a manager and one short HTTP request per published endpoint."""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from .actions import smoke
from .drill_watch import POLL, DataPathWatcher, Endpoint, Observer, Snapshot, flow_lines
from .errors import ConfigError, PreflightError, Problem
from .handle import Lab, open_lab
from .netfilter import unhook
from .providers.base import Host, Provider
from .result import CheckResult
from .shell import sh
from .waiting import until

Say = Callable[[str], None]

KINDS = {
    "kill-node": "SIGKILL the node: its engine and every task on it die at once; heal: start it again",
    "drain": "docker node update --availability drain: Swarm moves its tasks away; heal: --availability active",
    "cut-link": "drop every packet between NODE and PEER (both ways, at NODE); heal: remove the rules",
}
CHAIN = "SWARMLAB-DRILL"   # the iptables chain a cut-link lives in (one per node)
HERE = "swarmlab drill"    # where an argument problem is (there is no file)


# -- the faults -------------------------------------------------------------------
class Fault:
    kind = ""
    shows_in, wanted = 0, ""   # which of the node's (status, availability) shows the fault, and as what

    def __init__(self, provider: Provider, lab: str, node: Host, peer: Optional[Host], obs: Observer):
        self.provider, self.lab, self.node, self.peer, self.obs = provider, lab, node, peer, obs

    def inject(self) -> str: ...
    def heal(self) -> str: ...

    def reacted(self, snap: Snapshot) -> Tuple[bool, str]:
        """Has Swarm done what it does about this fault: the node shows it, and no task
        Swarm wants is counted on it any more (each runs elsewhere or waits, saying why)."""
        if snap.error:
            return False, f"no answer from the managers: {snap.error}"
        state = snap.nodes.get(self.node.name, ("?", "?"))[self.shows_in]
        left = snap.tasks_on(self.node.name)
        return state == self.wanted and not left, f"{self.node.name} {state}" + (
            f"; still counted on it: {', '.join(left)}" if left else "")


class KillNode(Fault):
    kind = "kill-node"
    shows_in, wanted = 0, "down"

    def inject(self) -> str:
        self.obs.down.add(self.node.name)
        self.provider.kill_node(self.lab, self.node.name)
        return f"{self.node.name} killed (SIGKILL: its engine and every task on it)"

    def heal(self) -> str:
        self.provider.start_node(self.lab, self.node.name)
        self.obs.down.discard(self.node.name)
        return f"{self.node.name} started again (its swarm state was kept on its volume)"


class Drain(Fault):
    kind = "drain"
    shows_in, wanted = 1, "drain"

    def _set(self, availability: str) -> str:
        self.obs.leader.transport.run(["docker", "node", "update", "--availability", availability,
                                       self.node.swarm_name], timeout=30).check(availability)
        return f"{self.node.name} set to {availability}"

    def inject(self) -> str:
        return self._set("drain")

    def heal(self) -> str:
        return self._set("active") + " again"


class CutLink(Fault):
    kind = "cut-link"

    def addresses(self) -> List[str]:
        p = self.peer
        return sorted({p.address, p.swarm_addr, p.data_addr})

    def inject(self) -> str:
        steps = [sh("iptables", "-N", CHAIN)]
        for a in self.addresses():
            steps += [sh("iptables", "-A", CHAIN, flag, a, "-j", "DROP") for flag in ("-s", "-d")]
        steps += [sh("iptables", "-I", hook, "-j", CHAIN) for hook in ("INPUT", "OUTPUT")]
        self.node.transport.run(_unhook() + "; " + " && ".join(steps), timeout=30).check("cut-link")
        return f"every packet between {self.node.name} and {self.peer.name} ({', '.join(self.addresses())}) dropped at {self.node.name}"

    def heal(self) -> str:
        self.node.transport.run(_unhook(), timeout=30).check("heal cut-link")
        return f"the link between {self.node.name} and {self.peer.name} restored"

    def reacted(self, snap):
        return True, "recorded"   # Swarm may see nothing: both ends may still reach a manager

    def link_is_cut(self) -> Tuple[bool, str]:
        r = self.node.transport.run(["ping", "-c", 2, "-W", 1, "-i", 0.2, self.peer.data_addr], timeout=15, warn=True)
        got = [ln for ln in r.stdout.splitlines() if "packet loss" in ln]
        return (not r.ok), (got[0].strip() if got else (r.stderr or r.stdout).strip()[-120:])


def _unhook() -> str:
    return unhook(CHAIN)


FAULTS = {f.kind: f for f in (KillNode, Drain, CutLink)}


# -- the drill --------------------------------------------------------------------
def plan(kind: str, node: str, peer: Optional[str], hosts: List[Host], provider: Provider) -> Tuple[Host, Optional[Host], Host]:
    """The node (and peer) to break and the manager to watch from; every problem at once."""
    problems: List[Problem] = []
    byname = {h.name: h for h in hosts}
    names = ", ".join(byname)
    if kind not in FAULTS:
        problems.append(Problem(HERE, "KIND", f"unknown drill {kind!r}: one of {', '.join(FAULTS)}"))
    if node not in byname:
        problems.append(Problem(HERE, "NODE", f"no node {node!r} in this lab: one of {names}"))
    if kind == "cut-link":
        if not peer:
            problems.append(Problem(HERE, "--peer", f"cut-link needs the other end: --peer NODE, one of {names}"))
        elif peer not in byname or peer == node:
            problems.append(Problem(HERE, "--peer", f"{peer!r} is not another node of this lab: one of {names}"))
    elif peer:
        problems.append(Problem(HERE, "--peer", f"--peer goes with cut-link only, not {kind}: leave it out"))
    if problems:
        raise ConfigError(problems, what="the drill's arguments")
    target, other = byname[node], byname.get(peer or "")
    managers = [h for h in hosts if h.role == "manager" and h.state == "running" and h is not target]
    if kind == "kill-node":
        if not provider.supports("kill_node"):
            raise provider.unsupported("kill-node (stopping a host: swarmlab never stops a host it did not make)",
                                       hint="drain or cut-link work on every provider")
        if not managers:
            raise PreflightError(f"{node} is the lab's only manager: with it killed nothing is left to "
                                 "reschedule or to watch from",
                                 hint="kill a worker, or bring the lab up with --managers 3 and kill one")
    if not managers:
        managers = [h for h in hosts if h.role == "manager" and h.state == "running"]
    if not managers:
        raise PreflightError("no manager of this lab is running", hint="swarmlab up to bring it back")
    watch = next((m for m in managers if m is not other), managers[0])
    return target, other, watch


class Timeline:
    """What changed and when: the swarm's lines and the data path's, each watched against
    its own last state (the data path from a thread of its own), one lock for both."""

    def __init__(self, obs: Observer, before: Snapshot, say: Say):
        self.obs, self.say = obs, say
        self.events: List[dict] = []
        self.phase = "break"
        self.lock = threading.Lock()
        self.last_swarm, self.last_flow = before.swarm_lines(), flow_lines(before.flow)
        self.flows = {"flow": dict(before.flow), "ok": dict(before.flow_ok)}   # the watcher's latest
        self.t0 = time.monotonic()

    def record(self, now: Dict[str, str], last: Dict[str, str]) -> None:
        with self.lock:
            for key in sorted(set(now) | set(last)):
                if now.get(key) != last.get(key):
                    e = {"t": round(time.monotonic() - self.t0, 1), "phase": self.phase, "what": key,
                         "was": last.get(key, "-"), "now": now.get(key, Snapshot.gone(key))}
                    self.events.append(e)
                    self.say(f"+{e['t']:5.1f}s {key}: {e['now']}")
            last.clear()
            last.update(now)

    def on_flow(self, flow: Dict[str, str], ok: Dict[str, bool]) -> None:
        with self.lock:
            self.flows["flow"], self.flows["ok"] = flow, ok
        self.record(flow_lines(flow), self.last_flow)

    def swarm_now(self) -> Snapshot:
        """The swarm's view now, with the data path's latest."""
        snap = self.obs.swarm()
        self.record(snap.swarm_lines(), self.last_swarm)
        return self.with_flow(snap)

    def with_flow(self, snap: Snapshot, fresh: bool = False) -> Snapshot:
        """snap with the data path's latest (every endpoint asked again first if fresh)."""
        if fresh:
            self.on_flow(*self.obs.data_path())
        with self.lock:
            snap.flow, snap.flow_ok = dict(self.flows["flow"]), dict(self.flows["ok"])
        return snap

    def event(self, what: str, at: Optional[float] = None) -> None:
        with self.lock:
            self.events.append({"t": round((at or time.monotonic()) - self.t0, 1), "phase": self.phase,
                                "what": what, "was": "", "now": ""})
            self.say(f"+{self.events[-1]['t']:5.1f}s {what}")


def run(lab: str, provider: Provider, kind: str, node: str, peer: Optional[str] = None,
        timeout: float = 120, hold: float = 10, say: Say = lambda s: None) -> dict:
    handle = open_lab(lab, provider)
    target, other, watch = plan(kind, node, peer, handle.hosts, provider)
    stack, endpoint = _stack_and_endpoint(handle, watch)
    obs = Observer(lab, handle.hosts, watch, stack, endpoint)
    fault = FAULTS[kind](provider, lab, target, other, obs)
    if kind == "cut-link":
        fault.node.transport.run(_unhook(), timeout=30)   # a chain left by an interrupted drill
    before = obs.snapshot()
    needs_flow = endpoint is not None
    whole, seen = before.whole(needs_flow)
    if not whole:
        raise PreflightError(f"lab {lab} is not whole before the drill: {seen}",
                             hint="swarmlab up (or wait for it to settle), then drill")
    say(f"before: {seen}")
    tl = Timeline(obs, before, say)
    checks: List[CheckResult] = []
    watcher = DataPathWatcher(obs, tl.on_flow)
    healed = False
    try:
        tl.event(fault.inject())
        watcher.start()
        checks += _break_phase(fault, tl, timeout, hold, needs_flow)
        tl.phase = "heal"
        heal_t = time.monotonic()    # recovery counts from here: the heal itself is part of it
        what = fault.heal()
        healed = True
        tl.event(f"{what} (took {time.monotonic() - heal_t:.1f} s)", at=heal_t)
        recovered = _recover_phase(tl, heal_t, timeout, needs_flow)
        checks.append(recovered)
        watcher.stop.set()
        if recovered.passed and needs_flow:
            checks += smoke.flow_checks(obs.targets(obs.swarm()))
    finally:
        watcher.stop.set()
        if not healed:
            say("healing before stopping")
            fault.heal()
        if watcher.is_alive():
            watcher.join(timeout=15)   # its requests time out in 8 s
    return {"lab": lab, "drill": kind, "node": node, "peer": peer, "watched_from": watch.name,
            "before": before.lines(), "timeline": tl.events, "checks": [c.as_dict() for c in checks],
            "passed": all(c.passed or c.state == "unsupported" for c in checks),
            "seconds": round(time.monotonic() - tl.t0, 1)}


def _break_phase(fault: "Fault", tl: Timeline, timeout: float, hold: float, needs_flow: bool) -> List[CheckResult]:
    """Observe until Swarm has reacted, then `hold` more seconds of the broken state."""
    checks: List[CheckResult] = []
    if isinstance(fault, CutLink):
        cut, how = fault.link_is_cut()
        checks.append(CheckResult(f"{fault.kind}: the link is cut", cut,
                                  f"{fault.node.name} cannot reach {fault.peer.name}",
                                  f"ping {fault.peer.data_addr} from {fault.node.name}: {how}"))
    seen: Dict[str, Any] = {"during": None}

    def reacted():
        seen["during"] = tl.swarm_now()
        return fault.reacted(seen["during"])

    deadline = tl.t0 + timeout
    done, why, _ = until(reacted, max(0.0, deadline - time.monotonic()), POLL)
    reacted_at = round(time.monotonic() - tl.t0, 1) if done else None
    if done:   # the broken state, watched a while longer
        until(lambda: (not tl.swarm_now(), ""), max(0.0, min(hold, deadline - time.monotonic())), POLL)
    during = tl.swarm_now() if seen["during"] is not None else None   # with the data path's latest
    checks.append(_reaction_check(fault, reacted_at, why, during, timeout))
    if during is not None and needs_flow:
        checks.append(_during_check(during))
    return checks


def _recover_phase(tl: Timeline, heal_t: float, timeout: float, needs_flow: bool) -> CheckResult:
    """Until every node is ready and active, every service whole, and (the swarm saying
    so) every endpoint it names answers, asked afresh."""
    def whole():
        snap = tl.swarm_now()
        ok, seen = snap.whole(needs_flow)
        if ok and needs_flow:
            ok, seen = tl.with_flow(snap, fresh=True).whole(needs_flow)
        return ok, seen

    done, seen, _ = until(whole, max(0.0, heal_t + timeout - time.monotonic()), POLL)
    at = round(time.monotonic() - heal_t, 1) if done else None
    return CheckResult("recovered", done, "every node ready and active, every service whole, the flow answers",
                       f"in {at} s from the heal" if done else f"not within {timeout:.0f} s; last seen: {seen}",
                       duration=at or timeout)


def _reaction_check(fault: Fault, at: Optional[float], why: str, snap: Optional[Snapshot], timeout: float) -> CheckResult:
    node = fault.node.name
    if isinstance(fault, CutLink):
        # Swarm may not notice a cut between two nodes that both still reach a manager:
        # that is the lesson, not a failure. What it did is in the timeline.
        nodes = snap.nodes if snap else {}
        seen = ", ".join(f"{n} {nodes.get(n, ('?',))[0]}" for n in (node, fault.peer.name))
        return CheckResult("swarm's view", True, "recorded (Swarm may see nothing wrong)", seen, status="passed")
    expected = {"kill-node": f"{node} marked down and no task counted on it",
                "drain": f"{node} drained and no task running on it"}[fault.kind]
    if at is None:
        return CheckResult(f"{fault.kind}: swarm reacted", False, expected, f"not within {timeout:.0f} s; last seen: {why}")
    moved = []
    for name, s in (snap.services.items() if snap else []):
        for why_pending in s["pending"]:
            moved.append(f"{name}: a task {why_pending}")
    return CheckResult(f"{fault.kind}: swarm reacted", True, expected,
                       f"after {at} s" + (f"; left waiting: {'; '.join(moved)}" if moved else "; every task runs elsewhere"),
                       duration=at)


def _during_check(snap: Snapshot) -> CheckResult:
    """What still answered while broken: an observation for the record, never a failure."""
    if not snap.flow:
        observed = "no endpoint of the published port left"
    else:
        observed = "; ".join(f"via {n}: {v}" for n, v in sorted(snap.flow.items()))
    return CheckResult("while broken", True, "recorded: which paths still answered", observed, status="passed")


def _stack_and_endpoint(handle: Lab, watch: Host) -> Tuple[str, Optional[Endpoint]]:
    """The lab's stack and the published port the flow check uses (from its scenario)."""
    scenario = handle.scenario
    stack = scenario.stack_name if scenario else "app"
    w = scenario.wait if scenario else None
    if not w or not w.http_service:
        return stack, None
    svc = handle.reader(watch).service(f"{stack}_{w.http_service}")
    if svc is None or not svc.ports:
        return stack, None
    port = next((p for p in svc.ports if p.published == w.http_port), svc.ports[0])
    return stack, Endpoint(svc.name, port.published, port.mode)

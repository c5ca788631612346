"""`swarmlab drill`: break one thing in a running lab, watch Swarm react, heal it, and
check the lab is whole again: an ops drill, with a timeline of what changed and when.

The steps, as data: the lab must be whole first -> break -> observe (until Swarm has
reacted, then `hold` seconds more) -> heal (always: after an error or Ctrl-C too) ->
recover (until every node is Ready and Active, every service has all its replicas and
the flow check passes). Every wait is bounded by `timeout`; a snapshot is a handful of
commands on a manager and one short HTTP request per published endpoint."""
from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from .actions import smoke
from .actions.swarm import node_table
from .actions.wait import http_get, services, tasks
from .errors import ConfigError, PreflightError, Problem, SwarmlabError
from .providers.base import Host, Provider, name_of
from .result import CheckResult
from .shell import sh

Say = Callable[[str], None]

KINDS = {
    "kill-node": "SIGKILL the node: its engine and every task on it die at once; heal: start it again",
    "drain": "docker node update --availability drain: Swarm moves its tasks away; heal: --availability active",
    "cut-link": "drop every packet between NODE and PEER (both ways, at NODE); heal: remove the rules",
}
CHAIN = "SWARMLAB-DRILL"   # the iptables chain a cut-link lives in (one per node)
POLL = 1.0                 # seconds between snapshots
HERE = "swarmlab drill"    # where an argument problem is (there is no file)


# -- what the lab looks like at one moment ------------------------------------------
@dataclass
class Snapshot:
    nodes: Dict[str, Tuple[str, str]] = field(default_factory=dict)   # node -> (status, availability)
    services: Dict[str, dict] = field(default_factory=dict)   # web -> {want, running: [nodes], pending: [why]}
    flow: Dict[str, str] = field(default_factory=dict)        # node -> what a request through it got
    flow_ok: Dict[str, bool] = field(default_factory=dict)
    managers: Dict[str, str] = field(default_factory=dict)    # node -> leader / reachable / unreachable
    error: str = ""   # the watching manager did not answer: the swarm's part is the last one seen

    def lines(self) -> Dict[str, str]:
        """Flat, comparable: what the timeline records when it changes."""
        return {**self.swarm_lines(), **flow_lines(self.flow)}

    def swarm_lines(self) -> Dict[str, str]:
        out = {f"node {n}": f"{s}, {a}" + (f", {self.managers[n]}" if n in self.managers else "")
               for n, (s, a) in self.nodes.items()}
        for name, s in self.services.items():
            text = f"{len(s['running'])}/{s['want']} running" + (f" on {', '.join(s['running'])}" if s["running"] else "")
            for why in s["pending"]:
                text += f"; a task {why}"
            out[f"service {name}"] = text
        out["managers"] = f"no answer: {self.error}" if self.error else "answering"
        return out

    @staticmethod
    def gone(key: str) -> str:
        """What a line that disappeared means."""
        return "no endpoint there now" if key.startswith("flow via") else "gone"

    def tasks_on(self, node: str) -> List[str]:
        return [name for name, s in self.services.items() if node in s["running"]]

    def whole(self, data_path: bool = True) -> Tuple[bool, str]:
        """Every node ready and active, every manager reachable, every service at its
        replicas, every flow answered (data_path=False: the lab publishes no endpoint)."""
        if self.error:
            return False, f"no answer from the managers: {self.error}"
        bad = [f"{n} {s}/{a}" for n, (s, a) in self.nodes.items() if (s, a) != ("ready", "active")]
        bad += [f"manager {n} {m}" for n, m in self.managers.items() if m not in ("leader", "reachable")]
        bad += [f"{n} {len(s['running'])}/{s['want']}" for n, s in self.services.items()
                if s["want"] is not None and len(s["running"]) != s["want"]]
        bad += [f"flow via {n}: {v}" for n, v in self.flow.items() if not self.flow_ok[n]]
        if data_path and not self.flow:
            bad.append("no endpoint answers yet")
        return not bad, "; ".join(bad) or "every node ready and active, every service whole, the flow answers"


def flow_lines(flow: Dict[str, str]) -> Dict[str, str]:
    return {f"flow via {n}": v for n, v in flow.items()}


@dataclass
class Endpoint:
    service: str      # app_web
    port: int
    mode: str         # ingress / host


class Observer:
    """Snapshots of a lab through one manager that the drill leaves alone."""

    def __init__(self, lab: str, hosts: List[Host], leader: Host, stack: str, endpoint: Optional[Endpoint]):
        self.lab, self.hosts, self.leader, self.stack, self.endpoint = lab, hosts, leader, stack, endpoint
        self.down: set = set()   # hosts the controller must not try to reach (killed)
        self.last: Optional[Snapshot] = None

    def snapshot(self) -> Snapshot:
        """The swarm's view, then the data path's."""
        snap = self.swarm()
        snap.flow, snap.flow_ok = self.data_path()
        return snap

    def swarm(self) -> Snapshot:
        """What the watching manager says; when it does not answer (an election), the last
        view it gave, marked with the error."""
        snap = Snapshot()
        try:
            self._swarm_view(snap)
            self.last = snap
        except SwarmlabError as exc:
            snap.error = str(exc).splitlines()[0][-160:]
            if self.last is not None:
                snap.nodes, snap.managers, snap.services = self.last.nodes, self.last.managers, self.last.services
        return snap

    def data_path(self) -> Tuple[Dict[str, str], Dict[str, bool]]:
        """A request through each published endpoint that should answer (by the last swarm view)."""
        flow: Dict[str, str] = {}
        ok: Dict[str, bool] = {}
        targets = self.targets(self.last or Snapshot())
        if targets:
            with ThreadPoolExecutor(max_workers=max(1, len(targets))) as pool:   # one slow endpoint at a time is enough
                for (node, _), (text, good) in zip(targets, pool.map(lambda t: _flow(t[1]), targets)):
                    flow[node], ok[node] = text, good
        return flow, ok

    def _swarm_view(self, snap: Snapshot) -> None:
        for n in node_table(self.leader):
            name = name_of(self.hosts, n["Hostname"])
            snap.nodes[name] = (n["Status"].lower(), n["Availability"].lower())
            if n.get("ManagerStatus"):
                snap.managers[name] = n["ManagerStatus"].lower()
        for svc in services(self.leader, self.stack):
            short = svc["Name"][len(self.stack) + 1:] if svc["Name"].startswith(self.stack + "_") else svc["Name"]
            want = _wanted(svc.get("Replicas", ""))
            running, pending = [], []
            for t in tasks(self.leader, svc["Name"], waiting_too=True, strict=True):
                state = t.get("CurrentState", "")
                if state.startswith("Running") and t.get("Node"):
                    running.append(name_of(self.hosts, t["Node"]))
                else:
                    why = (t.get("Error") or "").strip('"')
                    pending.append(state.split(" ")[0].lower() + (f": {why}" if why else ""))
            snap.services[short] = {"want": want, "running": sorted(running), "pending": pending}

    def targets(self, snap: Snapshot) -> List[Tuple[str, str]]:
        """Where the published port should answer: every live node with the routing mesh,
        only the nodes running a task with host-mode ports."""
        ep = self.endpoint
        if ep is None:
            return []
        short = ep.service[len(self.stack) + 1:]
        running = set(snap.services.get(short, {}).get("running", []))
        live = [h for h in self.hosts if h.name not in self.down]
        chosen = live if ep.mode == "ingress" else [h for h in live if h.name in running]
        return [(h.name, f"http://{h.address}:{ep.port}") for h in chosen]


class DataPathWatcher(threading.Thread):
    """Requests through the published endpoints every POLL seconds, on their own: the
    data path is seen even while the managers are silent for many seconds (an election)."""

    def __init__(self, obs: Observer, report: Callable[[Dict[str, str], Dict[str, bool]], None]):
        super().__init__(name="drill-data-path", daemon=True)
        self.obs, self.report, self.stop = obs, report, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.report(*self.obs.data_path())
            except Exception:   # a request error is in its text; anything else: try again next round
                pass
            self.stop.wait(POLL)


def _wanted(replicas: str) -> Optional[int]:
    try:
        return int(replicas.split()[0].split("/")[1])
    except (IndexError, ValueError):
        return None


def _flow(url: str) -> Tuple[str, bool]:
    """One request that must reach db (a forced cache miss): who served it, or what failed."""
    try:
        status, body, raw = http_get(url + "/?cache=skip", timeout=8.0)   # web gives db and redis 3 s each
    except OSError as exc:
        return f"no answer ({getattr(exc, 'reason', exc)})", False
    if status == 200 and body and "served_by" in body:
        return (f"ok: web {body['served_by'].get('node')} -> db {body.get('db', {}).get('node')}, "
                f"redis {body.get('redis', {}).get('node')}"), True
    detail = (body or {}).get("error") if isinstance(body, dict) else None
    return f"HTTP {status}: {str(detail or raw).strip()[:120]}", False


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
    """Remove a drill chain left from before (idempotent: each step may find nothing)."""
    return (f"while iptables -D INPUT -j {CHAIN} 2>/dev/null; do :; done; "
            f"while iptables -D OUTPUT -j {CHAIN} 2>/dev/null; do :; done; "
            f"iptables -F {CHAIN} 2>/dev/null; iptables -X {CHAIN} 2>/dev/null; true")


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
        if not hasattr(provider, "kill_node"):
            raise PreflightError(f"kill-node stops a dind node; swarmlab never stops a {provider.name} host",
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


def run(lab: str, provider: Provider, kind: str, node: str, peer: Optional[str] = None,
        timeout: float = 120, hold: float = 10, say: Say = lambda s: None) -> dict:
    hosts = provider.hosts(lab)
    if not hosts or not provider.exists(lab):
        raise SwarmlabError(f"no lab named {lab!r}", hint="swarmlab ls lists the labs")
    target, other, watch = plan(kind, node, peer, hosts, provider)
    stack, endpoint = _stack_and_endpoint(lab, provider, watch)
    obs = Observer(lab, hosts, watch, stack, endpoint)
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
    timeline: List[dict] = []
    checks: List[CheckResult] = []
    lock = threading.Lock()
    phase = "break"
    last_swarm, last_flow = before.swarm_lines(), flow_lines(before.flow)
    flows = {"flow": dict(before.flow), "ok": dict(before.flow_ok)}   # the data path watcher's latest
    t0 = time.monotonic()

    def record(now: Dict[str, str], last: Dict[str, str]) -> None:
        """Every line that changed, as an event (the swarm's lines and the data path's are
        watched apart, each against its own last state)."""
        with lock:
            for key in sorted(set(now) | set(last)):
                if now.get(key) != last.get(key):
                    e = {"t": round(time.monotonic() - t0, 1), "phase": phase, "what": key,
                         "was": last.get(key, "-"), "now": now.get(key, Snapshot.gone(key))}
                    timeline.append(e)
                    say(f"+{e['t']:5.1f}s {key}: {e['now']}")
            last.clear()
            last.update(now)

    def on_flow(flow: Dict[str, str], ok: Dict[str, bool]) -> None:
        with lock:
            flows["flow"], flows["ok"] = flow, ok
        record(flow_lines(flow), last_flow)

    def swarm_now() -> Snapshot:
        snap = obs.swarm()
        record(snap.swarm_lines(), last_swarm)
        with lock:
            snap.flow, snap.flow_ok = dict(flows["flow"]), dict(flows["ok"])
        return snap

    def event(what: str, at: Optional[float] = None) -> None:
        with lock:
            timeline.append({"t": round((at or time.monotonic()) - t0, 1), "phase": phase, "what": what,
                             "was": "", "now": ""})
            say(f"+{timeline[-1]['t']:5.1f}s {what}")

    watcher = DataPathWatcher(obs, on_flow)
    healed = False
    try:
        event(fault.inject())
        watcher.start()
        during: Optional[Snapshot] = None
        if isinstance(fault, CutLink):
            cut, how = fault.link_is_cut()
            checks.append(CheckResult(f"{kind}: the link is cut", cut, f"{target.name} cannot reach {other.name}",
                                      f"ping {other.data_addr} from {target.name}: {how}"))
        # observe until Swarm has reacted, then `hold` more seconds of the broken state
        reacted_at, why = None, ""
        deadline = t0 + timeout
        hold_until = None
        while time.monotonic() < deadline:
            during = swarm_now()
            done, why = fault.reacted(during)
            if done and reacted_at is None:
                reacted_at = round(time.monotonic() - t0, 1)
                hold_until = time.monotonic() + hold
            if hold_until is not None and time.monotonic() >= hold_until:
                break
            time.sleep(POLL)
        during = swarm_now() if during is not None else None   # with the data path's latest
        checks.append(_reaction_check(fault, reacted_at, why, during, timeout))
        if during is not None and needs_flow:
            checks.append(_during_check(during))
        phase = "heal"
        heal_t = time.monotonic()    # recovery counts from here: the heal itself is part of it
        what = fault.heal()
        healed = True
        event(f"{what} (took {time.monotonic() - heal_t:.1f} s)", at=heal_t)
        recovered_at, seen = None, ""
        while time.monotonic() < heal_t + timeout:
            snap = swarm_now()
            ok, seen = snap.whole(needs_flow)
            if ok and needs_flow:
                # the swarm says whole: every endpoint it names must answer now, asked afresh
                on_flow(*obs.data_path())
                snap.flow, snap.flow_ok = dict(flows["flow"]), dict(flows["ok"])
                ok, seen = snap.whole(needs_flow)
            if ok:
                recovered_at = round(time.monotonic() - heal_t, 1)
                break
            time.sleep(POLL)
        checks.append(CheckResult("recovered", recovered_at is not None,
                                  "every node ready and active, every service whole, the flow answers",
                                  f"in {recovered_at} s from the heal" if recovered_at is not None
                                  else f"not within {timeout:.0f} s; last seen: {seen}",
                                  duration=recovered_at or timeout))
        watcher.stop.set()
        if recovered_at is not None and needs_flow:
            checks += smoke.flow_checks(obs.targets(obs.swarm()))
    finally:
        watcher.stop.set()
        if not healed:
            say("healing before stopping")
            fault.heal()
        if watcher.is_alive():
            watcher.join(timeout=15)   # its requests time out in 8 s
    return {"lab": lab, "drill": kind, "node": node, "peer": peer, "watched_from": watch.name,
            "before": before.lines(), "timeline": timeline, "checks": [c.as_dict() for c in checks],
            "passed": all(c.passed or c.state == "unsupported" for c in checks),
            "seconds": round(time.monotonic() - t0, 1)}


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


def _stack_and_endpoint(lab: str, provider: Provider, leader: Host) -> Tuple[str, Optional[Endpoint]]:
    """The lab's stack and the published port the flow check uses (from its scenario)."""
    from .lab import scenario_of   # here: lab pulls in the engine client, slow to import

    scenario = scenario_of(lab, provider)
    stack = scenario.stack_name if scenario else "app"
    w = scenario.wait if scenario else None
    if not w or not w.http_service:
        return stack, None
    r = leader.transport.run(["docker", "service", "inspect", f"{stack}_{w.http_service}"], timeout=30, warn=True)
    if not r.ok:
        return stack, None
    ports = ((json.loads(r.stdout)[0]["Spec"].get("EndpointSpec") or {}).get("Ports") or [])
    port = next((p for p in ports if p.get("PublishedPort") == w.http_port), ports[0] if ports else None)
    if port is None:
        return stack, None
    return stack, Endpoint(f"{stack}_{w.http_service}", int(port["PublishedPort"]), port.get("PublishMode", "ingress"))

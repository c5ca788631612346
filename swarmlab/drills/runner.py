"""Running a drill on a live lab: the lab must be whole first; then each step in turn
(wait, break or heal, expectations polled until they hold or their bound runs out, hold),
with a timeline of what changed and when (the swarm's view from a manager the drill
leaves alone, and the data path from a thread of its own), expectations that must hold
throughout judged on every sample, a score, and every fault healed at the end — after
an error or Ctrl-C too."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..observe.flow import flow_checks
from ..errors import ConfigError, PreflightError, Problem
from ..observe.running import Lab, open_lab
from ..progress import Say
from ..providers.base import Host, Provider
from ..result import CheckResult
from ..waiting import until
from ..checks import DRILL_CHECKS, THROUGHOUT, Check
from ..checks.swarm import Whole
from ..faults import Ctx, Fault
from ..faults import FAULTS
from .model import HERE, Drill, Quiz
from ..observe.snapshot import POLL, DataPathWatcher, Endpoint, Observer, Snapshot, flow_lines


@dataclass
class Judged:
    """A `throughout` expectation, and what its samples showed."""

    exp: Check
    samples: int = 0
    bad: int = 0
    first: str = ""


class Timeline:
    """What changed and when: the swarm's lines and the data path's, each watched against
    its own last state (the data path from a thread of its own), one lock for both; and
    the `throughout` expectations, judged on every sample while `judging`."""

    def __init__(self, obs: Observer, before: Snapshot, say: Say, throughout: List[Check]):
        self.obs, self.say = obs, say
        self.events: List[dict] = []
        self.phase = "before"
        self.lock = threading.Lock()
        self.last_swarm, self.last_flow = before.swarm_lines(), flow_lines(before.flow)
        self.flows: Dict[str, Dict[str, Any]] = {"flow": dict(before.flow), "ok": dict(before.flow_ok)}  # the latest
        self.t0 = time.monotonic()
        self.judging = False
        self.throughout = {id(e): Judged(e) for e in throughout}

    def record(self, now: Dict[str, str], last: Dict[str, str]) -> None:
        with self.lock:
            for key in sorted(set(now) | set(last)):
                if now.get(key) != last.get(key):
                    e = {
                        "t": self.now(),
                        "phase": self.phase,
                        "what": key,
                        "was": last.get(key, "-"),
                        "now": now.get(key, Snapshot.gone(key)),
                    }
                    self.events.append(e)
                    self.say(f"+{e['t']:5.1f}s {key}: {e['now']}")
            last.clear()
            last.update(now)

    def now(self) -> float:
        return round(time.monotonic() - self.t0, 1)

    def judge(self, snap: Snapshot, on: str) -> None:
        """Every `throughout` expectation judged on this sample (while the drill runs)."""
        if not self.judging:
            return
        for j in self.throughout.values():
            if j.exp.on == on:
                ok, seen = j.exp.judge(snap)
                with self.lock:
                    j.samples += 1
                    if not ok:
                        j.bad += 1
                        j.first = j.first or f"+{self.now()} s: {seen}"

    def on_flow(self, flow: Dict[str, str], ok: Dict[str, bool]) -> None:
        with self.lock:
            self.flows["flow"], self.flows["ok"] = flow, ok
        self.record(flow_lines(flow), self.last_flow)
        self.judge(Snapshot(flow=flow, flow_ok=ok), "flow")

    def swarm_now(self) -> Snapshot:
        """The swarm's view now, with the data path's latest."""
        snap = self.obs.swarm()
        self.record(snap.swarm_lines(), self.last_swarm)
        self.judge(snap, "swarm")
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
            self.events.append(
                {
                    "t": round((at or time.monotonic()) - self.t0, 1),
                    "phase": self.phase,
                    "what": what,
                    "was": "",
                    "now": "",
                }
            )
            self.say(f"+{self.events[-1]['t']:5.1f}s {what}")

    def watch(self, seconds: float) -> None:
        """Keep recording for `seconds`: a snapshot every POLL, never "done" (until() also
        rides out a transient error of one snapshot)."""
        until(lambda: (self.swarm_now() is None, ""), seconds, POLL)

    def verdicts(self) -> List[CheckResult]:
        out = []
        for j in self.throughout.values():
            e = j.exp
            ok = j.samples > 0 and j.bad == 0
            seen = (
                f"{j.samples} samples, every one as expected"
                if ok
                else f"{j.bad} of {j.samples} samples not as expected; first at {j.first}"
                if j.samples
                else "no sample taken"
            )
            out.append(CheckResult(f"throughout: {e.name()}", ok, e.expected(), seen))
        return out


def run(
    lab: str,
    provider: Provider,
    drill: Drill,
    say: Say = lambda s: None,
    hold: Optional[float] = None,
    within: Optional[float] = None,
    ask: Optional[Callable[[Quiz], Optional[int]]] = None,
) -> dict:
    """Run `drill` (its parameters filled in) on the lab; `hold` and `within` override
    every step's hold and every expectation's bound (the CLI's --hold, --timeout); `ask`
    puts each step's quiz to the trainee before the step (--quiz)."""
    drill = drill.with_params({})  # every "{param}" not yet set: its default
    handle = open_lab(lab, provider)
    ctx, faults = _prepare(handle, provider, drill)
    obs = Observer(lab, handle.hosts, ctx.watch, ctx.stack, ctx.endpoint)
    obs.down = ctx.down
    for f in faults.values():
        f.clear()
    before = obs.snapshot()
    whole, seen = before.whole(ctx.endpoint is not None)
    if not whole:
        raise PreflightError(
            f"lab {lab} is not whole before the drill: {seen}",
            hint="swarmlab up (or wait for it to settle), then drill",
        )
    say(f"before: {seen}")
    tl = Timeline(obs, before, say, [THROUGHOUT.make(k, p, ctx) for k, p in drill.throughout])
    watcher = DataPathWatcher(obs, tl.on_flow)
    checks: List[CheckResult] = []
    applied: List[Fault] = []
    opt = Options(hold, within, ask)
    try:
        watcher.start()
        for i, step in enumerate(drill.steps):
            checks += _step(tl, ctx, step, faults.get(i), applied, opt, i)
        tl.judging = False
    finally:
        watcher.stop.set()
        tl.phase = "end"
        _heal_left(applied, say)
        if watcher.is_alive():
            watcher.join(timeout=15)  # its requests time out in 8 s
    checks += tl.verdicts()
    counts: Dict[str, Any] = {s: sum(c.state == s for c in checks) for s in ("passed", "failed", "unsupported")}
    if opt.quiz:
        counts["quiz"] = f"{sum(q['correct'] for q in opt.quiz)}/{len(opt.quiz)}"
    return {
        "lab": lab,
        "drill": drill.id,
        "title": drill.text(drill.title),
        "params": drill.params,
        "watched_from": ctx.watch.name,
        "before": before.lines(),
        "timeline": tl.events,
        "checks": [c.as_dict() for c in checks],
        "score": counts,
        "quiz": opt.quiz,
        "passed": counts["failed"] == 0,
        "seconds": round(time.monotonic() - tl.t0, 1),
    }


def _heal_left(applied: List[Fault], say: Say) -> None:
    """Every fault still in place healed, the last first; one that fails does not stop the others."""
    failed = []
    for f in reversed(applied):
        try:
            what = f.heal()
            if what:
                say(f"healed at the end: {what}")
        except Exception as exc:  # the others are still healed; the first failure is raised after
            failed.append(exc)
    if failed:
        raise failed[0]


def _prepare(handle: Lab, provider: Provider, drill: Drill) -> Tuple[Ctx, Dict[int, Fault]]:
    """Every node the drill names is in the lab, the lab has what it needs, a manager to
    watch from that no fault touches; each fault checked (every problem at once)."""
    hosts = {h.name: h for h in handle.hosts}
    names = ", ".join(hosts)
    problems = [
        Problem(HERE, where, f"no node {node!r} in this lab: one of {names}")
        for where, node in drill.nodes()
        if node not in hosts
    ]
    if problems:
        raise ConfigError(problems, what="the drill's nodes")
    managers = [h for h in handle.running if h.role == "manager"]
    for what, have in (("managers", len(managers)), ("nodes", len(handle.running))):
        if drill.needs.get(what, 0) > have:
            raise PreflightError(
                f"drill {drill.id} needs {drill.needs[what]} running {what}; lab {handle.name} has {have}",
                hint=f"swarmlab up --name NEW --{what} {drill.needs[what]}",
            )
    if not managers:
        raise PreflightError(
            f"no manager of lab {handle.name} is running: a drill watches from one",
            hint=f"swarmlab up --name {handle.name}",
        )
    ctx = Ctx(provider, handle.name, hosts, managers[0], "", lambda: handle.caps)
    faults = {i: FAULTS[s.fault[0]](ctx, s.fault[1]) for i, s in enumerate(drill.steps) if s.fault}
    ctx.watch = _watch_from(managers, faults.values())
    ctx.stack, ctx.endpoint = _stack_and_endpoint(handle, ctx.watch)
    for f in faults.values():
        f.preflight()
    return ctx, faults


def _watch_from(managers: List[Host], faults) -> Host:
    """A running manager no fault names; else one no fault takes away."""
    named = {f.p.get(k) for f in faults for k in ("node", "peer")}
    gone = {n for f in faults for n in f.broken()}
    free = [m for m in managers if m.name not in named] or [m for m in managers if m.name not in gone]
    if free:
        return free[0]
    if managers and gone:
        who = ", ".join(sorted(gone))
        raise PreflightError(
            f"{who} {'is' if len(gone) == 1 else 'are'} the lab's only manager"
            f"{'' if len(managers) == 1 else 's'}: with it killed nothing is left to reschedule "
            "or to watch from",
            hint="kill a worker, or bring the lab up with --managers 3 and kill one",
        )
    raise PreflightError("no manager of this lab is running", hint="swarmlab up to bring it back")


@dataclass
class Options:
    hold: Optional[float] = None  # every step's hold, instead of the file's
    within: Optional[float] = None  # every expectation's bound, instead of the file's
    ask: Optional[Callable[[Quiz], Optional[int]]] = None  # --quiz: the trainee's pick, before the step
    quiz: List[dict] = field(default_factory=list)  # each question: picked, what held, right


def _step(
    tl: Timeline, ctx: Ctx, step, fault: Optional[Fault], applied: List[Fault], opt: Options, i: int
) -> List[CheckResult]:
    checks: List[CheckResult] = []
    tl.phase = "break" if fault else "heal" if step.heal else f"step {i + 1}"
    if step.wait:
        tl.watch(step.wait)
    picked = opt.ask(step.quiz) if opt.ask and step.quiz else None
    t = time.monotonic()
    if fault:
        applied.append(fault)
        tl.event(fault.inject(), at=t)
        tl.judging = True
        checks += fault.notes
        for note in fault.notes:
            tl.event(f"{note.name}: {note.observed}")
    if step.heal:
        for f in list(reversed(applied)) if step.heal == "all" else applied[-1:]:
            what = f.heal()
            applied.remove(f)
            if what:
                tl.event(f"{what} (took {time.monotonic() - t:.1f} s)")
    last = fault or (applied[-1] if applied else None)
    exps = [DRILL_CHECKS.make(k, p, ctx, last) for k, p in step.expect]
    whens = [DRILL_CHECKS.make(k, p, ctx, last) for _, (k, p) in step.quiz.choices] if step.quiz else []
    for e in exps:
        e.within = opt.within if opt.within is not None else e.within
    checks += _with_flow(tl, exps, _await(tl, exps, t))
    if step.quiz:  # judged once the step's expectations are settled, each within its own bound from then
        opt.quiz.append(_scored(i, step.quiz, picked, _await(tl, whens, time.monotonic())))
    wait = opt.hold if opt.hold is not None and step.hold else step.hold
    if wait:
        tl.watch(wait)
        if fault and ctx.endpoint is not None:
            # asked afresh: the watcher's latest answer may predate the fault on a slow machine
            checks.append(_during_check(tl.with_flow(tl.swarm_now(), fresh=True)))
    return checks


def _scored(i: int, quiz: Quiz, picked: Optional[int], held: List[CheckResult]) -> dict:
    """The question, the pick, and what the lab showed for each choice."""
    right = [n for n, r in enumerate(held) if r.passed]
    return {
        "step": i + 1,
        "question": quiz.question,
        "picked": picked,
        "right": right,
        "choices": [
            {"text": text, "held": r.passed, "observed": r.observed} for (text, _), r in zip(quiz.choices, held)
        ],
        "correct": picked is not None and picked in right,
    }


def _await(tl: Timeline, exps: List[Check], t: float) -> List[CheckResult]:
    """Poll every expectation until each holds or its bound (from `t`) runs out."""
    results: Dict[int, CheckResult] = {}
    seen: Dict[int, str] = {}
    while len(results) < len(exps):
        snap = tl.swarm_now()
        for i, e in enumerate(exps):
            if i in results:
                continue
            ok, seen[i] = _check(tl, e, snap)
            at = round(time.monotonic() - t, 1)
            if ok:
                results[i] = CheckResult(e.name(), True, e.expected(), f"after {at} s: {seen[i]}", duration=at)
                tl.event(f"{e.name()}: held after {at} s")
            elif at >= e.within:
                results[i] = CheckResult(
                    e.name(), False, e.expected(), f"not within {e.within:g} s; last seen: {seen[i]}", duration=at
                )
                tl.event(f"{e.name()}: not within {e.within:g} s")
        if len(results) < len(exps):
            time.sleep(POLL)
    return [results[i] for i in range(len(exps))]


def _with_flow(tl: Timeline, exps: List[Check], results: List[CheckResult]) -> List[CheckResult]:
    """The results, and the flow checks once the lab is whole again (cache, cross-host)."""
    out = list(results)
    for e, r in zip(exps, results):
        if isinstance(e, Whole) and r.passed and e.ctx.endpoint is not None:
            out += flow_checks(tl.obs.targets(tl.obs.swarm()))
    return out


def _check(tl: Timeline, e: Check, snap: Snapshot) -> Tuple[bool, str]:
    ok, seen = e.judge(snap)
    if ok and isinstance(e, Whole) and e.ctx.endpoint is not None:  # asked afresh before it counts
        ok, seen = e.judge(tl.with_flow(snap, fresh=True))
    return ok, seen


def _during_check(snap: Snapshot) -> CheckResult:
    """What still answered while broken: an observation for the record, never a failure."""
    observed = (
        "; ".join(f"via {n}: {v}" for n, v in sorted(snap.flow.items())) or "no endpoint of the published port left"
    )
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

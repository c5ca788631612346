"""`swarmlab lesson`: lessons and troubleshooting exercises graded on evidence from the
running lab (issue #15).

start -> the lab as its scenario makes it, with the lesson's setup (the checkpoint) and a
record of the trainee's progress on the lab's swarm; check -> every step graded by what
the lab shows; hint, solution (--apply runs it), reset (back to the checkpoint), progress.
No printing, no exiting: results come back as values, failures as SwarmlabErrors."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from .. import lab as labapi
from .. import labels as L
from ..observe.settle import SETTLED_FOR, settle
from ..config.loader import load_scenario
from ..config.model import Scenario
from ..config.yamlfile import line_of, load
from ..errors import ConfigError, LabNotFound, Problem, SwarmlabError
from ..observe.running import Lab, SwarmReader, open_lab
from ..progress import Say
from ..providers.base import Provider
from ..result import CheckResult
from ..shell import label_filter, sh
from ..transport.group import run_on
from ..observe import topology
from ..observe.gossip import names_known_probe
from ..waiting import poll, until
from ..observe import reads
from . import side_by_side, state
from ..checks import LESSON_CHECKS, Evidence
from .edits import edited_stack
from .model import LANGS, LESSONS_DIR, Lesson, all_lessons, find, load_lesson
from .setup import drop_fault_networks, fault_nodes, fault_services, heal_all, make


def catalogue(lang: str = "en") -> List[dict]:
    return [
        {
            "id": x.id,
            "title": x.text(x.title, lang),
            "type": x.type,
            "minutes": x.minutes,
            "scenario": str(x.scenario),
            "steps": len(x.steps),
            "file": str(x.path),
        }
        for x in all_lessons()
    ]


def start(
    ref: str,
    name: Optional[str],
    provider: Provider,
    lang: str = "en",
    trainee: str = "",
    say: Say = lambda s: None,
    room: str = "",
) -> dict:
    """The lesson's lab at its checkpoint, a fresh progress record, and the brief."""
    started = time.monotonic()
    lesson = find(ref)
    state.shelve(lesson.path, LESSONS_DIR)
    scenario = lesson_scenario(lesson, name, provider)
    handle, services = checkpoint(lesson, scenario, provider, say)
    p = state.Progress(
        scenario.name,
        lesson.id,
        str(lesson.path),
        lang,
        trainee,
        room,
        steps=len(lesson.steps),
        services=services,
    )
    state.write(handle.need_leader(), p)
    return {
        **brief(lesson, lang),
        "lab": scenario.name,
        "trainee": trainee,
        "seconds": round(time.monotonic() - started, 1),
    }


def brief(lesson: Lesson, lang: str) -> dict:
    return {
        "lesson": lesson.id,
        "type": lesson.type,
        "minutes": lesson.minutes,
        "title": lesson.text(lesson.title, lang),
        "brief": lesson.text(lesson.brief, lang),
        "steps": [lesson.text(s.title, lang) for s in lesson.steps],
        "hints": len(lesson.hints),
    }


def lesson_scenario(lesson: Lesson, name: Optional[str], provider: Provider) -> Scenario:
    """The lesson's scenario for this provider, with every node and service the lesson
    names checked against it (all problems at once, in the lesson file)."""
    scenario = provider.nodes_for(load_scenario(lesson.scenario, name=name, own_nodes=provider.sized_by_flags))
    nodes = {n.name for n in scenario.nodes}
    services = set(scenario.stack.get("services") or {})
    found: List[tuple] = []

    def bad(path, msg):
        found.append((path, msg))

    for svc in lesson.stack_edits:
        if svc not in services:
            bad(
                ("setup", "stack", svc),
                f"no service {svc} in {scenario.stack_file}: one of {', '.join(sorted(services))}",
            )
    for i, (kind, params) in enumerate(lesson.faults):
        for node in fault_nodes(kind, params):
            if node not in nodes:
                bad(("setup", "faults", str(i), kind), f"no node {node} in the lab: one of {', '.join(sorted(nodes))}")
        for svc in fault_services(kind, params):
            if svc not in services:
                bad(
                    ("setup", "faults", str(i), kind),
                    f"no service {svc} in {scenario.stack_file}: one of {', '.join(sorted(services))}",
                )
    for i, f in enumerate(lesson.files):
        if f.node not in nodes:
            bad(("setup", "files", str(i), "node"), f"no node {f.node} in the lab: one of {', '.join(sorted(nodes))}")
    for i, cmd in enumerate(lesson.solution):
        if cmd.node and cmd.node not in nodes:
            bad(("solution", str(i), "node"), f"no node {cmd.node} in the lab: one of {', '.join(sorted(nodes))}")
    if found:  # placed at their lines: the file is read again only to say where
        _, lines = load(lesson.path, "lesson file")
        raise ConfigError(
            [Problem(str(lesson.path), ".".join(p), msg, line_of(lines, p)) for p, msg in found], "the lesson"
        )
    return scenario


def checkpoint(lesson: Lesson, scenario: Scenario, provider: Provider, say: Say) -> Tuple[Lab, Dict[str, dict]]:
    """The lab as the scenario makes it, with the lesson's stack edits deployed and its
    faults made: what the trainee starts from, and what a reset goes back to. Whatever a
    previous lesson or the trainee left is undone first (faults healed, what the lesson
    says the trainee creates removed), so `up` converges a lab it can check. Returns the
    lab and the record of its services the next checkpoint compares with."""

    stack, _ = edited_stack(scenario.stack, lesson.stack_edits)
    touched = [s for kind, params in lesson.faults for s in fault_services(kind, params)]
    pending, fresh = _before(scenario, provider, lesson, stack, touched)
    # the services that will change are deployed at 0 replicas, and scaled back once the
    # faults are made: their tasks are replaced side by side (side_by_side's docstring)
    labapi.up(
        replace(scenario, stack=side_by_side.at_zero(stack, fresh)),
        provider,
        say=say,
        steps=labapi.checkpoint(images_for=scenario.stack),
    )
    handle = open_lab(scenario.name, provider)
    manager = handle.need_leader()
    hosts = {h.name: h for h in handle.running}
    drop_fault_networks(manager, keep=[p["network"] for k, p in lesson.faults if k == "encrypted_detour"])
    for kind, params in lesson.faults:
        say(f"setup: {make(kind, params, hosts, manager, scenario.name, scenario.stack_name)}")
    for f in lesson.files:  # written again on a reset: the trainee's edits go
        hosts[f.node].transport.run(
            sh("sh", "-c", 'mkdir -p "$(dirname "$1")" && cat > "$1"', "file", f.path),
            stdin=f.content.encode(),
            timeout=30,
        ).check(f"write {f.path}")
        say(f"setup: {f.path} on {f.node}")
    if fresh:
        say(f"setup: {side_by_side.scale_back(manager, handle.running, scenario.stack_name, stack, fresh)}")
    if fresh or touched:  # a fault's service update is not waited for by the fault
        expected = {f"{scenario.stack_name}_{s}" for s in stack["services"]}
        reader = SwarmReader(scenario.name, manager, handle.running)
        # a scale shows at once in the replica counts; a fault's update starts a moment later
        calm = 0.0 if set(touched) <= set(fresh) else SETTLED_FOR
        say(f"setup: services settled: {settle(reader, expected, scenario.wait.timeout, calm)}")
    for wait in pending:
        say(f"setup: {wait()}")
    say(f"setup: {_names_known(handle, manager, lesson, scenario.stack_name, stack, touched)}")
    live = side_by_side.live_specs(manager, scenario.stack_name, list(stack["services"]))
    return handle, side_by_side.record(stack, live, touched)


def _names_known(handle: Lab, manager, lesson: Lesson, stack_name: str, stack: dict, touched: List[str]) -> str:
    """Wait until every node knows the addresses of the tasks the checkpoint (re)made, but
    those a fault changes or cuts off: a check run at once must not see a replaced task's
    old address. Bounded, and not an error: a check then shows what does not hold."""
    reader = SwarmReader(handle.name, manager, handle.running)
    names = [f"{stack_name}_{s}" for s in stack["services"] if s not in touched]
    cut = {n for kind, params in lesson.faults for n in fault_nodes(kind, params)}
    done, seen, took = until(names_known_probe(reader, names, cut), NAMES_WITHIN, 0.5)
    return f"names {seen} ({took:.1f} s)" if done else f"after {NAMES_WITHIN} s, names {seen}"


def _before(
    scenario: Scenario, provider: Provider, lesson: Lesson, stack: dict, touched: List[str]
) -> Tuple[List[Callable[[], str]], List[str]]:
    """On a lab that exists: the services to replace side by side (asked to stop first, so
    that they stop while the rest is done), then what the trainee left undone (and its waits)."""
    if not provider.exists(scenario.name):  # made now: what a fault changes starts once, changed
        return [], [s for s in dict.fromkeys(touched) if side_by_side.replicas(stack["services"][s]) > 0]
    old = open_lab(scenario.name, provider)
    fresh: List[str] = []
    if old.leader is not None:
        try:
            prev = state.read(old.leader, scenario.name)
        except state.ForgedRecord:  # a new lesson replaces it; what it says of the services is not believed
            prev = None
        live = side_by_side.live_specs(old.leader, scenario.stack_name, list(stack.get("services") or {}))
        # no lesson yet: the lab runs the scenario's own stack, as `up` deployed it
        before = prev.services if prev else side_by_side.record(scenario.stack, live, [])
        fresh = side_by_side.to_replace(stack, before, live, touched)
        side_by_side.stop_now(old.leader, scenario.stack_name, fresh)
    return _clean(old, lesson), fresh


def _clean(handle: Lab, lesson: Lesson) -> List[Callable[[], str]]:
    """Undo what the trainee made; what takes Swarm a while (a stack's network leaving)
    comes back as waits, for the end of the checkpoint."""
    manager = handle.leader
    if manager is None:
        return []  # `up` brings the nodes back first
    heal_all(handle.running, manager)
    made = lesson.creates
    pending = [remove_stack(manager, stack) for stack in made.get("stacks", ())]  # waited for by checkpoint
    if made.get("services"):
        manager.transport.run(["docker", "service", "rm", list(made["services"])], warn=True, timeout=60)
    # containers on every node first: an overlay is removed (on a manager) only once no
    # container on any node is attached to it
    rounds = [
        [sh("docker", "rm", "-f", list(made["containers"])) if made.get("containers") else None],
        [
            sh("docker", "network", "rm", list(made["networks"])) if made.get("networks") else None,
            sh("docker", "volume", "rm", "-f", list(made["volumes"])) if made.get("volumes") else None,
        ],
    ]
    for steps in rounds:
        cmd = "; ".join(f"{s} >/dev/null 2>&1" for s in steps if s)
        if cmd:
            run_on(handle.running, lambda h, c=cmd: h.transport.run(c + "; true", timeout=60, warn=True))
    return pending


def remove_stack(manager, stack: str, within: float = 60) -> Callable[[], str]:
    """`docker stack rm` of a stack a trainee deployed, and the wait until its networks are
    gone too: Swarm keeps a removed stack's network about 14 s here, until every task on it
    has left (a deploy of the same stack then would find it by name and reuse it)."""

    t, flt = manager.transport, label_filter(L.STACK, stack)
    t.run(["docker", "stack", "rm", stack], warn=True, timeout=60)

    def gone():
        services = reads.ids(t, "service", flt)
        networks = reads.ids(t, "network", flt)
        if networks and not services:
            t.run(["docker", "network", "rm", networks], warn=True, timeout=30)
        return not services and not networks, f"stack {stack}: {len(services)} services, {len(networks)} networks left"

    def wait() -> str:
        started = time.monotonic()
        poll(f"stack {stack} to go", gone, within, interval=0.5)
        return f"stack {stack} removed (its networks gone {time.monotonic() - started:.1f}s after the rest)"

    return wait


def _current(name: str, provider: Provider):
    handle = open_lab(name, provider)
    manager = handle.need_leader()
    p = state.read(manager, name)
    if p is None:
        raise SwarmlabError(
            f"no lesson runs in lab {name}",
            exit_code=2,
            hint="swarmlab lesson start ID (swarmlab lesson list shows them)",
        )
    lesson = None
    if state.on_shelf(p.path, LESSONS_DIR):
        try:
            lesson = load_lesson(Path(p.path))
        except ConfigError:
            pass
    lesson = lesson or find(p.lesson)  # moved, or off the shelf: the shipped lesson of that id
    return handle, manager, p, lesson


def check(name: str, provider: Provider) -> dict:
    """Every step graded on what the lab shows now; the record says how far the trainee got."""
    started = time.monotonic()
    handle, manager, p, lesson = _current(name, provider)
    results = grade(handle, lesson, p.lang, p.checkpoint)
    p.checks += 1
    p.passed = [i for i, r in enumerate(results) if r.passed]
    solved = len(p.passed) == len(results)
    if solved and p.solved is None:
        p.solved = time.time()
    state.write(manager, p)
    return {
        "lab": name,
        "lesson": lesson.id,
        "title": lesson.text(lesson.title, p.lang),
        "solved": solved,
        "steps": [r.as_dict() for r in results],
        "passed": len(p.passed),
        "of": len(results),
        "seconds": round(time.monotonic() - started, 1),
    }


def grade(handle: Lab, lesson: Lesson, lang: str, since: float = 0.0) -> List[CheckResult]:
    """Each step's check on evidence read once from the lab, side by side (`since`: when
    the lab was last at the lesson's checkpoint)."""

    ev = Evidence(handle, topology.read(handle, stacks=lesson.creates.get("stacks", ())), since)

    def one(step) -> CheckResult:
        check = LESSON_CHECKS.make(step.kind, step.params)
        try:
            passed, seen = check.judge(ev)
        except SwarmlabError as exc:
            passed, seen = False, f"could not be read: {exc}"
        return CheckResult(lesson.text(step.title, lang), passed, check.expected(), seen)

    with ThreadPoolExecutor(max_workers=len(lesson.steps)) as pool:
        return list(pool.map(one, lesson.steps))


def hint(name: str, provider: Provider) -> dict:
    """The next hint (the record counts them); the last one again once all were given."""
    _, manager, p, lesson = _current(name, provider)
    if not lesson.hints:
        return {"lab": name, "lesson": lesson.id, "hint": None, "number": 0, "of": 0}
    n = min(p.hints + 1, len(lesson.hints))
    p.hints = n
    state.write(manager, p)
    return {
        "lab": name,
        "lesson": lesson.id,
        "hint": lesson.text(lesson.hints[n - 1], p.lang),
        "number": n,
        "of": len(lesson.hints),
    }


def solution(name: str, provider: Provider, apply: bool = False, say: Say = lambda s: None) -> dict:
    """The solution's commands as a trainee types them; with apply, run on their nodes."""
    handle, manager, p, lesson = _current(name, provider)
    words = {
        "stack": (handle.scenario.stack_name if handle.scenario else "app"),
        "publish_mode": "ingress" if all(c.ipvs for c in handle.caps.values()) else "host",
    }
    hosts = {h.name: h for h in handle.running}
    steps = []
    for cmd in lesson.solution:
        node = cmd.node or manager.name
        argv = [w.format(**words) for w in cmd.run]
        step = {"node": node, "argv": argv, "typed": f"swarmlab exec {node} {name} -- {sh(*argv)}"}
        if apply:
            if node not in hosts:
                raise SwarmlabError(f"node {node} is not running: the solution's step cannot run there")
            r = hosts[node].transport.run(argv, warn=True, timeout=300)
            step.update(exited=r.exited, output=(r.stdout + r.stderr).strip()[-400:])
            say(f"{node}: {sh(*argv)} -> exit {r.exited}")
            if not r.ok:
                raise SwarmlabError(
                    f"the solution's step `{sh(*argv)}` on {node} exited {r.exited}: "
                    f"{(r.stderr or r.stdout).strip()[-300:]}"
                )
        steps.append(step)
    if apply:  # until what the commands set off (a task placed, a rolling update) shows
        _until_solved(name, provider, lesson, p.lang, say, p.checkpoint)
    p.solution_shown = True
    state.write(manager, p)
    return {"lab": name, "lesson": lesson.id, "applied": apply, "commands": steps}


NAMES_WITHIN = 30.0  # seconds every node may take to learn a replaced task's address
APPLIED_WITHIN = 90.0  # seconds a solution's effects may take to show (Swarm places a task, rolls one)


def _until_solved(name: str, provider: Provider, lesson: Lesson, lang: str, say: Say, since: float) -> None:
    """Wait for the swarm to settle, then for every step to hold (each round reads the lab
    afresh: a task Swarm places a moment later). Not solved in time is said, not raised:
    the trainer's next `check` shows what does not hold."""

    handle = open_lab(name, provider)  # one handle: each round reads the swarm afresh, not the kernels
    say(f"settled: {settle(handle.swarm, None, APPLIED_WITHIN)}")

    def solved():
        results = grade(handle, lesson, lang, since)
        return all(r.passed for r in results), "; ".join(f"{r.name}: {r.observed}" for r in results if not r.passed)

    done, seen, took = until(solved, APPLIED_WITHIN, 1.0)
    say(f"every step holds after {took:.1f}s" if done else f"not every step holds after {took:.0f}s: {seen}")


def reset(name: str, provider: Provider, say: Say = lambda s: None) -> dict:
    """Back to the checkpoint: the lesson's lab as `start` made it (progress counters kept)."""
    started = time.monotonic()
    _, _, p, lesson = _current(name, provider)
    scenario = lesson_scenario(lesson, name, provider)
    handle, p.services = checkpoint(lesson, scenario, provider, say)
    p.resets += 1
    p.passed = []
    p.checkpoint = time.time()
    state.write(handle.need_leader(), p)
    return {"lab": name, "lesson": lesson.id, "seconds": round(time.monotonic() - started, 1)}


def progress(provider: Provider, name: Optional[str] = None) -> List[dict]:
    """Every lab's lesson record on this provider (or one lab's)."""
    names = [name] if name else [i.name for i in provider.list_labs()]
    out = []
    for lab in names:
        try:
            handle = open_lab(lab, provider)
        except LabNotFound:
            if name:
                raise
            continue  # listed a moment ago, removed since (another session's, a trainer's `down`)
        if handle.leader is None:
            out.append({"lab": lab, "lesson": None, "note": "no manager running: the record cannot be read"})
            continue
        try:
            p = state.read(handle.leader, lab)
        except state.ForgedRecord as exc:
            out.append({"lab": lab, "lesson": None, "note": exc.message})
            continue
        out.append(p.as_dict() if p else {"lab": lab, "lesson": None})
    return out


__all__ = ["catalogue", "start", "check", "hint", "solution", "reset", "progress", "LANGS"]

"""Every shipped lesson on a real 3-node dind lab (issue #15): start -> check fails (it
can) -> solution --apply -> check passes -> reset -> check fails the same way again.

Two labs side by side, each a lane of lessons run one after the other (each start undoes
what the lane's previous lesson left). (Three lanes took as long: 2 cores, and an idle lab's
own health checks cost a third of a core.) A heavy lesson's cycle is mostly Swarm's own timers
(it rolls web or db three times or more: a task stopped waits 2 s for gossip, then the
next), a light one's is CPU (a CLI process per command, `docker exec` for every probe), so
each lane mixes both: the timers of one lane overlap the CPU of the others. Each lesson is
its own test, reading what its lane recorded.

The six heavy lessons are opt-in (`pytest -m lessons_all`, or `-m 'not vagrant'` for every
lesson): with them a fresh-clone CI run took 28 min here (session 15), too near the 30."""
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Set

import pytest

from swarmlab.lessons.model import all_lessons

from ..conftest import labelled, run_cli, run_json

pytestmark = pytest.mark.integration
LABS = ("itest-lesson", "itest-lesson-b")
LAB = LABS[0]
# each of these rolls web (two tasks, one after the other) or db three times or more:
# about 2.5 light lessons' time (bench/RESULTS.md, session 10)
HEAVY = {"published-ports", "detached-service", "drained-node", "wrong-port", "rotated-secret", "encrypted-cache"}


def weight(lesson: str) -> float:
    return 2.5 if lesson in HEAVY else 1.0


def lanes(chosen: Optional[Set[str]] = None) -> List[List[str]]:
    """The lessons (those chosen, or all) dealt to LABS, heaviest first onto the lightest
    lane (so every lane ends about together); LABS[0]'s last lesson is the last file's,
    for the progress test."""
    ids = [x.id for x in all_lessons()]
    last = ids.pop()
    ids = [i for i in ids if chosen is None or i in chosen]
    dealt: List[List[str]] = [[] for _ in LABS]
    load = [weight(last)] + [0.0] * (len(LABS) - 1)
    for lesson in sorted(ids, key=lambda i: i not in HEAVY):
        k = load.index(min(load))
        dealt[k].append(lesson)
        load[k] += weight(lesson)
    out = [_interleaved([i for i in d if i in HEAVY], [i for i in d if i not in HEAVY], k)
           for k, d in enumerate(dealt)]
    out[0].append(last)
    return out


def _interleaved(heavy: List[str], light: List[str], offset: int) -> List[str]:
    """The heavy lessons spread through the light ones, the first after `offset` of them:
    lane k starts its first heavy one k light lessons in, so the lanes take turns."""
    out, light = [], list(light)
    gap = len(light) // max(1, len(heavy))
    take = offset
    for lesson in heavy:
        out += light[:take]
        light = light[take:]
        out.append(lesson)
        take = gap
    return out + light


@pytest.fixture(scope="module")
def lab(engine):
    yield LAB
    for name in LABS:
        proc = run_cli("down", name)
        assert proc.returncode == 0, proc.stderr
        assert labelled(engine, name) == {"containers": [], "networks": [], "volumes": []}


@pytest.fixture(scope="module")
def cycled(lab, request) -> Dict[str, dict]:
    """Every lane run on its lab, side by side: per lesson, its lab, seconds, and what
    failed (None when its whole cycle held). Only the lessons whose test was selected run
    (the heavy ones are opt-in)."""
    chosen = {item.callspec.params["lesson"] for item in request.session.items
              if item.originalname == "test_the_lesson_goes_from_its_start_to_solved_and_back"}
    done: Dict[str, dict] = {}

    def lane(name, lessons):
        for lesson in lessons:
            started = time.monotonic()
            try:
                cycle(lesson, name)
                failed = None
            except Exception as exc:   # an assertion, or a command that timed out
                failed = f"{type(exc).__name__}: {exc}"
            done[lesson] = {"lab": name, "seconds": round(time.monotonic() - started, 1), "failed": failed}

    with ThreadPoolExecutor(max_workers=len(LABS)) as pool:
        list(pool.map(lane, LABS, lanes(chosen)))
    print("\n".join(f"lesson {k}: {v['seconds']} s on {v['lab']}" for k, v in done.items()))
    return done


def failing(doc):
    return sorted(s["name"] for s in doc["data"]["steps"] if s["status"] != "passed")


def cycle(lesson: str, lab: str) -> None:
    proc, doc = run_json("lesson", "start", lesson, lab, "--trainee", "ci")
    assert proc.returncode == 0, proc.stderr
    assert doc["data"]["lab"] == lab and doc["data"]["steps"]
    proc, before = run_json("lesson", "check", lab)
    assert proc.returncode == 1 and not before["ok"], before
    assert failing(before), before
    proc, doc = run_json("lesson", "solution", lab, "--apply")
    assert proc.returncode == 0, proc.stderr
    proc, after = run_json("lesson", "check", lab)
    assert proc.returncode == 0 and after["data"]["solved"], after["data"]["steps"]
    proc, doc = run_json("lesson", "reset", lab)
    assert proc.returncode == 0, proc.stderr
    proc, again = run_json("lesson", "check", lab)
    assert proc.returncode == 1 and failing(again) == failing(before), again["data"]["steps"]


def test_the_lanes_hold_every_lesson_once():
    dealt = lanes()
    ids = [x.id for x in all_lessons()]
    assert sorted(sum(dealt, [])) == sorted(ids) and dealt[0][-1] == ids[-1]
    assert [sum(i in HEAVY for i in d) for d in dealt] == [len(HEAVY) // len(LABS)] * len(LABS), dealt


@pytest.mark.parametrize("lesson", [pytest.param(x.id, marks=[pytest.mark.lessons_all] if x.id in HEAVY else [])
                                    for x in all_lessons()])
def test_the_lesson_goes_from_its_start_to_solved_and_back(cycled, lesson):
    result = cycled[lesson]
    assert result["failed"] is None, f"{lesson} on {result['lab']}: {result['failed']}"


def test_the_labs_made_at_the_same_moment_have_their_own_pools(cycled):
    """The lanes made their labs at once: each chose the first free /16, the engine's IPAM
    refused all but one underlay, and the others took the next pools."""
    proc, doc = run_json("ls")
    pools = {x["name"]: x["pool"] for x in doc["data"] if x["name"] in LABS}
    assert set(pools) == set(LABS) and len(set(pools.values())) == len(LABS), pools


def test_progress_counts_hints_checks_and_resets(cycled):
    """On the lab the last lesson above left: started, checked three times, solved once, reset once."""
    last = all_lessons()[-1]
    first = run_json("lesson", "hint", LAB)[1]["data"]
    assert (first["number"], first["hint"]) == (1, last.hints[0]["en"])
    proc, doc = run_json("lesson", "progress", LAB)
    assert proc.returncode == 0, proc.stderr
    (row,) = doc["data"]
    assert (row["trainee"], row["lesson"], row["hints"], row["checks"], row["resets"], row["passed"]) == \
        ("ci", last.id, 1, 3, 1, [])
    assert row["solved"] is not None and row["solution_shown"]
    shown = run_cli("lesson", "progress")
    assert "ci" in shown.stdout and last.id in shown.stdout
    french = run_cli("lesson", "list", "--lang", "fr")
    assert last.title["fr"][:40] in french.stdout.replace("\n", " ") or last.id in french.stdout


def test_exec_runs_on_a_node_with_its_exit_code(cycled):
    proc = run_cli("exec", "node-2", LAB, "--", "docker", "info", "--format", "{{.Swarm.NodeAddr}}")
    assert proc.returncode == 0 and proc.stdout.strip(), proc.stderr
    proc = run_cli("exec", "node-1", LAB, "--", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (proc.returncode, proc.stdout, proc.stderr) == (3, "out\n", "err\n")


def test_hostile_or_unknown_names_change_nothing(cycled, tmp_path):
    marker = tmp_path / "p"
    for args in (["exec", f"node-1;touch {marker}", LAB, "--", "true"],
                 ["lesson", "start", f"x;touch {marker}", LAB],
                 ["exec", "node-9", LAB, "--", "true"]):
        proc = run_cli(*args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
    assert not marker.exists()
    proc = run_cli("lesson", "check", "itest-nolab")
    assert proc.returncode != 0 and "itest-nolab" in proc.stderr

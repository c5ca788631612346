"""Every shipped lesson on a real 3-node dind lab (issue #15): start -> check fails (it
can) -> solution --apply -> check passes -> reset -> check fails the same way again.

Two labs, two lessons at a time: a lesson's cycle is mostly Swarm's own timers (a task
stopped waits 2 s for gossip, a health check answers after its interval), not CPU, so
two labs side by side take little longer than one. On each lab, each start undoes what
the previous lesson left.

The lessons that roll web or db three times or more (HEAVY, about 5 minutes more on two
labs) are opt-in, `pytest -m lessons_all`: with them the whole run here took 30 minutes,
the CI budget."""
from concurrent.futures import ThreadPoolExecutor

import pytest

from swarmlab.lessons.model import all_lessons

from ..conftest import labelled, run_cli, run_json

pytestmark = pytest.mark.integration
LABS = ("itest-lesson", "itest-lesson-b")
LAB = LABS[0]
# each of these rolls web (two tasks, one after the other) or db three times or more
HEAVY = {"published-ports", "detached-service", "drained-node", "wrong-port", "rotated-secret", "encrypted-cache"}


def _pairs():
    """The lessons two by two, those of about the same length together (a pair takes as
    long as its longer lesson); the last of LABS[0]'s lessons is the last file's."""
    ids = [x.id for x in all_lessons()]
    last = ids.pop()
    ids.sort(key=lambda i: i not in HEAVY)
    pairs = [tuple(ids[i:i + 2]) for i in range(0, len(ids), 2)]
    pairs = pairs[:-1] + [(last, pairs[-1][0])] if len(pairs[-1]) == 1 else pairs + [(last,)]
    return [pytest.param(p, marks=[pytest.mark.lessons_all] if set(p) & HEAVY else []) for p in pairs]


@pytest.fixture(scope="module")
def lab(engine):
    yield LAB
    for name in LABS:
        proc = run_cli("down", name)
        assert proc.returncode == 0, proc.stderr
        assert labelled(engine, name) == {"containers": [], "networks": [], "volumes": []}


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


@pytest.mark.parametrize("pair", _pairs(), ids="+".join)
def test_lessons_go_from_their_start_to_solved_and_back(lab, pair):
    def one(lesson, name):
        try:
            cycle(lesson, name)
        except AssertionError as exc:
            return f"{lesson} on {name}: {exc}"

    with ThreadPoolExecutor(max_workers=2) as pool:
        failed = [f for f in pool.map(one, pair, LABS) if f]
    assert not failed, "\n".join(failed)


def test_the_two_labs_made_at_the_same_moment_have_their_own_pools(lab):
    """The first pair made both labs at once: both chose the first free /16, the engine's
    IPAM refused the second underlay, and that lab took the next pool."""
    proc, doc = run_json("ls")
    pools = {x["name"]: x["pool"] for x in doc["data"] if x["name"] in LABS}
    assert set(pools) == set(LABS) and len(set(pools.values())) == 2, pools


def test_progress_counts_hints_checks_and_resets(lab):
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


def test_exec_runs_on_a_node_with_its_exit_code(lab):
    proc = run_cli("exec", "node-2", LAB, "--", "docker", "info", "--format", "{{.Swarm.NodeAddr}}")
    assert proc.returncode == 0 and proc.stdout.strip(), proc.stderr
    proc = run_cli("exec", "node-1", LAB, "--", "sh", "-c", "echo out; echo err >&2; exit 3")
    assert (proc.returncode, proc.stdout, proc.stderr) == (3, "out\n", "err\n")


def test_hostile_or_unknown_names_change_nothing(lab, tmp_path):
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

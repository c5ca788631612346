"""Every shipped lesson on a real 3-node dind lab (issue #15): start -> check fails (it
can) -> solution --apply -> check passes -> reset -> check fails the same way again. One
lab for all of them: each start undoes what the previous lesson left.

The default run takes the lessons that cover every kind of setup (containers the trainee
makes, a stack edit, a fault on a node); the ones that roll web several times more (about
4 min) are opt-in, `pytest -m lessons_all`, so the whole CI run stays under 30 minutes."""
import pytest

from swarmlab.lessons.model import all_lessons

from ..conftest import labelled, run_cli, run_json

pytestmark = pytest.mark.integration
LAB = "itest-lesson"


@pytest.fixture(scope="module")
def lab(engine):
    yield LAB
    proc = run_cli("down", LAB)
    assert proc.returncode == 0, proc.stderr
    assert labelled(engine, LAB) == {"containers": [], "networks": [], "volumes": []}


def failing(doc):
    return sorted(s["name"] for s in doc["data"]["steps"] if s["status"] != "passed")


# each of these rolls web (two tasks, one after the other) or db up to three times
HEAVY = {"published-ports", "detached-service", "drained-node", "wrong-port", "rotated-secret"}


@pytest.mark.parametrize("lesson", [pytest.param(x.id, marks=[pytest.mark.lessons_all] if x.id in HEAVY else [])
                                    for x in all_lessons()])
def test_a_lesson_goes_from_its_start_to_solved_and_back(lab, lesson):
    proc, doc = run_json("lesson", "start", lesson, LAB, "--trainee", "ci")
    assert proc.returncode == 0, proc.stderr
    assert doc["data"]["lab"] == LAB and doc["data"]["steps"]
    proc, before = run_json("lesson", "check", LAB)
    assert proc.returncode == 1 and not before["ok"], before
    assert failing(before), before
    proc, doc = run_json("lesson", "solution", LAB, "--apply")
    assert proc.returncode == 0, proc.stderr
    proc, after = run_json("lesson", "check", LAB)
    assert proc.returncode == 0 and after["data"]["solved"], after["data"]["steps"]
    proc, doc = run_json("lesson", "reset", LAB)
    assert proc.returncode == 0, proc.stderr
    proc, again = run_json("lesson", "check", LAB)
    assert proc.returncode == 1 and failing(again) == failing(before), again["data"]["steps"]


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

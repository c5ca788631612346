"""Every shipped lesson on a real 3-node dind lab (issue #15): start -> check fails (it
can) -> solution --apply -> check passes -> reset -> check fails the same way again.

Two labs side by side, each a lane of lessons run one after the other (each start undoes
what the lane's previous lesson left). (Three lanes took as long: 2 cores, and an idle lab's
own health checks cost a third of a core.) A long lesson's cycle is mostly Swarm's own timers
(it rolls web or db three times or more: a task stopped waits 2 s for gossip, then the
next), a short one's is CPU (a CLI process per command, a node command per probe), so
each lane mixes both: the timers of one lane overlap the CPU of the others. Each lesson is
its own test, reading what its lane recorded. Every lesson runs by default: 418 s for the
18 here since node commands enter the nodes directly (561 s through `docker exec`)."""
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Set

import pytest

from swarmlab.lessons.model import all_lessons

from ..conftest import P, labelled, run_cli, run_json

pytestmark = pytest.mark.integration
LABS = (f"{P}-lesson", f"{P}-lesson-b")
LAB = LABS[0]
# seconds of each lesson's cycle on its lane (session 17, every lesson in two lanes): what
# the lanes are balanced on. Those past a minute are mostly Swarm's own timers (web or db
# rolled three times, gossip settling), the others CPU (a CLI process per command, a node
# command per probe), so each lane spreads its long ones through its short ones.
SECONDS = {"namespaces": 30, "default-bridge": 34, "user-network": 21, "published-ports": 30,
           "names-not-addresses": 41, "stack-file": 37, "flow": 37, "volumes": 24, "overlay-across-hosts": 19,
           "detached-service": 63, "drained-node": 29, "wrong-port": 61, "rotated-secret": 59, "mtu-path": 27,
           "encrypted-cache": 98, "impossible-constraint": 28, "vxlan-blocked": 26,
           # and the next lesson's start waits for the healed node's tasks to be known again (30-50 s)
           "gossip-blocked": 68 + 40}
LONG = 55


def weight(lesson: str) -> float:
    return SECONDS.get(lesson, 35)


def lanes(chosen: Optional[Set[str]] = None) -> List[List[str]]:
    """The lessons (those chosen, or all) dealt to LABS, longest first onto the lightest
    lane (so every lane ends about together); LABS[0]'s last lesson is the last file's,
    for the progress test."""
    ids = [x.id for x in all_lessons()]
    last = ids.pop()
    ids = [i for i in ids if chosen is None or i in chosen]
    dealt: List[List[str]] = [[] for _ in LABS]
    load = [weight(last)] + [0.0] * (len(LABS) - 1)
    for lesson in sorted(ids, key=weight, reverse=True):
        k = load.index(min(load))
        dealt[k].append(lesson)
        load[k] += weight(lesson)
    out = [_interleaved([i for i in d if weight(i) >= LONG], [i for i in d if weight(i) < LONG], k)
           for k, d in enumerate(dealt)]
    out[0].append(last)
    return out


def _interleaved(heavy: List[str], light: List[str], offset: int) -> List[str]:
    """The long lessons spread through the short ones, the first after `offset` of them:
    lane k starts its first long one k short lessons in, so the lanes take turns."""
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
    failed (None when its whole cycle held). Only the lessons whose test was selected run."""
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


def said(doc) -> str:
    """Each step, its status and what was seen: short enough to reach the CI log whole."""
    return "\n".join(f"{s['status']}: {s['name']}: {s.get('observed') or ''}"[:300]
                     for s in doc["data"]["steps"])


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
    assert proc.returncode == 0 and after["data"]["solved"], said(after)
    proc, doc = run_json("lesson", "reset", lab)
    assert proc.returncode == 0, proc.stderr
    proc, again = run_json("lesson", "check", lab)
    assert proc.returncode == 1 and failing(again) == failing(before), \
        f"at the start:\n{said(before)}\nafter the reset:\n{said(again)}"


def test_the_lanes_hold_every_lesson_once_and_end_about_together():
    dealt = lanes()
    ids = [x.id for x in all_lessons()]
    assert sorted(sum(dealt, [])) == sorted(ids) and dealt[0][-1] == ids[-1]
    loads = [sum(map(weight, d)) for d in dealt]
    assert max(loads) - min(loads) <= max(map(weight, ids)), (loads, dealt)


@pytest.mark.parametrize("lesson", [x.id for x in all_lessons()])
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


def test_a_record_edited_on_the_swarm_is_refused_and_the_signed_one_holds_again(cycled):
    """The trainee has the swarm: a record marked solved by hand is refused, not graded."""
    import base64
    import json as _json

    from swarmlab import labels as L
    from swarmlab.lessons.state import ROLE, config_name

    def on_node(*argv, stdin=b""):
        proc = subprocess.run(["docker", "exec", "-i", f"swarmlab-{LAB}-node-1", *argv], input=stdin,
                              capture_output=True, timeout=60)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    name = config_name(LAB)
    signed = base64.b64decode(_json.loads(on_node("docker", "config", "inspect", name))[0]["Spec"]["Data"])
    doc = _json.loads(signed)
    record = _json.loads(doc["record"])
    doc["record"] = _json.dumps({**record, "passed": list(range(record["steps"])), "solved": 1.0}, sort_keys=True)
    create = ["docker", "config", "create", "--label", f"{L.LAB}={LAB}", "--label", f"{L.ROLE}={ROLE}", name, "-"]
    on_node("docker", "config", "rm", name)
    on_node(*create, stdin=_json.dumps(doc).encode())
    try:
        proc = run_cli("lesson", "check", LAB)
        assert proc.returncode == 2 and "signature does not match" in proc.stderr, (proc.stdout, proc.stderr)
        proc, rows = run_json("lesson", "progress", LAB)
        assert rows["data"][0]["lesson"] is None and "refused" in rows["data"][0]["note"]
    finally:
        on_node("docker", "config", "rm", name)
        on_node(*create, stdin=signed)
    proc, rows = run_json("lesson", "progress", LAB)
    assert rows["data"][0]["lesson"] == record["lesson"]


def test_hostile_or_unknown_names_change_nothing(cycled, tmp_path):
    marker = tmp_path / "p"
    for args in (["exec", f"node-1;touch {marker}", LAB, "--", "true"],
                 ["lesson", "start", f"x;touch {marker}", LAB],
                 ["exec", "node-9", LAB, "--", "true"]):
        proc = run_cli(*args)
        assert proc.returncode == 2, (args, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr
    assert not marker.exists()
    proc = run_cli("lesson", "check", f"{P}-nolab")
    assert proc.returncode != 0 and f"{P}-nolab" in proc.stderr

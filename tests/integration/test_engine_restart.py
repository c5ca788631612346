"""A lab comes back by itself after the host's engine restarts (issue #17): its nodes, its
swarm, its tasks and its data, with no swarmlab command. The test holds the engine alone
(tests/sessions.py); with lanes it runs in the VM tests' lane (tests/conftest.py)."""
import secrets
import time

import pytest

from ..conftest import P, run_cli, run_json
from . import labs
from .engine_restart import restart_engine, why_not_restartable

pytestmark = pytest.mark.integration
LAB = f"{P}-rst"


def whole_labs_beside() -> list:
    """The other labs on the engine that are whole now: those of another test session
    running beside this one, or a user's."""
    proc, doc = run_json("ls")
    assert proc.returncode == 0, proc.stderr
    return [x["name"] for x in doc["data"] if x["name"] != LAB and run_json("status", x["name"])[1]["data"].get("whole")]


@pytest.fixture
def lab(engine):
    yield labs.ensure_up(engine, {}, LAB)
    proc = run_cli("down", LAB)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.engine_alone
@pytest.mark.skipif(why_not_restartable() is not None, reason=f"engine restart: {why_not_restartable()}")
def test_the_lab_comes_back_by_itself_after_an_engine_restart(engine, lab):
    """No test of another session runs meanwhile (engine_alone), but its labs stay up: each
    one whole before the restart must be whole again after it."""
    token = secrets.token_hex(8)
    code, out = labs.db_sql(engine, LAB, f"CREATE TABLE IF NOT EXISTS kept (v text); INSERT INTO kept VALUES ('{token}')")
    assert code == 0, out
    beside = whole_labs_beside()
    restart_engine()
    started = time.monotonic()
    seen = labs.wait_whole(LAB)        # no swarmlab command brings it back: the engine and the swarm do
    back = time.monotonic() - started
    proc, doc = run_json("verify", LAB)
    assert proc.returncode == 0, [c for c in doc["data"]["checks"] if c["status"] == "failed"]
    code, out = labs.db_sql(engine, LAB, "SELECT v FROM kept")
    assert code == 0 and token in out, out
    print(f"whole {back:.1f}s after the engine answered; not whole on the way: "
          f"{[r.get('lacking') for r in seen if not r.get('whole')][:3]}; back beside it: {beside}")
    for other in beside:
        labs.wait_whole(other)

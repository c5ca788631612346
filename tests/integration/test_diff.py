"""`swarmlab diff`: two labs made from one scenario are the same; one changed by hand (a
node label, a scale, an added constraint, an environment variable holding a password)
differs exactly there, and the password's value is never shown."""
import pytest

from ..conftest import run_cli, run_json
from .labs import node_exec

pytestmark = pytest.mark.integration
PLANTED = "planted-pw-7Qx2"   # a value that must never leave the lab


@pytest.fixture(scope="module")
def two_labs():
    from ..conftest import P

    labs = (f"{P}-dfa", f"{P}-dfb")
    try:
        for lab in labs:
            proc, doc = run_json("up", "--name", lab)
            assert proc.returncode == 0 and doc["ok"], proc.stderr
        yield labs
    finally:
        for lab in labs:
            run_cli("down", lab)


def test_two_labs_from_one_scenario_do_not_differ(two_labs):
    a, b = two_labs
    proc = run_cli("diff", a, b)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"labs {a} and {b}: no difference" in proc.stdout
    proc, doc = run_json("diff", a, b)
    assert proc.returncode == 0 and doc["ok"] is True and doc["data"]["differences"] == []


def test_a_lab_changed_by_hand_differs_where_it_was_changed(engine, two_labs):
    a, b = two_labs
    changes = [
        "docker node update --label-add tier=edge node-2",
        "docker service scale --detach app_web=3",
        "docker service update --detach --constraint-add node.hostname!=node-1 app_redis",
        f"docker service update --detach --env-add DB_PASSWORD={PLANTED} app_db",
    ]
    for cmd in changes:
        code, out = node_exec(engine, b, "node-1", cmd)
        assert code == 0, out
    proc, doc = run_json("diff", a, b)
    assert proc.returncode == 1 and doc["ok"] is False
    found = {d["path"]: (d["a"], d["b"]) for d in doc["data"]["differences"]}
    assert found["nodes.node-2.labels.tier"] == ("app", "edge")
    assert found["services.web.replicas"] == (2, 3)
    assert "node.hostname!=node-1" in found["services.redis.constraints"][1]
    assert found["services.db.env.DB_PASSWORD"] == ("(absent)", "set")
    text = run_cli("diff", a, b)
    assert text.returncode == 1 and "services.web.replicas: 2 (" in text.stdout
    for said in (proc.stdout, proc.stderr, text.stdout, text.stderr):
        assert PLANTED not in said

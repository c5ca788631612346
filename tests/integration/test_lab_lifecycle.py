"""A lab failing and what is left of it, verify catching a lab gone wrong, a stopped lab
resumed with its data, and `down` leaving nothing: each on this module's own lab."""
import os
import secrets
import signal
import time

import pytest

from swarmlab import labels as L
from swarmlab.providers.dind import DindProvider

from ..conftest import P, cgroups, labelled, run_cli, run_json
from . import labs

pytestmark = pytest.mark.integration
LAB = f"{P}-life"


@pytest.fixture(scope="module")
def shared_lab():
    return {}


@pytest.fixture
def lab_up(engine, shared_lab):
    return labs.ensure_up(engine, shared_lab, LAB)


def node_exec(engine, node, cmd):
    return labs.node_exec(engine, LAB, node, cmd)


def db_sql(engine, sql):
    return labs.db_sql(engine, LAB, sql)


def test_failure_mid_up_rolls_back(engine):
    proc, doc = run_json("up", "tests/data/deploy-fails.yaml", "--name", f"{P}-fail")
    assert proc.returncode != 0
    assert "never-created" in doc["errors"][0]
    assert "removing what this run created" in proc.stderr
    assert labelled(engine, f"{P}-fail") == {"containers": [], "networks": [], "volumes": []}
    assert not cgroups(f"swarmlab-{P}-fail-*")


def test_failure_with_retain_keeps_the_lab_for_inspection(engine):
    proc = run_cli("up", "tests/data/deploy-fails.yaml", "--name", f"{P}-fail", "--retain")
    assert proc.returncode != 0 and "--retain" in proc.stderr
    assert labelled(engine, f"{P}-fail")["containers"] == [f"swarmlab-{P}-fail-node-1"]
    proc = run_cli("down", f"{P}-fail")
    assert proc.returncode == 0
    assert labelled(engine, f"{P}-fail") == {"containers": [], "networks": [], "volumes": []}


def test_verify_timeout_says_what_it_last_saw(engine, lab_up):
    import threading

    from swarmlab import verify

    threads = threading.active_count()
    report = verify.run(LAB, DindProvider(engine), timeout=1.0, only=["reachability"])
    assert [c["name"] for c in report["checks"]] == ["reachability"] and report["passed"] is False
    observed = report["checks"][0]["observed"]
    # what it was doing, where: a command in a task (app_...) or in the outsider probe, on a node
    assert observed.startswith("timed out; last seen: ") and " on node-" in observed, observed
    assert "app_" in observed or "swarmlab-probe-" in observed, observed
    deadline = time.monotonic() + 60  # the abandoned check finishes on its own (bounded commands)
    while threading.active_count() > threads and time.monotonic() < deadline:
        time.sleep(0.5)
    assert threading.active_count() <= threads


def test_verify_catches_a_stopped_node(engine, lab_up):
    engine.containers.get(f"swarmlab-{LAB}-node-2").kill()
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        code, out = node_exec(engine, "node-1", "docker node inspect --format '{{.Status.State}}' node-2")
        if out.strip() == "down":
            break
        time.sleep(1)
    assert out.strip() == "down", out
    proc, doc = run_json("verify", LAB)
    assert proc.returncode == 1
    failed = {c["name"]: c for c in doc["data"]["checks"] if c["status"] == "failed"}
    assert "node-2" in failed["swarm: nodes"]["observed"]
    assert failed["swarm: app_web"]["observed"].startswith("1 running")
    proc, doc = run_json("up", "--name", LAB)  # starts node-2 again; swarm puts web back on it
    assert proc.returncode == 0, proc.stderr
    proc, doc = run_json("verify", LAB)
    assert proc.returncode == 0, [c for c in doc["data"]["checks"] if c["status"] == "failed"]


def test_verify_catches_a_service_moved_off_its_network(engine, lab_up):
    code, out = node_exec(engine, "node-1", "docker service update -q --network-rm backend app_redis")
    assert code == 0, out
    proc, doc = run_json("verify", LAB)
    assert proc.returncode == 1 and doc["data"], doc
    failed = {c["name"]: c for c in doc["data"]["checks"] if c["status"] == "failed"}
    assert "reach web -> redis" in failed, {k: v["observed"] for k, v in failed.items()}
    assert "expected-open-but-blocked" in failed["reach web -> redis"]["observed"]
    assert "dns from web" in failed and "redis" in failed["dns from web"]["observed"]
    assert "reach web -> db" not in failed and "wire: frontend" not in failed, {k: v["observed"] for k, v in failed.items()}
    proc, doc = run_json("up", "--name", LAB)  # converging puts it back
    assert proc.returncode == 0, proc.stderr
    proc, doc = run_json("verify", LAB)
    assert proc.returncode == 0, [c for c in doc["data"]["checks"] if c["status"] == "failed"]


def test_up_resumes_a_stopped_lab_with_its_data(engine, lab_up):
    token = secrets.token_hex(8)
    code, out = db_sql(engine, f"CREATE TABLE IF NOT EXISTS kept (v text); INSERT INTO kept VALUES ('{token}')")
    assert code == 0, out
    nodes = engine.containers.list(filters=L.lab_filter(LAB, L.ROLE_NODE))
    for c in nodes:
        c.stop()               # as a machine shut down: `docker stop` is meant, so no restart
    proc, doc = run_json("status", LAB)
    assert doc["data"]["whole"] is False and any("container exited" in x for x in doc["data"]["lacking"]), doc
    proc, doc = run_json("up", "--name", LAB)
    assert proc.returncode == 0, proc.stderr
    assert doc["data"]["up"]["resumed"] == sorted(c.labels[L.NODE] for c in nodes), doc["data"]
    code, out = db_sql(engine, "SELECT v FROM kept")
    assert code == 0 and token in out, out


def test_down_leaves_nothing(engine, lab_up):
    assert cgroups(f"swarmlab-{LAB}-node-*"), "tasks ran, so their cgroups exist before down"
    # a node that dies by itself (not `docker kill`) is restarted by the engine: down
    # removes it while it is coming back
    node = engine.containers.get(f"swarmlab-{LAB}-node-2")
    os.kill(node.attrs["State"]["Pid"], signal.SIGKILL)
    proc, doc = run_json("down", LAB)
    assert proc.returncode == 0 and doc["data"]["existed"] is True
    assert labelled(engine, LAB) == {"containers": [], "networks": [], "volumes": []}
    assert not cgroups(f"swarmlab-{LAB}-*")
    proc, doc = run_json("down", LAB)
    assert proc.returncode == 0 and doc["data"]["existed"] is False

"""`swarmlab drill` on a real 3-node dind lab: drain, kill a node, cut a link; each time
Swarm's reaction is seen in the timeline, the fault is healed, and the lab is whole again."""
import pytest

from swarmlab import drill
from swarmlab.providers.dind import DindProvider

from ..conftest import labelled, run_cli, run_json

pytestmark = pytest.mark.integration
LAB = "itest-drill"


@pytest.fixture(scope="module")
def lab(engine):
    proc, doc = run_json("up", "--name", LAB)
    assert proc.returncode == 0, proc.stderr
    yield doc["data"]
    proc = run_cli("down", LAB)
    assert proc.returncode == 0, proc.stderr
    assert labelled(engine, LAB) == {"containers": [], "networks": [], "volumes": []}


def events(report, what):
    return [e["now"] for e in report["timeline"] if e["what"] == what]


def checks(report):
    return {c["name"]: c for c in report["checks"]}


def node_sh(engine, node, cmd):
    code, out = engine.containers.get(f"swarmlab-{LAB}-{node}").exec_run(["sh", "-c", cmd])
    return code, out.decode(errors="replace")


def test_drain_moves_web_off_and_back(lab):
    proc, doc = run_json("drill", "drain", "node-2", LAB, "--hold", "2")
    assert proc.returncode == 0, proc.stderr
    r = doc["data"]
    assert "ready, drain" in events(r, "node node-2")
    # web may run once per app node, and node-1 has its one: the replacement waits, and Swarm says why
    assert any("no suitable node" in e for e in events(r, "service web")), events(r, "service web")
    c = checks(r)
    assert c["drain: swarm reacted"]["status"] == "passed"
    assert "node-1: ok" in c["while broken"]["observed"].replace("via ", "")
    assert c["recovered"]["status"] == "passed"
    assert events(r, "service web")[-1] == "2/2 running on node-1, node-2"


def test_kill_node_with_the_data_tier_breaks_the_flow_until_it_is_back(engine, lab):
    proc, doc = run_json("drill", "kill-node", "node-3", LAB, "--hold", "2", timeout=600)
    assert proc.returncode == 0, proc.stderr
    r = doc["data"]
    assert "down, active" in events(r, "node node-3")
    c = checks(r)
    assert "no suitable node" in c["kill-node: swarm reacted"]["observed"]   # db and redis may only run there
    during = c["while broken"]["observed"]
    assert "ok:" not in during and "via node-1" in during, during
    assert c["recovered"]["status"] == "passed" and c["cross-host via node-1"]["status"] == "passed"
    assert engine.containers.get(f"swarmlab-{LAB}-node-3").status == "running"


def test_cut_link_is_a_partition_swarm_does_not_see(engine, lab):
    proc, doc = run_json("drill", "cut-link", "node-2", "--peer", "node-3", LAB, "--hold", "3")
    assert proc.returncode == 0, proc.stderr
    c = checks(doc["data"])
    assert c["cut-link: the link is cut"]["status"] == "passed"
    assert c["swarm's view"]["observed"] == "node-2 ready, node-3 ready"
    during = c["while broken"]["observed"]
    assert "via node-1: ok" in during and "via node-2: ok" not in during, during
    assert c["recovered"]["status"] == "passed"
    code, out = node_sh(engine, "node-2", f"iptables -S | grep -c {drill.CHAIN}")
    assert out.strip() == "0", out
    node3 = next(n["address"] for n in lab["nodes"] if n["name"] == "node-3")
    code, out = node_sh(engine, "node-2", f"ping -c1 -W2 {node3}")
    assert code == 0, out


def test_an_interrupted_drill_still_heals(engine, lab):
    def interrupt(text):
        if "dropped at node-2" in text:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        drill.run(LAB, DindProvider(engine), "cut-link", "node-2", "node-3", timeout=30, say=interrupt)
    code, out = node_sh(engine, "node-2", f"iptables -S | grep -c {drill.CHAIN}")
    assert out.strip() == "0", out


def test_bad_drills_say_why_and_change_nothing(engine, lab):
    proc = run_cli("drill", "drain", "node-9", LAB)
    assert proc.returncode == 2 and "no node 'node-9' in this lab: one of node-1, node-2, node-3" in proc.stderr
    proc = run_cli("drill", "cut-link", "node-2", LAB)
    assert proc.returncode == 2 and "--peer" in proc.stderr
    proc = run_cli("drill", "kill-node", "node-1", LAB)
    assert proc.returncode == 3 and "only manager" in proc.stderr and "--managers 3" in proc.stderr
    proc = run_cli("drill", "drain", "node-2", "itest-nolab")
    assert proc.returncode != 0 and "no lab named 'itest-nolab'" in proc.stderr
    proc, doc = run_json("status", LAB)
    assert all(n["swarm"] == "ready" and n["availability"] == "active" for n in doc["data"]["nodes"])


def test_killing_the_leader_of_three_managers_elects_another(engine):
    lab3 = "itest-drill3"
    proc, doc = run_json("up", "--name", lab3, "--managers", "3", "--nodes", "3")
    assert proc.returncode == 0, proc.stderr
    try:
        leader = next(n["name"] for n in doc["data"]["nodes"] if n["manager"] == "leader")
        proc, doc = run_json("drill", "kill-node", leader, lab3, "--hold", "2", timeout=600)
        assert proc.returncode == 0, proc.stderr
        r = doc["data"]
        assert r["watched_from"] != leader
        assert r["before"][f"node {leader}"] == "ready, active, leader"
        new = [e["what"] for e in r["timeline"] if e["phase"] == "break" and e["now"].endswith(", leader")]
        assert new and f"node {leader}" not in new, r["timeline"]       # another manager leads now
        assert checks(r)["recovered"]["status"] == "passed"
    finally:
        assert run_cli("down", lab3).returncode == 0


def test_a_lab_that_publishes_nothing_is_drilled_on_the_swarm_alone(engine):
    """tests/data/managers.yaml has no HTTP endpoint: whole means nodes and services only."""
    lab0 = "itest-drill0"
    proc, _ = run_json("up", "tests/data/managers.yaml", "--name", lab0, "--nodes", "3")
    assert proc.returncode == 0, proc.stderr
    try:
        proc, doc = run_json("drill", "drain", "node-2", lab0, "--hold", "1", timeout=600)
        assert proc.returncode == 0, proc.stderr
        c = checks(doc["data"])
        assert set(c) == {"drain: swarm reacted", "recovered"}, c
        assert not [e for e in doc["data"]["timeline"] if e["what"].startswith("flow via")]
    finally:
        assert run_cli("down", lab0).returncode == 0

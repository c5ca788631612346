"""Naming, labels, addressing, capabilities and the JSON envelope: pure logic."""
import ipaddress
import json

import pytest

from swarmlab import labels as L
from swarmlab import naming, output
from swarmlab.addressing import AddressPlan, choose_pool, parse_pool
from swarmlab.capabilities import decide_encryption, endpoint_note, parse_probe
from swarmlab.result import CommandResult, GroupResult
from swarmlab.errors import CommandFailed, SwarmlabError


@pytest.mark.parametrize("name,ok", [("lab", True), ("a", True), ("lab-2", True), ("-lab", False),
                                     ("lab-", False), ("Lab", False), ("la_b", False), ("", False),
                                     ("x" * 24, True), ("x" * 25, False)])
def test_lab_names(name, ok):
    assert naming.is_lab_name(name) is ok


def test_resource_names():
    assert naming.node_names(3) == ["node-1", "node-2", "node-3"]
    assert naming.container_name("lab", "node-1") == "swarmlab-lab-node-1"
    assert naming.cgroup_parent("lab", "node-2") == "/swarmlab-lab-node-2"


def test_labels():
    assert L.stamp("lab", L.ROLE_NODE, node="node-1", swarm_role="manager", skip=None) == {
        "io.swarmlab.lab": "lab", "io.swarmlab.role": "node", "io.swarmlab.node": "node-1",
        "io.swarmlab.swarm-role": "manager"}
    assert L.lab_filter() == {"label": ["io.swarmlab.lab"]}
    assert L.lab_filter("x", "node") == {"label": ["io.swarmlab.lab=x", "io.swarmlab.role=node"]}


def test_address_plan_is_inside_the_pool_and_disjoint():
    plan = AddressPlan(ipaddress.IPv4Network("10.97.0.0/16"))
    parts = [plan.underlay, ipaddress.IPv4Network(plan.bip, strict=False), plan.local_pool, plan.overlay_pool]
    for i, a in enumerate(parts):
        assert a.subnet_of(plan.pool)
        for b in parts[i + 1:]:
            assert not a.overlaps(b), (a, b)
    assert plan.node_ip(1) == "10.97.0.11" and plan.gateway == "10.97.0.1"
    assert str(plan.overlay_pool) == "10.97.128.0/17"


def test_choose_pool_skips_used_and_avoided():
    used = [ipaddress.IPv4Network("10.96.0.0/16")]
    avoid = [ipaddress.IPv4Network("10.97.3.0/24")]
    assert str(choose_pool(used, "10.96.0.0/12", avoid)) == "10.98.0.0/16"
    assert choose_pool([ipaddress.IPv4Network("10.96.0.0/12")], "10.96.0.0/12") is None


@pytest.mark.parametrize("text,msg", [("10.1.0.0/24", "must be a /16"), ("8.8.0.0/16", "private"),
                                      ("banana", "CIDR")])
def test_parse_pool_errors(text, msg):
    with pytest.raises(ValueError, match=msg):
        parse_pool(text)


PROBE_NO = """ipvs=no
ipvs_reason=no /proc/net/ip_vs
esp=no
esp_reason=ip xfrm state add failed: Requested AEAD algorithm not found.
kernel=6.1.0
"""


def test_parse_probe():
    c = parse_probe("node-1", PROBE_NO)
    assert (c.ipvs, c.esp, c.kernel) == (False, False, "6.1.0")
    assert "AEAD" in c.reason("esp")
    assert parse_probe("n", "ipvs=yes\nesp=yes\n").esp is True
    assert parse_probe("n", "garbage").ipvs is False
    assert (c.netem, c.tbf, c.statistic) == (False, False, False)


def test_parse_probe_link_impairment():
    """This machine's kernel: no netem (its reason kept), tbf and statistic there."""
    c = parse_probe("node-2", "netem=no\nnetem_reason=tc qdisc add dev lo root netem delay 1ms failed: "
                              "Error: Specified qdisc kind is unknown.\ntbf=yes\nstatistic=yes\n")
    assert (c.netem, c.tbf, c.statistic) == (False, True, True)
    assert "qdisc kind is unknown" in c.reason("netem")
    assert c.as_dict()["netem"] is False and c.as_dict()["tbf"] is True


def _caps(esp_by_host):
    return [parse_probe(h, f"ipvs=yes\nesp={'yes' if e else 'no'}\n") for h, e in esp_by_host.items()]


def test_encryption_decisions():
    all_esp = _caps({"node-1": True, "node-2": True})
    one_lacks = _caps({"node-1": True, "node-2": False})
    d = decide_encryption("backend", "auto", all_esp)
    assert d.encrypted and not d.warning and not d.refused
    d = decide_encryption("backend", "auto", one_lacks)
    assert not d.encrypted and "PLAIN" in d.warning and "node-2" in d.warning and not d.refused
    d = decide_encryption("backend", "true", one_lacks)
    assert d.refused and "node-2" in d.refused and "backend" in d.refused and "--force" in d.refused
    d = decide_encryption("backend", "true", one_lacks, force=True)
    assert d.encrypted and "fail-closed" in d.warning and not d.refused
    d = decide_encryption("backend", "false", all_esp)
    assert not d.encrypted and not d.warning


def test_endpoint_note():
    assert endpoint_note(_caps({"a": True})) is None
    assert "dnsrr" in endpoint_note([parse_probe("a", "ipvs=no")])


def test_results():
    ok = CommandResult("h", "true", 0, "out")
    bad = CommandResult("h", "false", 3, "", "boom\nlast line")
    assert ok.check() is ok
    with pytest.raises(CommandFailed, match="exited 3") as info:
        bad.check("step")
    assert "last line" in str(info.value)
    g = GroupResult({"a": ok, "b": bad}, {"c": RuntimeError("gone")})
    assert set(g.failed) == {"b", "c"} and not g.ok
    with pytest.raises(SwarmlabError, match="2 host"):
        g.check("thing")


def test_json_envelope():
    doc = json.loads(output.envelope("up", False, errors=["x"]))
    assert doc == {"schema": "swarmlab/v1", "command": "up", "ok": False, "data": None,
                   "warnings": [], "errors": ["x"]}


def test_a_join_that_goes_on_in_the_background_is_waited_for(monkeypatch):
    """`swarm join` gives up after its own 20 s on a busy manager, but the node goes on
    joining: its state decides, not that exit code."""
    from swarmlab.actions import swarm
    from swarmlab.providers.base import Host
    from swarmlab.result import CommandResult

    states = iter(["pending", "pending", "active", "active"])

    class T:
        host = "node-7"

        def run(self, cmd, **kw):
            return CommandResult("node-7", "docker info", 0, next(states, "active"))

    monkeypatch.setattr(swarm, "until", lambda probe, timeout, interval: _until(probe))
    first = CommandResult("node-7", "docker swarm join", 1, "", "Timeout was reached before node joined. "
                          "The attempt to join the swarm will continue in the background.")
    r = swarm._joined_later(Host("node-7", "10.0.0.7", "worker", T()), first)
    assert r.ok and "background" in r.stdout
    states = iter(["pending"] * 50)
    r = swarm._joined_later(Host("node-7", "10.0.0.7", "worker", T()), first)
    assert not r.ok and "still state pending" in r.stderr


def _until(probe, tries=5):
    for _ in range(tries):
        done, seen = probe()
        if done:
            return True, seen, 1.0
    return False, seen, 1.0


def _status_report(containers, swarm):
    return {"nodes": [{"name": f"node-{i + 1}", "container": c, "swarm": s, "availability": "active"}
                      for i, (c, s) in enumerate(zip(containers, swarm))]}


def test_a_lab_is_whole_only_with_every_node_and_replica():
    from types import SimpleNamespace

    from swarmlab.lab import _whole

    out = _status_report(["running"] * 3, ["ready"] * 3)
    _whole(SimpleNamespace(leader=object()), out, {"app_web": (2, 2)})
    assert out["whole"] is True and out["lacking"] == []
    # an engine restart: a node still starting, a worker the manager has not heard from,
    # a service whose tasks are not all back (or not yet healthy)
    out = _status_report(["running", "restarting", "running"], ["ready", "not in swarm", "unknown"])
    _whole(SimpleNamespace(leader=object()), out, {"app_web": (1, 2), "app_db": (1, 1)})
    assert out["whole"] is False
    assert out["lacking"] == ["node-2: container restarting", "node-3: swarm node unknown",
                              "app_web: 1/2 tasks running and healthy"]
    # a node paused by hand is a lab not whole; one the scenario wants paused is whole
    out = _status_report(["running"] * 3, ["ready"] * 3)
    out["nodes"][1]["availability"] = "pause"
    _whole(SimpleNamespace(leader=object(), scenario=None), out, {})
    assert out["lacking"] == ["node-2: pause, the scenario wants active"]
    wants = SimpleNamespace(nodes=[SimpleNamespace(name="node-2", availability="pause")])
    _whole(SimpleNamespace(leader=object(), scenario=wants), out, {})
    assert out["whole"] is True
    # no manager running: the swarm cannot be read, and the lab is not whole
    out = _status_report(["exited", "running", "running"], ["not in swarm"] * 3)
    _whole(SimpleNamespace(leader=None), out, {})
    assert out["whole"] is False
    assert out["lacking"] == ["node-1: container exited", "no manager node running: the swarm cannot be read"]


def test_verify_asks_a_failing_nodes_flow_again_a_bounded_number_of_times(monkeypatch):
    from swarmlab.result import CheckResult
    from swarmlab.verify import path

    monkeypatch.setattr(path, "FLOW_PAUSE", 0.0)
    answers = {"node-1": ["fail", "ok"], "node-2": ["fail"] * 5, "node-3": ["ok"]}
    asked = []

    def ask(targets):
        (node, _), = targets
        asked.append(node)
        if answers[node].pop(0) == "fail":
            return [CheckResult(f"flow via {node}", False, "200", "HTTP 502 then 200")]
        return [CheckResult(f"cache via {node}", True, "miss then hit", "miss then hit"),
                CheckResult(f"cross-host via {node}", True, "apart", "apart")]

    checks = path.asked_again([(n, f"http://{n}") for n in ("node-1", "node-2", "node-3")], ask)
    assert asked == ["node-1", "node-1", "node-2", "node-2", "node-2", "node-3"]
    assert [(c.name, c.passed) for c in checks] == [
        ("cache via node-1", True), ("cross-host via node-1", True), ("flow via node-2", False),
        ("cache via node-3", True), ("cross-host via node-3", True)]
    assert checks[0].observed == "miss then hit (asked 2 times)"
    assert checks[2].observed == "HTTP 502 then 200 (asked 3 times)" and checks[3].observed == "miss then hit"


def test_an_even_number_of_managers_is_said_with_what_it_costs():
    from swarmlab.lab import quorum_note

    assert quorum_note(1) == quorum_note(3) == []
    (two,) = quorum_note(2)
    assert two.startswith("2 managers: a quorum needs 2 of them, so the swarm survives losing none, as 1 would")
    (four,) = quorum_note(4)
    assert "needs 3 of them" in four and "survives losing 1, as 3 would; 5 would survive losing 2" in four

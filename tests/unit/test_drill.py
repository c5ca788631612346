"""The drill's pure parts: what counts as a whole lab, what the timeline compares, which
arguments are refused (every problem at once) before anything is touched, and how an
impairment is made with netem and without it."""
from pathlib import Path

import pytest

from swarmlab.capabilities import parse_probe
from swarmlab.observe.snapshot import Snapshot
from swarmlab.drills import all_drills, find, load_drill
from swarmlab.checks.http import Answers
from swarmlab.faults import Ctx
from swarmlab.faults.impair import Impair
from swarmlab.drills.runner import _prepare
from swarmlab.errors import ConfigError, PreflightError
from swarmlab.providers.base import Host, Provider


def snap(**over):
    s = Snapshot(nodes={"node-1": ("ready", "active"), "node-2": ("ready", "active")},
                 services={"web": {"want": 2, "running": ["node-1", "node-2"], "pending": []}},
                 flow={"node-1": "ok: web node-1 -> db node-2, redis node-2"}, flow_ok={"node-1": True})
    for k, v in over.items():
        getattr(s, k).update(v)
    return s


def test_a_whole_lab_and_each_way_it_is_not():
    assert snap().whole()[0]
    ok, why = snap(nodes={"node-2": ("down", "active")}).whole()
    assert not ok and why == "node-2 down/active"
    ok, why = snap(services={"web": {"want": 2, "running": ["node-1"], "pending": ["pending: no suitable node"]}}).whole()
    assert not ok and why == "web 1/2"
    ok, why = snap(flow={"node-1": "HTTP 502: db"}, flow_ok={"node-1": False}).whole()
    assert not ok and why == "flow via node-1: HTTP 502: db"
    assert Snapshot(nodes={"node-1": ("ready", "active")}).whole() == (False, "no endpoint answers yet")
    assert Snapshot(nodes={"node-1": ("ready", "active")}).whole(data_path=False)[0]   # a lab publishing nothing
    ok, why = snap(managers={"node-1": "leader", "node-2": "unreachable"}).whole()
    assert not ok and why == "manager node-2 unreachable"
    assert snap(managers={"node-1": "leader", "node-2": "reachable"}).whole()[0]
    assert snap(managers={"node-1": "leader"}).lines()["node node-1"] == "ready, active, leader"
    silent = snap()
    silent.error = "context deadline exceeded"   # during an election: the last swarm view is kept, never whole
    assert silent.whole() == (False, "no answer from the managers: context deadline exceeded")
    assert silent.lines()["managers"] == "no answer: context deadline exceeded"


def test_the_timeline_lines_name_where_tasks_run_and_why_they_wait():
    s = snap(services={"web": {"want": 2, "running": ["node-1"], "pending": ["pending: no suitable node (x)"]}})
    assert s.lines() == {"node node-1": "ready, active", "node node-2": "ready, active",
                         "service web": "1/2 running on node-1; a task pending: no suitable node (x)",
                         "flow via node-1": "ok: web node-1 -> db node-2, redis node-2", "managers": "answering"}
    assert s.tasks_on("node-1") == ["web"] and s.tasks_on("node-2") == []
    assert Snapshot.gone("flow via node-2") == "no endpoint there now" and Snapshot.gone("service db") == "gone"


class Dind:
    name = "dind"

    def supports(self, feature):
        return feature == "kill_node"

    def kill_node(self, lab, node):
        raise AssertionError("preparing must not touch anything")


class Ssh:
    name = "ssh"

    def supports(self, feature):
        return False

    def unsupported(self, what, hint=""):
        return Provider.unsupported(self, what, hint)


HOSTS = [Host("node-1", "10.0.0.11", "manager", None), Host("node-2", "10.0.0.12", "worker", None),
         Host("node-3", "10.0.0.13", "worker", None)]
THREE = [Host(f"node-{i}", f"10.0.0.1{i}", "manager", None) for i in (1, 2, 3)]


class Handle:
    """What _prepare reads of a lab: its hosts (all running) and no recorded scenario."""
    def __init__(self, hosts, caps=None):
        self.name, self.hosts, self.running, self.scenario = "lab", hosts, hosts, None
        self.caps = caps or {}


def prepare(ref, hosts=HOSTS, provider=None, **params):
    return _prepare(Handle(hosts), provider or Dind(), find(ref).with_params(params))


def test_every_shipped_drill_loads_and_the_built_ins_are_one_fault_each():
    ids = [d.id for d in all_drills()]
    assert ids[:3] == ["kill-node", "drain", "cut-link"]
    assert {"impair-link", "failing-update", "quorum-loss"} <= set(ids)
    for ref in ids[:3]:
        assert len([s for s in find(ref).steps if s.fault]) == 1
    assert all(d.title.get("fr") and d.about.get("fr") for d in all_drills())   # the team's material is French


def test_bad_nodes_and_parameters_are_refused_at_once():
    with pytest.raises(ConfigError) as e:
        prepare("cut-link", node="node-9", peer="node-8")
    text = "\n".join(e.value.lines())
    assert "no node 'node-9' in this lab: one of node-1, node-2, node-3" in text and "'node-8'" in text
    with pytest.raises(ConfigError) as e:
        find("drain").with_params({"nod": "node-2", "node": "a;reboot"})
    text = "\n".join(e.value.lines())
    assert "no parameter 'nod': one of node" in text and "'a;reboot' is not valid" in text
    with pytest.raises(ConfigError) as e:
        find("failing-update").with_params({"node": "node-2"})
    assert "it takes none" in "\n".join(e.value.lines())


def test_what_is_refused_and_where_the_drill_watches_from():
    with pytest.raises(PreflightError, match="only manager"):
        prepare("kill-node", node="node-1")
    with pytest.raises(PreflightError, match="not supported by the ssh provider"):
        prepare("kill-node", node="node-2", provider=Ssh())
    ctx, _ = prepare("cut-link", node="node-2", peer="node-3", provider=Ssh())
    assert ctx.watch.name == "node-1"
    ctx, _ = prepare("kill-node", THREE, node="node-1")
    assert ctx.watch.name == "node-2"                            # never from the node being killed
    ctx, _ = prepare("cut-link", THREE, node="node-1", peer="node-2")
    assert ctx.watch.name == "node-3"                            # from neither end of the cut
    with pytest.raises(PreflightError, match="needs 3 running managers; lab lab has 1"):
        prepare("quorum-loss")
    ctx, faults = prepare("quorum-loss", THREE)
    assert ctx.watch.name == "node-1" and [f.node.name for f in faults.values()] == ["node-2", "node-3"]


def test_swarm_has_reacted_only_on_a_fresh_view():
    ctx, faults = prepare("drain", node="node-2")
    d = faults[0]
    drained = snap(nodes={"node-2": ("ready", "drain")},
                   services={"web": {"want": 2, "running": ["node-1"], "pending": ["pending: no suitable node"]}})
    assert d.reacted(drained) == (True, "node-2 drain")
    still = snap(nodes={"node-2": ("ready", "drain")})
    assert d.reacted(still) == (False, "node-2 drain; still counted on it: web")
    drained.error = "deadline exceeded"
    assert d.reacted(drained)[0] is False


NO_NETEM = parse_probe("node-2", "netem=no\nnetem_reason=tc qdisc add dev lo root netem delay 1ms failed: "
                                 "Error: Specified qdisc kind is unknown.\ntbf=yes\nhtb=yes\nstatistic=yes\n")
NETEM = parse_probe("node-2", "netem=yes\ntbf=yes\nhtb=yes\nstatistic=yes\n")


def impair(caps, **p):
    ctx = Ctx(Dind(), "lab", {h.name: h for h in HOSTS}, HOSTS[0], "app", lambda: {"node-2": caps})
    return Impair(ctx, {"node": "node-2", **p})


def test_impairment_with_netem_is_one_netem_qdisc():
    qdiscs, by_iptables, missing = impair(NETEM, delay_ms=100, jitter_ms=10, loss_pct=25, rate_kbit=2000).plan()
    assert qdiscs == [["root", "handle", "1:", "netem", "delay", "100ms", "10ms", "loss", "25%", "rate", "2000kbit"]]
    assert not by_iptables and not missing
    qdiscs, _, _ = impair(NETEM, peer="node-3", delay_ms=50).plan()
    assert qdiscs[0][3:] == ["htb", "default", "10"] and qdiscs[-1] == ["leaf", "parent", "1:20", "handle", "20:",
                                                                          "netem", "delay", "50ms"]


def test_impairment_without_netem_falls_back_and_says_what_it_cannot_do():
    f = impair(NO_NETEM, peer="node-3", delay_ms=100, jitter_ms=10, loss_pct=25, rate_kbit=2000)
    qdiscs, by_iptables, missing = f.plan()
    assert by_iptables and ["class", "parent", "1:", "classid", "1:20", "htb", "rate", "2000kbit",
                            "quantum", "60000"] in qdiscs
    assert [k for k, _ in missing] == ["delay_ms", "jitter_ms"]
    assert all("Specified qdisc kind is unknown" in why for _, why in missing)
    qdiscs, _, _ = impair(NO_NETEM, rate_kbit=2000).plan()
    assert qdiscs[0][3:6] == ["tbf", "rate", "2000kbit"]     # towards everyone: a token bucket at the root
    bare = parse_probe("node-2", "netem=no\ntbf=no\nhtb=no\nstatistic=no\n")
    _, by_iptables, missing = impair(bare, peer="node-3", loss_pct=5, rate_kbit=100).plan()
    assert not by_iptables and [k for k, _ in missing] == ["rate_kbit", "loss_pct"]


def test_throughout_and_any_endpoint():
    ctx = Ctx(Dind(), "lab", {h.name: h for h in HOSTS}, HOSTS[0], "app", endpoint=object())
    one_down = Snapshot(flow={"node-1": "ok", "node-2": "no answer"}, flow_ok={"node-1": True, "node-2": False})
    assert Answers({"any": True}, ctx).judge(one_down)[0] is True
    assert Answers({}, ctx).judge(one_down)[0] is False
    assert Answers({"via": "node-2", "ok": False}, ctx).judge(one_down) == (True, "via node-2: no answer")
    nothing = Answers({}, Ctx(Dind(), "lab", {}, HOSTS[0], "app")).judge(one_down)
    assert nothing == (False, "the lab publishes no HTTP endpoint")


DATA = Path(__file__).resolve().parents[1] / "data" / "drills"


def test_a_bad_drill_file_lists_every_problem_with_its_line():
    with pytest.raises(ConfigError) as err:
        load_drill(DATA / "invalid.yaml")
    text = "\n".join(str(p) for p in err.value.problems)
    assert "invalid.yaml:7: steps.0.fault: must have exactly one of:" in text
    assert "invalid.yaml:10: steps.1.expect.0.running.colour: unknown key" in text
    assert "invalid.yaml:12: steps.3.heal: must be one of 'all', 'last'" in text
    assert "invalid.yaml:13: steps.3.hold: must be at most 600" in text
    assert "invalid.yaml:15: throughout.0.reacted: unknown key (allowed here: answers, running)" in text
    assert err.value.exit_code == 2


def test_names_and_placeholders_are_checked_once_the_schema_holds(tmp_path):
    text = (DATA / "invalid.yaml").read_text()
    text = text.replace(", drain: {node: node-2}", "").replace(", colour: blue", "").replace("  - {}\n", "")
    text = text.replace("heal: some", "heal: all").replace("9999", "9").replace("reacted: {}", "running: {service: db}")
    f = tmp_path / "names.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_drill(f)
    text = "\n".join(str(p) for p in err.value.problems)
    assert "names.yaml:3: id: drill id 'Bad_Id' is not a drill id" in text
    assert "params.node: host name 'node-1;reboot' is not valid" in text
    assert "steps.1.fault.impair.node: unknown parameter {nodes}: declare it under params (declared: node, peer)" in text
    assert "steps.1.fault.impair.jitter_ms: jitter varies a delay: give delay_ms too" in text
    assert "steps.1.expect.0.running.service: service name 'web$(id)'" in text


def test_an_unquoted_on_key_is_named_as_the_boolean_yaml_makes_of_it(tmp_path):
    f = tmp_path / "on.yaml"
    f.write_text("apiVersion: swarmlab/v1\nkind: Drill\nid: x\ntitle: {en: x}\n"
                 "steps:\n  - expect: [{running: {service: web, on: node-2}}]\n")
    with pytest.raises(ConfigError) as err:
        load_drill(f)
    assert "running.True: a key YAML reads as true (on, off, yes or no unquoted)" in str(err.value.problems[0])

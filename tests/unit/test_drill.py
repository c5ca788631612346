"""The drill's pure parts: what counts as a whole lab, what the timeline compares, and
which arguments are refused (every problem at once) before anything is touched."""
import pytest

from swarmlab.drill import Drain, Snapshot, plan
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
        raise AssertionError("plan() must not touch anything")


class Ssh:
    name = "ssh"

    def supports(self, feature):
        return False

    def unsupported(self, what, hint=""):
        return Provider.unsupported(self, what, hint)


HOSTS = [Host("node-1", "10.0.0.11", "manager", None), Host("node-2", "10.0.0.12", "worker", None),
         Host("node-3", "10.0.0.13", "worker", None)]


def test_every_bad_argument_at_once():
    with pytest.raises(ConfigError) as e:
        plan("melt", "node-9", "node-9", HOSTS, Dind())
    text = "\n".join(e.value.lines())
    assert "unknown drill 'melt'" in text and "no node 'node-9' in this lab: one of node-1, node-2, node-3" in text
    assert "--peer goes with cut-link only" in text
    with pytest.raises(ConfigError, match="1 problem"):
        plan("cut-link", "node-2", None, HOSTS, Dind())
    with pytest.raises(ConfigError) as e:
        plan("cut-link", "node-2", "node-2", HOSTS, Dind())
    assert "'node-2' is not another node of this lab" in "\n".join(e.value.lines())


def test_what_is_refused_and_where_the_drill_watches_from():
    with pytest.raises(PreflightError, match="only manager"):
        plan("kill-node", "node-1", None, HOSTS, Dind())
    with pytest.raises(PreflightError, match="not supported by the ssh provider"):
        plan("kill-node", "node-2", None, HOSTS, Ssh())
    target, peer, watch = plan("cut-link", "node-2", "node-3", HOSTS, Ssh())
    assert (target.name, peer.name, watch.name) == ("node-2", "node-3", "node-1")
    three = [Host(f"node-{i}", f"10.0.0.1{i}", "manager", None) for i in (1, 2, 3)]
    target, _, watch = plan("kill-node", "node-1", None, three, Dind())
    assert (target.name, watch.name) == ("node-1", "node-2")   # never from the node being killed
    _, _, watch = plan("cut-link", "node-1", "node-2", three, Dind())
    assert watch.name == "node-3"                               # from neither end of the cut


def test_swarm_has_reacted_only_on_a_fresh_view():
    d = Drain(None, "lab", HOSTS[1], None, None)
    drained = snap(nodes={"node-2": ("ready", "drain")},
                   services={"web": {"want": 2, "running": ["node-1"], "pending": ["pending: no suitable node"]}})
    assert d.reacted(drained) == (True, "node-2 drain")
    still = snap(nodes={"node-2": ("ready", "drain")})
    assert d.reacted(still) == (False, "node-2 drain; still counted on it: web")
    drained.error = "deadline exceeded"
    assert d.reacted(drained)[0] is False

"""The one check core: every kind once, one vocabulary, each file format's names mapped onto
it; a kind both drills and lessons use judges a drill's snapshot and a lesson's evidence
alike; a file's own parameter names come back in its problems."""
from types import SimpleNamespace

from swarmlab.checks import CHECKS, DRILL_CHECKS, LESSON_CHECKS, THROUGHOUT, Evidence
from swarmlab.observe.running import NodeView
from swarmlab.observe.snapshot import Snapshot
from swarmlab.observe.topology import Service, Task

# the one vocabulary: what a check's parameter may be called, across every kind
VOCABULARY = {"node", "service", "from", "to", "via", "at", "not_on", "open", "ok", "any", "replicas", "status",
              "availability", "manager", "reason", "path", "port", "size", "name", "resolves", "count",
              "loss_pct_min", "loss_pct_max", "rtt_ms_min", "kbit_min", "kbit_max", "has", "lacks", "network",
              "running", "container", "contains", "exists"}


def test_each_kind_is_once_and_each_format_names_only_kinds_of_the_registry():
    assert len({c.__name__ for c in CHECKS.values()}) == len(CHECKS)
    for fmt in (DRILL_CHECKS, THROUGHOUT, LESSON_CHECKS):
        assert set(fmt.names.values()) <= set(CHECKS)
    assert {k for c in CHECKS.values() for k in c.params} <= VOCABULARY
    assert {k for c in CHECKS.values() for k in c.required} <= {k for c in CHECKS.values() for k in c.params}
    # the kinds both formats name are the same class, not two of a name
    shared = set(DRILL_CHECKS.names.values()) & set(LESSON_CHECKS.names.values())
    assert shared == {"node", "running"}


def test_a_lesson_s_own_names_become_the_core_s():
    assert LESSON_CHECKS.core("node", {"name": "node-2", "availability": "drain"}) == {
        "node": "node-2", "availability": "drain"}
    assert LESSON_CHECKS.core("replicas", {"service": "db", "running": 0}) == {"service": "db", "replicas": 0}
    assert LESSON_CHECKS.core("reach", {"from": "web", "to": "db", "expect": "blocked"})["open"] is False
    assert LESSON_CHECKS.core("published", {"service": "web", "port": 80, "expect": "closed"})["open"] is False
    assert LESSON_CHECKS.core("resolves", {"from": "web", "name": "db", "expect": False})["resolves"] is False
    assert LESSON_CHECKS.kind("reach").kind == "connect" and DRILL_CHECKS.kind("reach").kind == "ping"
    schema = LESSON_CHECKS.schema("replicas")
    assert "running" in schema["required"] and "replicas" not in schema["properties"]
    assert "within" not in LESSON_CHECKS.schema("node")["properties"]
    assert "within" in DRILL_CHECKS.schema("node")["properties"]


def test_a_problem_is_said_at_the_name_the_file_wrote():
    assert [p for p, _ in LESSON_CHECKS.problems("node", {"name": "node$(id)"})] == [("name",)]
    assert [p for p, _ in DRILL_CHECKS.problems("node", {"node": "node$(id)"})] == [("node",)]
    assert [p for p, _ in LESSON_CHECKS.problems("reach", {"from": "web", "to": "n1/a;b"})] == [("to",)]


def _evidence() -> Evidence:
    web = Service("app_web", "web", ["frontend"], "vip", [], [80], 2,
                  [Task("app_web.1.a", "app_web", "node-1"), Task("app_web.2.b", "app_web", "node-3")])
    waiting = SimpleNamespace(running=False, state="Pending 2 seconds ago", error="no suitable node (x)")
    swarm = SimpleNamespace(tasks=lambda name, waiting_too: [waiting])
    topo = SimpleNamespace(services={"app_web": web},
                           nodes=[NodeView("node-1", "n1", "ready", "active", "leader"),
                                  NodeView("node-2", "n2", "ready", "drain", "")])
    return Evidence(SimpleNamespace(swarm=swarm), topo)


def _snapshot() -> Snapshot:
    return Snapshot(nodes={"node-1": ("ready", "active"), "node-2": ("ready", "drain")},
                    managers={"node-1": "leader"},
                    services={"web": {"want": 2, "running": ["node-1", "node-3"],
                                      "pending": ["pending: no suitable node (x)"]}})


def test_a_drill_s_snapshot_and_a_lesson_s_evidence_get_one_verdict():
    ev, snap = _evidence(), _snapshot()
    cases = [
        (("node", {"name": "node-2", "availability": "drain"}), ("node", {"node": "node-2", "availability": "drain"}),
         (True, "node-2 ready, drain")),
        (("node", {"name": "node-1", "manager": "leader"}), ("node", {"node": "node-1", "manager": "leader"}),
         (True, "node-1 ready, active, leader")),
        (("node", {"name": "node-9"}), ("node", {"node": "node-9"}), (False, "node-9 not listed")),
        (("replicas", {"service": "web", "running": 2, "not_on": "node-2"}),
         ("running", {"service": "web", "replicas": 2, "not_on": "node-2"}),
         (True, "2/2 running on node-1, node-3; a task pending: no suitable node (x)")),
        (("replicas", {"service": "web", "running": 3}), ("running", {"service": "web", "replicas": 3}),
         (False, "2/3 running on node-1, node-3; a task pending: no suitable node (x)")),
        (("replicas", {"service": "web", "running": 2, "not_on": "node-3"}),
         ("running", {"service": "web", "replicas": 2, "not_on": "node-3"}),
         (False, "2/2 running on node-1, node-3; a task pending: no suitable node (x)")),
        (("replicas", {"service": "db", "running": 1}), ("running", {"service": "db", "replicas": 1}), (False, "no service db")),
    ]
    for (lname, lp), (dname, dp), verdict in cases:
        lesson, drill = LESSON_CHECKS.make(lname, lp), DRILL_CHECKS.make(dname, dp)
        assert type(lesson) is type(drill)
        assert lesson.judge(ev) == verdict == drill.judge(snap), (lname, lp)
        assert lesson.expected() == drill.expected()


def test_a_silent_manager_fails_a_drill_s_count_however_it_looks():
    snap = _snapshot()
    snap.error = "context deadline exceeded"
    ok, seen = DRILL_CHECKS.make("running", {"service": "web"}).judge(snap)
    assert not ok and seen.startswith("2/2 running")

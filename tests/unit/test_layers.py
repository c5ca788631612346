"""The import graph holds its layers: the base, then observe (the one place that reads and
probes a running lab), then the steps of `up`, the lab API, the features, and the surfaces
that compose them. No arrow points up, there is no circle, and no feature imports another
(features meet in cli/wiring.py)."""
from tests.unit.test_docs import import_graph

BASE = {"__version__", "errors", "shell", "result", "waiting", "grammar", "naming", "labels", "addressing",
        "safefs", "web", "engine", "enter", "netfilter", "swarm_write", "overlays", "progress", "output", "history", "records", "transport",
        "capabilities", "config", "images", "providers"}
FEATURES = {"verify", "compare", "drills", "lessons", "graph", "report", "ui", "diff", "imports", "room"}
LAYERS = [BASE, {"observe"}, {"faults", "checks"}, {"actions"}, {"lab"}, FEATURES, {"cli", "__main__", "schemas"}]


def rank(part: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if part in layer)


def test_every_part_has_its_layer():
    graph = import_graph()
    parts = set(graph) | {p for targets in graph.values() for p in targets}
    assert sorted(p for p in parts if not any(p in layer for layer in LAYERS)) == []


def test_no_arrow_points_up():
    up = [(a, b) for a, targets in import_graph().items() for b in targets if rank(b) > rank(a)]
    assert up == []


def test_features_import_observe_and_the_lab_never_each_other_nor_the_steps_of_up():
    crossing = [(a, b) for a, targets in import_graph().items() if a in FEATURES
                for b in targets if b in FEATURES or b == "actions"]
    assert crossing == []


def test_there_is_no_circle():
    graph = import_graph()
    state = {}

    def visit(node, path):
        if state.get(node) == "open":
            return path[path.index(node):] + [node]
        if state.get(node) == "done":
            return None
        state[node] = "open"
        for nxt in graph.get(node, []):
            found = visit(nxt, path + [node])
            if found:
                return found
        state[node] = "done"
        return None

    circle = next((c for c in (visit(n, []) for n in sorted(graph)) if c), None)
    assert circle is None


def test_the_rules_see_a_crossing_when_there_is_one(monkeypatch):
    import tests.unit.test_layers as me

    monkeypatch.setattr(me, "import_graph", lambda: {"drills": ["compare"], "observe": ["lab"],
                                                    "errors": ["shell"], "shell": ["errors"]})
    for rule in (test_no_arrow_points_up, test_features_import_observe_and_the_lab_never_each_other_nor_the_steps_of_up,
                 test_there_is_no_circle):
        try:
            rule()
        except AssertionError:
            continue
        raise AssertionError(f"{rule.__name__} let a bad graph pass")

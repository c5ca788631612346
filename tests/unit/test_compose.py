"""Pure logic of a user's compose file: interpolation, builds, ignored keys, the nodes a
stack needs, and the listening sockets verify reads."""

import pytest

from swarmlab.config import compose, placement
from swarmlab.config.from_stack import load_stack
from swarmlab.config.loader import Flags
from swarmlab.errors import ConfigError
from swarmlab.observe.topology import parse_listening


@pytest.mark.parametrize("text,env,want", [
    ("${A}", {"A": "1"}, "1"), ("$A-x", {"A": "1"}, "1-x"), ("${A:-d}", {}, "d"), ("${A:-d}", {"A": ""}, "d"),
    ("${A-d}", {"A": ""}, ""), ("${A-d}", {}, "d"), ("$$A", {"A": "1"}, "$A"), ("${A}", {}, ""),
    ("a${B}c", {"B": "b"}, "abc"), ("no dollar", {}, "no dollar")])
def test_interpolation_as_compose_does(text, env, want):
    got, problems = compose.interpolate({"k": text}, env)
    assert got == {"k": want} and problems == []


def test_required_and_invalid_interpolations_are_problems():
    got, problems = compose.interpolate({"a": "${X:?set the token}", "b": "$(id)", "c": ["${Y?}"]}, {})
    assert [p for p, _ in problems] == [("a",), ("b",), ("c", "0")]
    assert "set the token" in problems[0][1] and "$$" in problems[1][1]


def test_numbers_from_variables_become_numbers_where_numbers_belong():
    got, _ = compose.interpolate({"ports": [{"published": "${P:-8081}", "target": 80}], "image": "${T:-7}"}, {})
    assert got == {"ports": [{"published": 8081, "target": 80}], "image": "7"}


def test_env_file_is_read_as_compose_reads_it(tmp_path):
    env = tmp_path / ".env"
    env.write_text('# comment\nexport A=1\nB="two words"\nC=${A}x\n')
    assert compose.read_env_file(env) == {"A": "1", "B": "two words", "C": "1x"}


def test_build_sections_and_ignored_keys(tmp_path):
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "Dockerfile").write_text("FROM scratch\n")
    stack = {"services": {
        "Web": {"build": "ctx", "depends_on": ["db"], "restart": "always"},
        "db": {"image": "postgres:15", "build": {"context": "ctx", "args": ["X=1"], "target": "prod"},
               "container_name": "db"}}}
    prepared, problems = compose.prepare(stack, tmp_path / "stack.yml", "demo")
    assert problems == []
    assert prepared.builds["Web"].image == "demo-web:latest" and stack["services"]["Web"]["image"] == "demo-web:latest"
    assert prepared.builds["db"].args == (("X", "1"),) and prepared.builds["db"].target == "prod"
    assert all(k not in svc for svc in stack["services"].values() for k in ("build", "depends_on", "restart"))
    assert prepared.ignored == {"build": ["Web", "db"], "depends_on": ["Web"], "restart": ["Web"],
                                "container_name": ["db"]}
    assert [n for n in prepared.notes if "build" in n] == \
        ["stack.yml: build (Web, db): built on the controller (a swarmlab extension: docker stack deploy ignores build)"]
    # what Docker named it says itself; swarmlab speaks only of the keys Docker drops without a word
    said = compose.ignored_notes(prepared, tmp_path / "stack.yml", {"build", "restart", "container_name"})
    assert said == ["stack.yml: depends_on (Web): dropped, as docker stack deploy drops it (said by swarmlab: "
                    "docker does not say it)"]


def test_a_bad_build_says_where(tmp_path):
    stack = {"services": {"a": {"build": {"context": "nowhere", "network": "host"}}}}
    _, problems = compose.prepare(stack, tmp_path / "s.yml", "x")
    assert [p for p, _ in problems] == [("services", "a", "build", "network"), ("services", "a", "build", "context")]


def _svc(constraints=(), replicas=1, per_node=None):
    placement_ = {"constraints": list(constraints)}
    if per_node:
        placement_["max_replicas_per_node"] = per_node
    return {"image": "x", "deploy": {"replicas": replicas, "placement": placement_}}


def test_nodes_are_planned_from_the_constraints():
    p = placement.plan({"web": _svc(["node.labels.tier == app"], 3, 1), "db": _svc(["node.labels.tier == data"]),
                        "free": _svc()})
    assert (p.managers, p.workers) == (1, 4) and p.problems == []
    assert p.labels == {"node-2": {"tier": "app"}, "node-3": {"tier": "app"}, "node-4": {"tier": "app"},
                        "node-5": {"tier": "data"}}
    assert placement.plan({"a": _svc()}).workers == 2   # the smallest lab where traffic crosses hosts


def test_too_few_nodes_and_hostnames_are_said():
    p = placement.plan({"web": _svc(["node.labels.tier == app"], 3, 1)}, total=2)
    assert "--nodes 2 is too few" in p.problems[0][1] and "3 for web (tier=app)" in p.problems[0][1]
    p = placement.plan({"web": _svc(["node.hostname == prod-7"])})
    assert "place the service with a label" in p.problems[0][1]


def test_manager_constraints_get_managers():
    p = placement.plan({"viz": _svc(["node.role == manager", "node.labels.ui == yes"])})
    assert p.managers == 1 and p.labels == {"node-1": {"ui": "yes"}}


def test_a_stack_alone_makes_a_scenario(tmp_path):
    (tmp_path / "s.yml").write_text(
        "services:\n  a: {image: 'redis:7'}\n  b: {image: 'x/y:1', networks: [back]}\n"
        "networks:\n  back: {driver_opts: {encrypted: ''}}\n")
    s = load_stack(tmp_path / "s.yml", Flags(name="demo"))
    assert {n.name: n.encrypted for n in s.networks} == {"back": "auto", "demo_default": "false"}
    assert s.network_names == {"back": "back", "default": "demo_default"}   # as docker stack deploy names it
    assert s.wait.http_service is None and s.wait.ports and len(s.nodes) == 3
    assert s.source == "stack:" + str((tmp_path / "s.yml").resolve())


def test_a_stack_named_badly_asks_for_a_name(tmp_path):
    (tmp_path / "my_stack.yml").write_text("services:\n  a: {image: 'redis:7'}\n")
    with pytest.raises(ConfigError) as info:
        load_stack(tmp_path / "my_stack.yml")
    assert "--name" in str(info.value.problems[0])


def test_listening_sockets_without_loopback():
    text = ("udp UNCONN 0 0 127.0.0.11:57833 0.0.0.0:*\n"
            "tcp LISTEN 0 5 0.0.0.0:9000 0.0.0.0:*\n"
            "tcp LISTEN 0 4096 127.0.0.11:37177 0.0.0.0:*\n"
            "tcp LISTEN 0 5 [::]:8080 [::]:*\n"
            "tcp LISTEN 0 5 [::1]:7000 [::]:*\n"
            "udp UNCONN 0 0 0.0.0.0:53 0.0.0.0:*\n")
    assert parse_listening(text) == {"tcp": {9000, 8080}, "udp": {53}}


def test_every_bad_stack_of_the_corpus_is_refused_alone_too():
    """`up --stack FILE` checks a stack as a scenario's stack is checked: every corpus
    stack is bad input there too (exit 2), none crashes or passes."""
    from tests.corpus import corpus, kind_of

    stacks = [p for p in corpus() if kind_of(p) == "stack"]
    assert len(stacks) > 30
    for path in stacks:
        with pytest.raises(ConfigError) as info:
            load_stack(path, Flags(name="corpus"))
        assert info.value.exit_code == 2 and info.value.problems, path.name


def test_files_become_content_named_objects(tmp_path):
    (tmp_path / "token").write_text("s3cret")
    (tmp_path / "big").write_bytes(b"x" * (compose.MAX_OBJECT_BYTES + 1))
    stack = {"services": {"a": {"image": "x"}}, "secrets": {"token": {"file": "token"}},
             "configs": {"big": {"file": "big"}, "fifo": {"file": "nowhere"}}}
    prepared, problems = compose.prepare(stack, tmp_path / "s.yml", "demo")
    assert [(f.kind, f.key, f.name[:-9]) for f in prepared.files] == [("secrets", "token", "demo_token")]
    assert prepared.files[0].data == b"s3cret" and "s3cret" not in repr(prepared.files[0])
    assert [p for p, _ in problems] == [("configs", "big", "file"), ("configs", "fifo", "file")]
    assert "more than the 512000 allowed" in problems[0][1]


def test_the_neighbour_table_is_raised_or_the_error_says_how(tmp_path, monkeypatch):
    from swarmlab.errors import PreflightError
    from swarmlab.providers import host_limits

    for key, value in (("gc_thresh1", 128), ("gc_thresh2", 512), ("gc_thresh3", 1024)):
        (tmp_path / key).write_text(str(value))
    monkeypatch.setattr(host_limits, "NEIGH", tmp_path)
    said = []
    host_limits.ensure_neighbours(3, 2, said.append)          # 18 + headroom: fits, nothing said
    assert said == [] and (tmp_path / "gc_thresh3").read_text() == "1024"
    need = host_limits.neighbours_needed(40, 2)
    assert need == 40 * 39 * 3 + host_limits.NEIGH_HEADROOM
    host_limits.ensure_neighbours(40, 2, said.append)
    assert (tmp_path / "gc_thresh3").read_text() == str(need) and "40 nodes" in said[0]
    monkeypatch.setattr(host_limits.os, "geteuid", lambda: 1000)
    with pytest.raises(PreflightError) as info:
        host_limits.ensure_neighbours(60, 2, said.append)
    assert "gc_thresh3" in str(info.value) and "sysctl -w" in info.value.hint

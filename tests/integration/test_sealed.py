"""The sealed lab on a real engine (issue #30): a stack that binds the node's engine socket
is refused with the opt-in named and nothing made; with --host-access the same stack comes
up, `up` says what it granted, and the tool works through the node's socket."""
from __future__ import annotations

import json

import pytest

from ..conftest import P, labelled, run_cli, run_json

pytestmark = pytest.mark.integration
LAB = f"{P}-tooling"
STACK = "tests/data/stacks/tooling.yml"
NOTHING = {"containers": [], "networks": [], "volumes": []}


def test_the_socket_is_refused_without_consent(engine):
    proc = run_cli("up", "--stack", STACK, "--name", LAB)
    assert proc.returncode == 2, proc.stderr
    assert "tooling.yml:8: services.lister.volumes.0: a bind mount of the node's '/var/run/docker.sock'" in proc.stderr
    assert "--host-access" in proc.stderr
    assert labelled(engine, LAB) == NOTHING


def test_with_host_access_the_tool_lists_the_swarms_nodes_through_the_nodes_socket(engine):
    try:
        proc, doc = run_json("up", "--stack", STACK, "--name", LAB, "--host-access", "--nodes", "2")
        assert proc.returncode == 0, proc.stderr
        granted = [w for w in doc["warnings"] if w.startswith("host access granted")]
        assert len(granted) == 1 and "root on this machine" in granted[0] and "lister (" in granted[0]
        node = engine.containers.get(f"swarmlab-{LAB}-node-1")
        code, out = node.exec_run(["sh", "-c", "docker exec $(docker ps -q --filter "
                                   f"label=com.docker.swarm.service.name={P}-tooling_lister) cat /tmp/nodes.json"])
        assert code == 0, out
        assert sorted(n["Description"]["Hostname"] for n in json.loads(out)) == ["node-1", "node-2"]
    finally:
        assert run_cli("down", LAB).returncode == 0
    assert labelled(engine, LAB) == NOTHING

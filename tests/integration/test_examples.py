"""The example scenarios beside the default one, each brought up and proved by verify:
the voting app's shape (a vote crosses four hosts' worth of hops), three managers with a
global service, and an encrypted overlay (plain here, with the reason, where the kernel
has no ESP)."""
import json
import time
import urllib.request

import pytest

from ..conftest import P, labelled, run_cli, run_json

pytestmark = pytest.mark.integration


def _get(url):
    with urllib.request.urlopen(url, timeout=5) as resp:
        return json.loads(resp.read())


def _up_and_verify(scenario, lab):
    proc, doc = run_json("up", scenario, "--name", lab)
    assert proc.returncode == 0, proc.stderr
    vproc, vdoc = run_json("verify", lab)
    failed = [c for c in vdoc["data"]["checks"] if c["status"] == "failed"]
    assert vproc.returncode == 0 and not failed, failed
    return doc["data"], {c["name"]: c for c in vdoc["data"]["checks"]}


def _down(engine, lab):
    assert run_cli("down", lab).returncode == 0
    assert labelled(engine, lab) == {"containers": [], "networks": [], "volumes": []}


def test_voting_app_a_vote_crosses_the_hosts(engine):
    lab = f"{P}-vote"
    try:
        data, checks = _up_and_verify("scenarios/voting.yaml", lab)
        urls = {u["service"]: u["url"] for u in data["urls"]}
        queued = _get(urls["voting_vote"] + "vote?choice=cats")
        assert queued["queued"] == "cats"
        deadline, result = time.monotonic() + 30, {}
        while time.monotonic() < deadline and result.get("counts", {}).get("cats", 0) < 1:
            time.sleep(0.5)
            result = _get(urls["voting_result"])
        assert result["counts"]["cats"] == 1, result
        last = result["last"]
        hops = [last["vote"]["node"], last["worker"]["node"], last["db"].split("@")[1], result["result"]["node"]]
        # vote -> worker -> db -> result: every hop crosses hosts (4 services on 3 nodes: not all apart)
        assert all(a != b for a, b in zip(hops, hops[1:])), hops
        assert checks["reach worker -> db"]["status"] == "passed"
        assert "icmp" in checks["reach vote -> worker"]["observed"], "worker listens on nothing: pinged"
    finally:
        _down(engine, lab)


def test_three_managers_and_a_global_service(engine):
    lab = f"{P}-ha"
    try:
        data, checks = _up_and_verify("scenarios/ha-global.yaml", lab)
        roles = sorted(n["role"] for n in data["nodes"])
        assert roles == ["manager"] * 3 + ["worker"] * 2
        services = {s["name"]: s for s in data["services"]}
        agent_nodes = [t["node"] for t in services["ha_agent"]["tasks"]]
        assert sorted(agent_nodes) == sorted(n["name"] for n in data["nodes"]), "one agent on every node"
        workers = {n["name"] for n in data["nodes"] if n["role"] == "worker"}
        assert {t["node"] for t in services["ha_api"]["tasks"]} == workers
        assert "managers reachable 3/3" in checks["swarm: nodes"]["observed"]
        assert checks["internal agent:9100"]["status"] == "passed"
    finally:
        _down(engine, lab)


def test_encrypted_overlay_follows_the_kernel(engine, kernel_esp):
    lab = f"{P}-secure"
    try:
        data, checks = _up_and_verify("scenarios/encrypted.yaml", lab)
        net = data["networks"][0]
        wire = checks["wire: secure"]
        if kernel_esp:
            assert net["encrypted"] is True and "ESP" in wire["observed"]
        else:
            assert net["encrypted"] is False and "no IPsec ESP" in net["why"]
            assert "plaintext on the wire" in wire["observed"] and "left plain" in wire["expected"]
    finally:
        _down(engine, lab)


@pytest.fixture(scope="module")
def kernel_esp(engine):
    from swarmlab.providers.dind import DindProvider

    return DindProvider(engine).probe_kernel(f"{P}-secure").esp

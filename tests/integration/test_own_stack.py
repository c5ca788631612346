"""A stack written for plain `docker stack deploy` (tests/data/own/stack.yml), brought up
with `up --stack` and verified, unchanged: short image names found on the engine, one
only on a registry (`--pull`: the controller pulls it, the nodes never do), a build:
section built here, a port nobody declared, interpolation, ignored keys as notes."""
import json
import os

import docker
import pytest

from swarmlab.providers.dind import DindProvider

from ..conftest import P, labelled, run_cli, run_json
from ..sshhosts import local_registry

pytestmark = pytest.mark.integration
LAB = f"{P}-own"
STACK = "tests/data/own/stack.yml"
# the user's images, as if pulled or built by them: ours under their names
# tags of this session's own (${API_TAG}, ${GATEWAY_TAG}): another session's cleanup never
# removes an image this one is about to use
TAGS = {"API_TAG": f"1.2-{P}", "GATEWAY_TAG": f"dev-{P}"}
USER_TAGS = {f"acme/api:{TAGS['API_TAG']}": "swarmlab.local/web:bookworm"}
BUILT = f"acme/gateway:{TAGS['GATEWAY_TAG']}"
ON_REGISTRY = ("acme/cache:7", "swarmlab.local/redis:bookworm")   # only on the registry: --pull gets it


@pytest.fixture(scope="module")
def own_lab(engine):
    for tag, ours in USER_TAGS.items():
        engine.images.get(ours).tag(tag)
    pulled = None
    try:
        _, registry = local_registry(engine, LAB)
        pulled = f"{registry}/{ON_REGISTRY[0]}"
        engine.images.get(ON_REGISTRY[1]).tag(pulled)
        said = engine.images.push(pulled)
        assert '"error"' not in said, said
        engine.images.remove(pulled, noprune=True)   # on the registry alone now
        os.environ.update(REGISTRY=registry, **TAGS)
        proc, doc = run_json("up", "--stack", STACK, "--name", LAB, "--pull")
        assert proc.returncode == 0, proc.stderr
        assert f"pulled {pulled} on this machine" in proc.stderr
        # built as docker build builds it: BuildKit (RUN --mount=type=cache, target: serve), its progress shown
        assert "with the engine's BuildKit" in proc.stderr or "BuildKit through buildx" in proc.stderr, proc.stderr
        assert "--mount=type=cache" in proc.stderr and "[serve" in proc.stderr
        yield doc["data"]
    finally:
        for var in ["REGISTRY", *TAGS]:
            os.environ.pop(var, None)
        run_cli("down", LAB)
        for tag in list(USER_TAGS) + [BUILT] + ([pulled] if pulled else []):
            try:
                engine.images.remove(tag, noprune=True)
            except docker.errors.ImageNotFound:
                pass
        DindProvider(engine).destroy(LAB)   # the registry and its network


def test_a_plain_stack_comes_up_unchanged(own_lab):
    nodes = {n["name"]: n for n in own_lab["nodes"]}
    # one node for the edge (gateway), two for core (api: 2 replicas, 1 per node), the manager
    assert sorted(nodes) == ["node-1", "node-2", "node-3", "node-4"]
    services = {s["name"]: s for s in own_lab["services"]}
    assert {k: v["replicas"].split()[0] for k, v in services.items()} == {
        f"{P}-own_api": "2/2", f"{P}-own_cache": "1/1", f"{P}-own_gateway": "1/1"}
    api_nodes = {t["node"] for t in services[f"{P}-own_api"]["tasks"]}
    assert len(api_nodes) == 2
    # the stack's networks became the lab's, encryption asked by driver_opts
    nets = {n["name"]: n for n in own_lab["networks"]}
    assert set(nets) == {"front", "back"} and nets["back"]["requested"] == "auto"
    notes = own_lab["notes"]
    # Docker drops depends_on without a word: swarmlab says so, as itself
    assert any("depends_on (gateway): dropped, as docker stack deploy drops it (said by swarmlab" in n
               for n in notes), notes
    assert any("build (gateway): built on the controller" in n for n in notes), notes


def test_the_built_image_and_the_interpolated_port_answer(own_lab):
    import urllib.request

    url = next(u["url"] for u in own_lab["urls"] if "8081" in u["url"])  # ${GATEWAY_PORT:-8081}
    with urllib.request.urlopen(url, timeout=5) as resp:
        assert resp.read().decode().strip() == "hello from the gateway"   # build arg ${GREETING:-hello}


def test_configs_and_secrets_from_files_reach_the_tasks(own_lab, engine):
    import urllib.request

    url = next(u["url"] for u in own_lab["urls"] if "8081" in u["url"])
    with urllib.request.urlopen(url + "motd.txt", timeout=5) as resp:
        assert resp.read().decode() == open("tests/data/own/motd.txt").read()
    task = next(s for s in own_lab["services"] if s["name"] == f"{P}-own_api")["tasks"][0]
    node = engine.containers.get(f"swarmlab-{LAB}-{task['node']}")
    code, out = node.exec_run(["sh", "-c", f"docker exec $(docker ps -q --filter name={P}-own_api) "
                                           "cat /run/secrets/api_token"])
    assert code == 0 and out.decode() == open("tests/data/own/api_token.txt").read()
    # the file's `$$5` is a literal '$' in the task, not interpolated again on the node
    code, out = node.exec_run(["sh", "-c", f"docker exec $(docker ps -q --filter name={P}-own_api) "
                                           "printenv PRICE"])
    assert code == 0 and out.decode().strip() == "$5 a month", out


def test_verify_probes_the_port_nobody_declared(own_lab):
    proc, doc = run_json("verify", LAB)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    checks = {c["name"]: c for c in doc["data"]["checks"]}
    reach = checks["reach gateway -> api"]
    assert reach["status"] == "passed" and ":9000" in reach["observed"], reach
    assert doc["data"]["matrix"]["cells"]["gateway->api"] == "ok"
    assert doc["data"]["matrix"]["cells"]["outsider@front->api"] == "blocked"
    assert checks["internal api:9000"]["status"] == "passed"
    assert checks["data flow"]["status"] == "unsupported" and "not in this stack" in checks["data flow"]["observed"]


def test_a_missing_image_is_one_clear_error_before_anything_exists(engine, tmp_path):
    stack = tmp_path / "ghost.yml"
    stack.write_text(json.dumps({"services": {
        "a": {"image": "acme/ghost:1"}, "b": {"image": "acme/ghost:1"},
        "c": {"image": "swarmlab.local/nope:bookworm"}}}))
    proc, doc = run_json("up", "--stack", str(stack), "--name", f"{P}-ghost")
    assert proc.returncode == 3, proc.stderr
    text = "\n".join(doc["errors"])
    assert "image acme/ghost:1 (service a, b)" in text and "docker pull acme/ghost:1" in text
    assert "swarmlab.local/nope:bookworm (service c): not one of swarmlab's own images" in text
    assert labelled(engine, f"{P}-ghost") == {"containers": [], "networks": [], "volumes": []}

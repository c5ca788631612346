"""An SSH inventory that names a registry: the images are pushed once from the controller
and each host pulls what it may run, by digest; nothing goes over SSH. The registry is
Debian's docker-registry in a container (tests/data/registry), on the hosts' network for
pulls and published on 127.0.0.1 for the controller's push (127.0.0.1 needs no TLS). The
hosts' engines list the hosts' network as an insecure (plain HTTP) registry, as a user
with such a registry would."""
import pytest
import yaml


from ..conftest import P, ROOT, run_cli, run_json
from ..sshhosts import on_host, servers_for, swarm_state

pytestmark = pytest.mark.integration
HOSTS = f"{P}-regsrv"
LAB = f"{P}-reglab"
NAMES = {"alpha": ("manager", "app"), "gamma": ("worker", "data")}
DATA = ROOT / "tests" / "data"


@pytest.fixture(scope="module")
def servers(engine, tmp_path_factory):
    with servers_for(engine, HOSTS, LAB, NAMES, tmp_path_factory.mktemp("inv"), registry=True) as s:
        yield s


IMAGES = "docker images --format '{{.Repository}}:{{.Tag}}'"


def test_up_pulls_from_the_registry_and_down_removes_what_was_pulled(engine, servers):
    inv, reg = str(servers["inventory"]), servers["registry"]
    proc, doc = run_json("up", str(DATA / "registry" / "lab.yaml"), "--name", LAB, "--inventory", inv, timeout=900)
    assert proc.returncode == 0, proc.stderr
    rep = doc["data"]
    loaded = rep["up"]["images_loaded"]
    assert loaded["alpha"]["loaded"] == [f"{reg}/swarmlab/web:bookworm"], loaded
    assert sorted(loaded["gamma"]["loaded"]) == [f"{reg}/swarmlab/db:bookworm", f"{reg}/swarmlab/redis:bookworm"]
    assert {r["via"] for r in loaded.values()} == {reg}
    # the stack names each image by the digest pushed; nothing came over SSH
    assert all(s["image"].startswith(f"{reg}/swarmlab/") for s in rep["services"]), rep["services"]
    assert not [i for i in on_host(engine, servers, "gamma", IMAGES).split() if i.startswith("swarmlab.local/")]
    assert [c for c in rep["up"]["checks"] if c["status"] != "passed"] == []

    proc, doc = run_json("verify", "--inventory", inv, LAB, timeout=300)
    failed = [c for c in doc["data"]["checks"] if c["status"] == "failed"]
    assert proc.returncode == 0 and not failed, failed or proc.stderr

    proc, doc = run_json("up", str(DATA / "registry" / "lab.yaml"), "--name", LAB, "--inventory", inv, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert all(r["loaded"] == [] for r in doc["data"]["up"]["images_loaded"].values())

    proc = run_cli("down", "--inventory", inv, LAB, timeout=300)
    assert proc.returncode == 0, proc.stderr
    for name in NAMES:
        assert not [i for i in on_host(engine, servers, name, IMAGES).split() if "/swarmlab/" in i], name


def test_an_unreachable_registry_stops_preflight(engine, servers, tmp_path):
    doc = yaml.safe_load(servers["inventory"].read_text())
    doc["registry"] = {"address": f"{servers['plan'].node_ip(41)}:5000", "push": doc["registry"]["push"]}
    bad = servers["dir"] / "no-registry.yaml"
    bad.write_text(yaml.safe_dump(doc, sort_keys=False))
    proc = run_cli("inventory", "check", str(bad), "--connect", timeout=300)
    assert proc.returncode == 3, proc.stderr
    assert "2 of 2 hosts" in proc.stderr and proc.stderr.count("cannot reach the registry") == 2, proc.stderr
    assert swarm_state(engine, servers, "alpha") == "inactive"

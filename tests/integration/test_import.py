"""`swarmlab import` for real: a lab changed by hand (a node label, a second manager and a
paused node, a scale, an added constraint, a config, a secret, a password in the environment, an
internal network with an alias) is written to files, brought up under a new name, and
`diff` finds no difference; every shipped scenario round-trips the same way. The planted
secret and password never reach the files, the output or --json. An image only a node
holds is fetched from it."""
import json
import subprocess
from pathlib import Path

import docker
import pytest
import yaml

from ..conftest import ROOT, run_cli, run_json
from .labs import node_exec
from swarmlab.waiting import poll

pytestmark = pytest.mark.integration
PLANTED = "planted-pw-4Rk9"        # a DB_PASSWORD value that must never leave the source
SECRET = "planted-secret-8Vw2"     # a secret's value: Docker never gives it back, import never asks
TOOLS = ("version: \"3.8\"\\nservices:\\n  web:\\n    image: swarmlab.local/redis:bookworm\\n"
         "    networks: [backend]\\n"
         "    deploy: {endpoint_mode: dnsrr, placement: {constraints: [node.labels.tier == data]}}\\n"
         "networks:\\n  backend: {external: true}\\n")
# each change waits for its service to converge (no --detach), so the node is paused last,
# with every task where it runs
CHANGES = [
    "docker node update --label-add zone=b node-2",
    # a second stack with a service named as one of app's, and a service made without a stack
    # (dnsrr, as anything made by hand on a kernel without IPVS: a VIP answers nothing here)
    f"printf '{TOOLS}' | docker stack deploy -c - tools",
    "docker service create --quiet --name probe --endpoint-mode dnsrr --network backend "
    "--constraint node.labels.tier==data "
    "swarmlab.local/redis:bookworm",
    "docker service scale app_redis=2",
    "docker service update --constraint-add node.hostname!=node-1 app_redis",
    f"docker service update --env-add DB_PASSWORD={PLANTED} app_db",
    "printf 'mode=blue\\n' | docker config create app-conf -",
    f"printf {SECRET} | docker secret create api_token -",
    "docker service update --config-add source=app-conf,target=/etc/app.conf "
    "--secret-add source=api_token,target=tok,mode=0400 app_web",
    "docker network create -d overlay --attachable --internal --label team=blue extra",
    "docker service update --network-add name=extra,alias=cache app_redis",
    "docker node promote node-2",       # two managers: Docker takes an even number, so must the copy
    "docker node update --availability pause node-2",
]


def _said(*procs):
    return "".join(p.stdout + p.stderr for p in procs)


def _files_text(folder):
    return "".join(p.read_text(errors="replace") for p in folder.rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def changed(engine):
    from ..conftest import P

    lab = f"{P}-ims"
    try:
        proc, doc = run_json("up", "--name", lab)
        assert proc.returncode == 0 and doc["ok"], proc.stderr
        for cmd in CHANGES:
            code, out = node_exec(engine, lab, "node-1", cmd)
            assert code == 0, (cmd, out)
        yield lab
    finally:
        run_cli("down", lab)


def test_a_lab_changed_by_hand_round_trips_and_no_secret_leaves_it(engine, changed, tmp_path):
    from ..conftest import P

    copy, dest = f"{P}-imc", tmp_path / "copy"
    as_json, doc = run_json("import", changed, "-o", str(tmp_path / "as-json"))
    assert as_json.returncode == 0 and doc["data"]["hidden"] == ["DB_PASSWORD"], as_json.stderr
    proc = run_cli("import", changed, "-o", str(dest))
    assert proc.returncode == 0, proc.stderr
    assert f"swarmlab diff {changed} {changed}-copy" in proc.stdout
    assert sorted(p.name for p in dest.iterdir()) == [".env.example", "app.yml", "configs", "scenario.yaml",
                                                      "services.yml", "tools.yml"]
    assert (dest / "configs" / "app-conf").read_text() == "mode=blue\n"
    for text in (_said(proc, as_json), _files_text(dest), _files_text(tmp_path / "as-json")):
        assert PLANTED not in text and SECRET not in text
    scenario = yaml.safe_load((dest / "scenario.yaml").read_text())
    assert scenario["nodes"]["availability"] == {"node-2": "pause"}
    assert (scenario["nodes"]["managers"], scenario["nodes"]["workers"]) == (2, 1)
    assert scenario["networks"]["extra"] == {"encrypted": False, "attachable": True, "internal": True,
                                             "labels": {"team": "blue"}}
    (dest / ".env").write_text(f"DB_PASSWORD={PLANTED}\n")    # what the user does, from .env.example
    try:
        up = run_cli("up", str(dest / "scenario.yaml"), "--name", copy)
        assert up.returncode == 0, up.stdout + up.stderr
        assert PLANTED not in _said(up)
        assert "2 managers: a quorum needs 2 of them" in _said(up), _said(up)
        proc, doc = run_json("diff", changed, copy)
        assert proc.returncode == 0 and doc["data"]["differences"] == [], json.dumps(doc["data"], indent=1)
        text = run_cli("diff", changed, copy)
        assert text.returncode == 0 and f"labs {changed} and {copy}: no difference" in text.stdout
        # the same swarm reached as a user reaches theirs, by DOCKER_HOST: read whole, it
        # writes the same files, and diff against it agrees
        host = _engine_on_tcp(engine, changed, "node-1")
        proc = run_cli("import", "--docker-host", host, "-o", str(tmp_path / "prod"))
        assert proc.returncode == 0, proc.stderr
        assert f"then: swarmlab diff prod prod-copy --a-docker-host {host}" in proc.stdout
        for name in ("app.yml", ".env.example", "configs/app-conf"):     # a stack file's header names its source
            same = [(f / name).read_text().split(f"lab {src}.", 1)[-1] for f, src in ((tmp_path / "prod", "prod"),
                                                                                    (dest, changed))]
            assert same[0] == same[1], name
        proc, doc = run_json("diff", "prod", copy, "--a-docker-host", host)
        assert proc.returncode == 0 and doc["data"]["differences"] == [], json.dumps(doc["data"], indent=1)
        assert PLANTED not in _said(proc) + _files_text(tmp_path / "prod")
    finally:
        run_cli("down", copy)


def _engine_on_tcp(engine, lab, node, port=2375):
    """The node's engine served on TCP on the lab's own bridge (forward.py): its DOCKER_HOST."""
    cont = engine.containers.get(f"swarmlab-{lab}-{node}")
    cont.exec_run(["python3", "-c", (Path(__file__).parent / "forward.py").read_text(), str(port)], detach=True)
    ip = next(n["IPAddress"] for n in cont.attrs["NetworkSettings"]["Networks"].values() if n["IPAddress"])
    host = f"tcp://{ip}:{port}"
    poll(f"{node}'s engine on {host}", lambda: (subprocess.run(["docker", "-H", host, "info"], capture_output=True,
                                                               timeout=10).returncode == 0, host), timeout=30)
    return host


def test_a_bad_docker_host_is_said_and_writes_nothing(engine, changed, tmp_path):
    worker = _engine_on_tcp(engine, changed, "node-3")
    proc = run_cli("import", "--docker-host", worker, "-o", str(tmp_path / "x"))
    assert proc.returncode == 3 and "is a worker: give a manager's" in proc.stderr, proc.stderr
    proc = run_cli("import", "--docker-host", "tcp://x;touch /tmp/pwned:1", "-o", str(tmp_path / "x"))
    assert proc.returncode == 2 and "is not valid" in proc.stderr, proc.stderr
    assert list(tmp_path.iterdir()) == []


SUBNETS = "docker network ls -q --filter driver=overlay | xargs docker network inspect " \
          "--format '{{.Name}} {{range .IPAM.Config}}{{.Subnet}}{{end}}' | grep -v '^ingress' | sort"


@pytest.mark.parametrize("scenario", ["voting", "ha-global", "encrypted"])
def test_every_shipped_scenario_round_trips(engine, scenario, tmp_path):
    """voting with --keep-subnets: its copy's networks have the source's subnets."""
    from ..conftest import P

    src, copy = f"{P}-im{scenario[:2]}", f"{P}-im{scenario[:2]}c"
    keep = ["--keep-subnets"] if scenario == "voting" else []
    try:
        proc = run_cli("up", str(ROOT / "scenarios" / f"{scenario}.yaml"), "--name", src)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        proc = run_cli("import", src, "-o", str(tmp_path / "copy"), *keep)
        assert proc.returncode == 0, proc.stderr
        proc = run_cli("up", str(tmp_path / "copy" / "scenario.yaml"), "--name", copy)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        proc, doc = run_json("diff", src, copy)
        assert proc.returncode == 0 and doc["data"]["differences"] == [], json.dumps(doc["data"], indent=1)
        subnets = [node_exec(engine, lab, "node-1", SUBNETS)[1] for lab in (src, copy)]
        assert (subnets[0] == subnets[1]) == bool(keep) and "/" in subnets[0], subnets
    finally:
        for lab in (src, copy):
            run_cli("down", lab)


def test_a_bad_source_writes_nothing(tmp_path):
    proc = run_cli("import", "no-such-lab", "-o", str(tmp_path / "x"))
    assert proc.returncode == 2 and "no lab named 'no-such-lab'" in proc.stderr, proc.stderr
    proc = run_cli("import", "Bad_Name", "-o", str(tmp_path / "x"))
    assert proc.returncode == 2, proc.stderr
    assert list(tmp_path.iterdir()) == []


def test_fetch_images_copies_an_image_only_a_node_holds(engine, changed, tmp_path):
    """An image tagged on node-1 alone, run there by a service of the lab: `import` says
    this engine lacks it; with --fetch-images it is copied from node-1 into this engine,
    by the lab's name (the node's own transport) and by a DOCKER_HOST alike."""
    from ..conftest import P

    image = f"fetched.local/{P}-only-on-node-1:1"

    def source_of(doc):
        return next(i["from"] for i in doc["data"]["images"] if i["image"] == image)

    def here():
        try:
            engine.images.get(image)
            return True
        except docker.errors.ImageNotFound:
            return False

    code, out = node_exec(engine, changed, "node-1", f"docker tag swarmlab.local/web:bookworm {image} && "
                          f"docker service create --detach --name fetchme --label io.swarmlab.lab={changed} "
                          f"--constraint node.hostname==node-1 {image} sleep 1000000")
    assert code == 0, out
    try:
        proc, doc = run_json("import", changed, "-o", str(tmp_path / "plain"))
        assert proc.returncode == 0 and source_of(doc).startswith("not on this engine: `import --fetch-images`"), doc
        assert not here()
        proc, doc = run_json("import", changed, "-o", str(tmp_path / "by-lab"), "--fetch-images")
        assert proc.returncode == 0 and source_of(doc).startswith("fetched from node-1 ("), doc
        assert here()
        engine.images.remove(image)
        host = _engine_on_tcp(engine, changed, "node-1")
        proc, doc = run_json("import", "--docker-host", host, "-o", str(tmp_path / "by-host"), "--fetch-images")
        assert proc.returncode == 0 and source_of(doc).startswith(f"fetched from {host} ("), doc
        assert here()
    finally:
        node_exec(engine, changed, "node-1", "docker service rm fetchme")
        if here():
            engine.images.remove(image)

"""The lab core against the real engine: up, the stack answering across hosts, converging,
sealing, labels, the seed, the graph, verify, and bad input. A lab failing, caught failing,
resumed and taken down: test_lab_lifecycle.py; the engine restarting: test_engine_restart.py."""
import io
import json
import urllib.request

import docker
import pytest

from swarmlab import labels as L
from swarmlab.providers.dind import DindProvider
from swarmlab.providers.dind_node import MASKED_PATHS, UNUSED_CAPS

from ..conftest import P, ROOT, cgroups, labelled, run_cli, run_json
from ..procwatch import ArgvWatch
from . import labs
from .labs import ensure_up

pytestmark = pytest.mark.integration
LAB = P


@pytest.fixture(scope="module")
def shared_lab():
    return {}   # what `up` said of the module's lab, the last time it was made


@pytest.fixture
def lab_up(engine, shared_lab):
    return ensure_up(engine, shared_lab, LAB)


@pytest.fixture(scope="module")
def kernel(engine):
    return DindProvider(engine).probe_kernel(LAB)


def docker_client():
    import docker

    return docker.from_env()


def node_exec(engine, node, cmd):
    return labs.node_exec(engine, LAB, node, cmd)


def test_up_builds_a_verified_three_node_lab(lab_up, kernel):
    nodes = {n["name"]: n for n in lab_up["nodes"]}
    assert [(n, nodes[n]["role"]) for n in sorted(nodes)] == [
        ("node-1", "manager"), ("node-2", "worker"), ("node-3", "worker")]
    assert all(n["swarm"] == "ready" and n["container"] == "running" for n in nodes.values())
    assert nodes["node-1"]["manager"] == "leader"
    services = {s["name"]: s for s in lab_up["services"]}
    assert {k: v["replicas"] for k, v in services.items()} == {"app_web": "2/2", "app_db": "1/1", "app_redis": "1/1"}
    web_nodes = {t["node"] for t in services["app_web"]["tasks"]}
    assert len(web_nodes) == 2, "web's two replicas must run on two nodes"
    # every flow check passed: forced miss from db, hit from redis, crossing hosts
    checks = lab_up["up"]["checks"]
    assert len(checks) == 4 and all(c["status"] == "passed" for c in checks), checks
    # the kernel decides endpoint mode and encryption, and up says so
    modes = {s["endpoint_mode"] for s in services.values()}
    assert modes == ({"vip"} if kernel.ipvs else {"dnsrr"})
    nets = {n["name"]: n for n in lab_up["networks"]}
    assert nets["backend"]["requested"] == "auto" and nets["backend"]["encrypted"] is kernel.esp
    assert nets["frontend"]["encrypted"] is False and nets["frontend"]["vxlan_id"]
    if not kernel.esp:
        assert any("backend" in w and "PLAIN" in w for w in lab_up["warnings"])
    if not kernel.ipvs:
        assert any("dnsrr" in w for w in lab_up["warnings"])
    assert lab_up["pool"] and all(n["address"].startswith(lab_up["pool"].split(".0.0/")[0]) for n in nodes.values())


def test_web_reply_names_a_db_task_on_another_node(lab_up):
    urls = [u["url"] for u in lab_up["urls"] if u["service"] == "app_web"]
    assert len(urls) == 2
    for url in urls:
        with urllib.request.urlopen(url + "?cache=skip", timeout=10) as resp:
            miss = json.loads(resp.read())
        with urllib.request.urlopen(url, timeout=10) as resp:
            hit = json.loads(resp.read())
        assert miss["cache"] == "miss" and hit["cache"] == "hit"
        assert miss["db"]["task"].startswith("app_db.1.")
        assert miss["db"]["node"] != miss["served_by"]["node"]
        assert miss["redis"]["node"] != miss["served_by"]["node"]
        assert miss["redis"]["task"].startswith("app_redis.1.")


def test_internal_ports_do_not_answer_from_outside(lab_up):
    db_node = next(s for s in lab_up["services"] if s["name"] == "app_db")["tasks"][0]["node"]
    addr = next(n["address"] for n in lab_up["nodes"] if n["name"] == db_node)
    import socket

    for port in (5432, 6379):
        with pytest.raises(OSError):
            socket.create_connection((addr, port), timeout=2).close()


def test_everything_made_carries_the_lab_label(engine, lab_up):
    found = labelled(engine, LAB)
    assert sorted(found["containers"]) == [f"swarmlab-{LAB}-node-{i}" for i in (1, 2, 3)]
    assert sorted(found["volumes"]) == [f"swarmlab-{LAB}-node-{i}-docker" for i in (1, 2, 3)]
    assert found["networks"] == [f"swarmlab-{LAB}-underlay"]
    fmt = "{{index .Spec.Labels \"io.swarmlab.lab\"}}"
    code, out = node_exec(engine, "node-1", f"docker service inspect --format '{fmt}' app_web app_db app_redis")
    assert code == 0 and out.split() == [LAB] * 3
    code, out = node_exec(engine, "node-1", f"docker network ls -q --filter label={L.LAB}={LAB} | wc -l")
    assert out.strip() == "2"
    code, out = node_exec(engine, "node-3", f"docker volume ls -q --filter label={L.LAB}={LAB}")
    assert out.split() == ["app_db-data"]


def test_nodes_run_unprivileged_with_the_documented_flags(engine, lab_up):
    attrs = engine.containers.get(f"swarmlab-{LAB}-node-2").attrs
    hc = attrs["HostConfig"]
    assert hc["Privileged"] is False
    assert hc["CapAdd"] == ["ALL"] and hc["CapDrop"] == ["SYS_RESOURCE", *UNUSED_CAPS]
    assert "seccomp=unconfined" in hc["SecurityOpt"] and hc["MaskedPaths"] == list(MASKED_PATHS)
    # what the node's root may no longer do to this machine: set its clock, write the kernel's
    # core_pattern (a host program run as root), read its memory, press sysrq
    code, out = node_exec(engine, "node-2", "date -s @0 2>&1; echo 'x' > /proc/sys/kernel/core_pattern 2>&1; "
                                            "echo kcore=$(head -c1 /proc/kcore | wc -c) "
                                            "sysrq=$(cat /proc/sysrq-trigger | wc -c); "
                                            "grep CapBnd /proc/self/status")
    bound = int(out.split("CapBnd:")[1].split()[0], 16)
    assert "Operation not permitted" in out and "Read-only file system" in out, out
    assert "kcore=0 sysrq=0" in out, out                                # masked: empty
    assert not bound & (1 << 22 | 1 << 25 | 1 << 17 | 1 << 2)           # SYS_BOOT, SYS_TIME, SYS_RAWIO, DAC_READ_SEARCH
    assert bound & (1 << 21 | 1 << 12)                                 # SYS_ADMIN, NET_ADMIN: the engine's own
    assert "/run" in hc["Tmpfs"] and attrs["Config"]["StopTimeout"] == 30
    mounts = {m["Destination"]: m for m in attrs["Mounts"]}
    assert mounts["/var/lib/docker"]["Type"] == "volume" and mounts["/sys/fs/cgroup"]["RW"] is True
    code, out = node_exec(engine, "node-2", "cat /proc/$(pidof dockerd)/cmdline | tr '\\0' ' '")
    assert f"--cgroup-parent /swarmlab-{LAB}-node-2" in out


def test_nodes_share_image_layers_from_a_read_only_seed(engine, lab_up):
    # a new lab's nodes start with their images: nothing had to be loaded into them
    assert all(v["loaded"] == [] for v in lab_up["up"]["images_loaded"].values()), lab_up["up"]["images_loaded"]
    mounts = {m["Destination"]: m for m in engine.containers.get(f"swarmlab-{LAB}-node-3").attrs["Mounts"]}
    seed_mount = mounts["/var/lib/swarmlab-seed"]
    assert seed_mount["Type"] == "volume" and seed_mount["RW"] is False
    assert "images linked from the seed" in engine.containers.get(f"swarmlab-{LAB}-node-3").logs().decode()
    # every image layer's files are the seed's (a link), the engine's own files are the node's
    code, out = node_exec(engine, "node-3", "cd /var/lib/docker/overlay2 && for d in */diff; do "
                                            "[ -L $d ] && readlink $d; done | grep -c '^/var/lib/swarmlab-seed/'")
    assert code == 0 and int(out) >= 3, out
    code, out = node_exec(engine, "node-3", "touch /var/lib/swarmlab-seed/x")
    assert code != 0 and "Read-only" in out
    code, out = node_exec(engine, "node-3", "docker image ls --format '{{.Repository}}' | sort")
    assert out.split() == ["swarmlab.local/db", "swarmlab.local/redis"]
    proc, doc = run_json("images", "ls")
    seeds = {s["volume"]: s for s in doc["data"]["seeds"]}
    assert seeds[seed_mount["Name"]]["in_use"] is True
    assert seeds[seed_mount["Name"]]["images"] == "swarmlab.local/db:bookworm,swarmlab.local/redis:bookworm"


@pytest.fixture
def own_seed_scenario(engine, tmp_path):
    """tests/data/seed.yaml with an image of this session's own (redis with a label: an id
    no other session has), so that the seed this test makes and removes is its own."""
    ref = f"swarmlab.local/redis:{P}"
    engine.images.build(fileobj=io.BytesIO(f"FROM swarmlab.local/redis:bookworm\nLABEL swarmlab.test-run={P}\n"
                                           .encode()), tag=ref, rm=True)
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "one-redis.yml").write_text(
        (ROOT / "tests/data/stacks/one-redis.yml").read_text().replace("swarmlab.local/redis:bookworm", ref))
    scenario = tmp_path / "seed.yaml"
    scenario.write_text((ROOT / "tests/data/seed.yaml").read_text())
    yield str(scenario), ref
    engine.images.remove(ref, noprune=False)


def test_an_incomplete_seed_is_never_used_and_a_lab_scales(engine, own_seed_scenario):
    """A seed without its completion mark (an interrupted run) is ignored: the node
    starts empty and gets its images by docker load instead. Then the lab converges
    to two nodes and back to one."""
    from swarmlab.images import image_ref
    from swarmlab.providers import seed

    scenario, ref = own_seed_scenario
    refs = [ref]
    node_id, ids = engine.images.get(image_ref("node")).id, {r: engine.images.get(r).id for r in refs}
    name = seed.volume_name(seed.seed_key(node_id, refs, ids))
    engine.volumes.create(name, labels={L.ROLE: seed.ROLE_SEED, seed.SEED_IDS: ",".join([node_id, ids[refs[0]]])})
    try:
        proc, doc = run_json("up", scenario, "--name", f"{P}-seed")
        assert proc.returncode == 0, proc.stderr
        assert doc["data"]["up"]["images_loaded"]["node-1"]["loaded"] == refs
        logs = engine.containers.get(f"swarmlab-{P}-seed-node-1").logs().decode()
        assert "linked from the seed" not in logs
        # converging to more nodes, then back to fewer: no node is left behind. While node-2
        # joins, no process on this machine (the nodes' included) has a join token on its argv.
        with ArgvWatch(rb"SWMTKN-1-[0-9a-z]{20,}") as watch:   # a token, not a word naming one
            proc, doc = run_json("up", scenario, "--name", f"{P}-seed", "--nodes", "2")
        assert proc.returncode == 0, proc.stderr
        assert watch.rounds > 100
        assert not watch.seen, f"{len(watch.seen)} command lines held a join token"   # never the token itself
        assert [(n["name"], n["swarm"]) for n in doc["data"]["nodes"]] == [("node-1", "ready"), ("node-2", "ready")]
        proc, doc = run_json("up", scenario, "--name", f"{P}-seed")
        assert proc.returncode == 0, proc.stderr
        assert [n["name"] for n in doc["data"]["nodes"]] == ["node-1"]
        got = labelled(engine, f"{P}-seed")
        assert got["containers"] == [f"swarmlab-{P}-seed-node-1"]
        assert got["volumes"] == [f"swarmlab-{P}-seed-node-1-docker"]
        code, out = engine.containers.get(f"swarmlab-{P}-seed-node-1").exec_run(
            ["docker", "node", "ls", "--format", "{{.Hostname}}"])
        assert out.decode().split() == ["node-1"]
        assert not cgroups(f"swarmlab-{P}-seed-node-2")
    finally:
        assert run_cli("down", f"{P}-seed").returncode == 0
    proc, doc = run_json("images", "prune")
    assert proc.returncode == 0 and doc["data"]["seeds_removed"] >= 1
    with pytest.raises(docker.errors.NotFound):
        engine.volumes.get(name)


def test_lab_is_sealed(engine, lab_up):
    pool = lab_up["pool"]
    net = engine.networks.get(f"swarmlab-{LAB}-underlay")
    assert net.attrs["Internal"] is True
    code, out = node_exec(engine, "node-1", "iptables -S OUTPUT; iptables -S DOCKER-USER; ip route; cat /etc/resolv.conf")
    underlay = pool.replace(".0.0/16", ".0.0/24")
    assert f"-A OUTPUT ! -d {underlay} -o eth0 -j REJECT" in out
    assert f"-A DOCKER-USER ! -d {underlay} -o eth0 -j REJECT" in out
    assert f"unreachable {pool.replace('.0.0/16', '.128.0/17')}" in out
    assert "nameserver" not in out.split("sealed by swarmlab")[1]
    # a name outside the lab resolves neither in a node nor in a task (the node has no
    # nameserver at all: nothing is asked, see resolv.conf above)
    code, _ = node_exec(engine, "node-1", "getent hosts deb.debian.org")
    assert code != 0
    code, out = node_exec(engine, "node-1",
                          "c=$(docker ps -q --filter label=com.docker.swarm.service.name=app_web | head -n1); "
                          "docker exec $c python3 -c \"import socket; socket.getaddrinfo('deb.debian.org', 80)\"")
    assert code != 0 and "gaierror" in out
    code, out = node_exec(engine, "node-1",
                          "c=$(docker ps -q --filter label=com.docker.swarm.service.name=app_web | head -n1); "
                          "docker exec $c python3 -c \"import socket; print(socket.gethostbyname('db'))\"")
    assert code == 0 and out.strip().startswith(pool.split(".0.0/")[0]), out
    # a task of a sealed lab has neither its node's engine socket nor its node's files
    code, out = node_exec(engine, "node-1",
                          "c=$(docker ps -q --filter label=com.docker.swarm.service.name=app_web | head -n1); "
                          "docker exec $c sh -c 'test -e /var/run/docker.sock || test -e /run/docker.sock || "
                          "test -e /usr/local/bin/swarmlab-node || echo sealed'")
    assert code == 0 and out.strip() == "sealed", out


def test_up_again_converges(engine, lab_up, kernel):
    before = {c.name: c.id for c in engine.containers.list(filters=L.lab_filter(LAB))}
    proc, doc = run_json("up", "--name", LAB)
    assert proc.returncode == 0, proc.stderr
    assert doc["data"]["up"]["created"] is False
    loaded = doc["data"]["up"]["images_loaded"]
    assert sorted(loaded) == ["node-1", "node-2", "node-3"] and all(v["loaded"] == [] for v in loaded.values())
    after = {c.name: c.id for c in engine.containers.list(filters=L.lab_filter(LAB))}
    assert after == before
    code, out = node_exec(engine, "node-1", "docker node ls -q | wc -l; docker network ls --filter driver=overlay "
                                            "--format '{{.Name}}' | sort | tr '\\n' ' '")
    # 3 nodes; frontend, backend, and ingress only where there is IPVS for its routing mesh
    assert out.split() == ["3", "backend", "frontend"] + (["ingress"] if kernel.ipvs else [])


def test_status_and_ls(lab_up):
    proc, doc = run_json("status", LAB)
    assert proc.returncode == 0 and doc["command"] == "status"
    assert {n["name"] for n in doc["data"]["networks"]} == {"frontend", "backend"}
    assert all(c["ipvs"] in (True, False) for c in doc["data"]["capabilities"].values())
    proc, doc = run_json("ls")
    assert any(lab["name"] == LAB and lab["running"] == 3 for lab in doc["data"])
    proc = run_cli("status", LAB)
    assert proc.returncode == 0 and "app_web" in proc.stdout and "published on" in proc.stdout


def test_the_graph_names_every_node_overlay_and_task_the_lab_has(engine, lab_up, tmp_path):
    """Checked against what the lab's own manager lists, not against the scenario."""
    def inside(cmd):
        code, out = engine.containers.get(f"swarmlab-{LAB}-node-1").exec_run(["sh", "-c", cmd])
        assert code == 0, out
        return out.decode().split()

    nodes = inside("docker node ls --format '{{.Hostname}}'")
    overlays = inside("docker network ls --filter label=io.swarmlab.lab --format '{{.Name}}'")
    tasks = inside("docker service ps --filter desired-state=running --format '{{.Name}}' $(docker service ls -q)")
    assert len(nodes) == 3 and len(overlays) == 2 and len(tasks) == 4
    for fmt in ("dot", "mermaid"):
        proc = run_cli("graph", LAB, "--format", fmt)
        assert proc.returncode == 0, proc.stderr
        for name in [*nodes, *overlays, *tasks]:
            assert name in proc.stdout, (fmt, name)
    dot = run_cli("graph", LAB, "--format", "dot").stdout
    assert "VXLAN 4" in dot and "plain VXLAN" in dot and "8080->8000/tcp" in dot
    proc = run_cli("graph", LAB, "--format", "svg", "-o", str(tmp_path / "lab.svg"))
    assert proc.returncode == 0, proc.stderr
    svg = (tmp_path / "lab.svg").read_text()
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>") and all(t in svg for t in tasks)
    proc, doc = run_json("graph", LAB, "--format", "html", "-o", str(tmp_path / "lab.html"))
    page = (tmp_path / "lab.html").read_text()
    assert proc.returncode == 0 and doc["data"]["file"].endswith("lab.html") and "<svg" in page
    assert "http://" not in page.replace("http://www.w3.org", "")     # no remote asset


def test_verify_proves_the_traffic(lab_up, kernel, tmp_path):
    proc, doc = run_json("verify", LAB, "--capture", str(tmp_path))
    assert proc.returncode == 0, proc.stdout[-3000:]
    checks = {c["name"]: c for c in doc["data"]["checks"]}
    assert {c["status"] for c in checks.values()} <= {"passed", "unsupported"}
    for name in ("swarm: nodes", "dns from web", "reach web -> db", "reach: crosses hosts",
                 "reach from outsider on frontend", "internal db:5432", "published web:8080",
                 "wire: frontend", "wire: backend", "mtu: backend"):
        assert checks[name]["status"] == "passed", checks[name]
    assert checks["capabilities: node-1"]["observed"].startswith(f"IPVS {'yes' if kernel.ipvs else 'no'}")
    cells = doc["data"]["matrix"]["cells"]
    assert cells["outsider@frontend->db"] == "blocked" and cells["outsider@frontend->web"] == "ok"
    assert cells["web->db"] == "ok"
    outsider = checks["reach from outsider on frontend"]["observed"]
    assert "db: blocked, name does not resolve" in outsider and "web: ok, name resolves" in outsider
    if not kernel.esp:  # backend was left plain by encrypted: auto, and the wire shows it
        assert "plaintext on the wire" in checks["wire: backend"]["observed"]
        assert "left plain" in checks["wire: backend"]["expected"]
    assert checks["mtu: frontend"]["observed"].startswith("MTU 1450")
    pcaps = sorted(tmp_path.glob("*.pcap"))
    assert len(pcaps) == 2 and all(p.stat().st_size > 24 for p in pcaps)
    code, out = node_exec(docker_client(), "node-1", f"docker ps -aq --filter label={L.ROLE}={L.ROLE_PROBE} | wc -l")
    assert out.strip() == "0", "verify left a probe container behind"


def not_other_sessions(engine) -> dict:
    """Everything labelled on the engine but the labs of another test session beside this one."""
    def ours(name):
        return not name.startswith("swarmlab-it") or name.startswith(f"swarmlab-{P}-")
    return {k: [x for x in v if ours(x)] for k, v in labelled(engine, None).items()}


def test_bad_input_exits_2_and_creates_nothing(engine):
    before = not_other_sessions(engine)
    proc = run_cli("up", "swarmlab/config/testdata/invalid-stack.yaml")
    assert proc.returncode == 2
    assert "5 problems" in proc.stderr and "'Redis:7' is not valid" in proc.stderr and "gpu" in proc.stderr
    proc, doc = run_json("up", "swarmlab/config/testdata/invalid-topology.yaml")
    # the header and 3 problems (a name, a label for no such node, a pool; its 2 managers Docker takes)
    assert proc.returncode == 2 and doc["ok"] is False and len(doc["errors"]) == 4
    assert not_other_sessions(engine) == before


def test_encrypted_true_follows_the_kernel(engine, kernel, lab_up):
    if kernel.esp:
        proc, doc = run_json("up", "tests/data/encrypted.yaml", "--name", f"{P}-enc")
        assert proc.returncode == 0, proc.stderr
        assert doc["data"]["networks"][0]["encrypted"] is True
    else:
        proc, doc = run_json("up", "tests/data/encrypted.yaml", "--name", f"{P}-enc")
        assert proc.returncode == 3, proc.stderr
        assert "network secure asks for encrypted: true" in doc["errors"][0] and "--force" in doc["errors"][0]
        assert labelled(engine, f"{P}-enc") == {"containers": [], "networks": [], "volumes": []}
        # --force creates it anyway, to watch it fail closed; and beside the first lab
        proc, doc = run_json("up", "tests/data/encrypted.yaml", "--name", f"{P}-enc", "--force")
        assert proc.returncode == 0, proc.stderr
        net = doc["data"]["networks"][0]
        assert net["name"] == "secure" and net["encrypted"] is True and net["requested"] == "true"
        assert any("fail-closed" in w for w in doc["warnings"])
        # and verify says so from the wire: nothing left the node, ESP unsupported here
        _, vdoc = run_json("verify", f"{P}-enc")
        wire = next(c for c in vdoc["data"]["checks"] if c["name"] == "wire: secure")
        assert wire["status"] == "unsupported" and "fail-closed confirmed" in wire["observed"], wire
    assert doc["data"]["pool"] != lab_up["pool"], "two labs side by side must not share a range"
    proc = run_cli("down", f"{P}-enc")
    assert proc.returncode == 0 and labelled(engine, f"{P}-enc") == {"containers": [], "networks": [], "volumes": []}

"""The SSH inventory provider for real: three dind nodes run sshd (host keys made per node
at start and read back to pin them) and the full `up / verify / status / down` runs
through SSH, as it would on servers. Bad hosts (wrong host key, wrong user, unreachable,
no engine, no docker) and a blocked Swarm port each give one clear line, all at once."""
import time

import pytest
import yaml

from swarmlab import labels as L
from swarmlab import naming
from swarmlab.images import image_ref

from ..conftest import P, run_cli, run_json
from ..sshhosts import exec_in as _exec, servers_for, swarm_state, wait_port

pytestmark = pytest.mark.integration
HOSTS = f"{P}-sshhosts"        # the "servers": dind nodes with sshd, made by this test
LAB = f"{P}-sshlab"            # the lab the SSH provider brings up on them
NAMES = {"alpha": ("manager", "app"), "beta": ("worker", "app"), "gamma": ("worker", "data")}


@pytest.fixture(scope="module")
def servers(engine, tmp_path_factory):
    with servers_for(engine, HOSTS, LAB, NAMES, tmp_path_factory.mktemp("inv"), registry=False) as s:
        yield s


MARKER = "/tmp/swarmlab-pwned"
HOSTILE = [f"x;touch {MARKER}", f"$(touch {MARKER})", f"`touch {MARKER}`", f"x' ; touch {MARKER} ; '",
           f"x\ntouch {MARKER}", f"--filter=x; touch {MARKER}"]


def _no_marker_anywhere(engine, servers):
    import os

    assert not os.path.exists(MARKER), "the controller ran a name as a command"
    for name in NAMES:
        code, out = _exec(engine, servers["hosts"][name]["container"], f"ls {MARKER} 2>&1")
        assert code != 0, f"{name} ran a name as a command: {out}"


def test_hostile_lab_names_never_become_commands(engine, servers, tmp_path):
    """Grammar at the edge: each command refuses the name (exit 2) before it connects.
    Quoting at the exit: the same names handed to the library past the edge reach the
    hosts only as quoted arguments (so a lab of that name is just not found)."""
    from swarmlab import drills
    from swarmlab import lab as labapi
    from swarmlab import verify as verifyapi
    from swarmlab.config.inventory import load_inventory
    from swarmlab.errors import SwarmlabError
    from swarmlab.providers.ssh import SSHProvider

    inv = str(servers["inventory"])
    for name in HOSTILE[:3]:
        for args in (["status", name], ["down", name], ["verify", name], ["drill", "drain", "alpha", name]):
            proc = run_cli(*args, "--inventory", inv, timeout=60)
            assert proc.returncode == 2, (args, proc.stderr)
            assert "is not a DNS label" in proc.stderr, proc.stderr
    provider = SSHProvider(load_inventory(inv))
    try:
        for name in HOSTILE:
            assert provider.exists(name) is False
            provider.destroy(name)
            provider.collect_logs(name, tmp_path / "logs")
            for call in (lambda: labapi.status(name, provider), lambda: verifyapi.run(name, provider, timeout=10),
                         lambda: drills.run(name, provider, drills.find("drain").with_params({"node": "alpha"}))):
                try:
                    call()
                except SwarmlabError:
                    pass   # not found, or not whole: what matters is what ran on the hosts
    finally:
        provider.close()
    _no_marker_anywhere(engine, servers)


def test_bad_hosts_are_all_reported_at_once_and_nothing_changes(engine, servers, tmp_path):
    """Five broken hosts, one error naming each with its fix; exit 3; no host touched."""
    h = servers["hosts"]
    # two more "servers": sshd without an engine, and sshd without docker at all
    extra = {}
    for name, prep in (("noengine", "true"), ("nodocker", "rm -f /usr/bin/docker")):
        cont = engine.containers.run(
            image_ref("node"), detach=True, name=f"swarmlab-{HOSTS}-{name}", labels=L.stamp(HOSTS, L.ROLE_NODE, node=name),
            network=naming.underlay_network(HOSTS),
            entrypoint=["sh", "-c", f"{prep}; ssh-keygen -A >/dev/null && mkdir -p /run/sshd /root/.ssh && "
                                    f"echo '{(servers['dir'] / 'id.pub').read_text().strip()}' "
                                    "> /root/.ssh/authorized_keys && exec /usr/sbin/sshd -D -e"])
        for _ in range(100):
            code, out = _exec(engine, cont.name, "cat /etc/ssh/ssh_host_ed25519_key.pub && pidof sshd")
            if code == 0:
                break
            time.sleep(0.1)
        cont.reload()
        extra[name] = {"ip": cont.attrs["NetworkSettings"]["Networks"][naming.underlay_network(HOSTS)]["IPAddress"],
                       "host_key": " ".join(out.split()[:2])}
        wait_port(extra[name]["ip"])
    other_key = h["beta"]["host_key"]
    (tmp_path / "id").write_bytes((servers["dir"] / "id").read_bytes())
    (tmp_path / "id").chmod(0o600)
    inv = {"apiVersion": "swarmlab/v1", "kind": "Inventory", "defaults": {"key_file": "id"}, "hosts": {
        "alpha": {"address": h["alpha"]["ip"], "role": "manager", "host_key": other_key},          # wrong key
        "beta": {"address": h["beta"]["ip"], "role": "worker", "user": "nobody",
                 "host_key": h["beta"]["host_key"]},                                                  # wrong user
        "gamma": {"address": h["gamma"]["ip"], "port": 2299, "role": "worker",
                  "host_key": h["gamma"]["host_key"]},                                                # nothing there
        "noengine": {"address": extra["noengine"]["ip"], "role": "worker", "host_key": extra["noengine"]["host_key"]},
        "nodocker": {"address": extra["nodocker"]["ip"], "role": "worker", "host_key": extra["nodocker"]["host_key"]},
    }}
    for name, host in inv["hosts"].items():
        host["labels"] = {"tier": "data" if name == "gamma" else "app"}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(inv))
    proc = run_cli("up", "--inventory", str(path), "--name", LAB, timeout=300)
    err = proc.stderr
    assert proc.returncode == 3, err
    assert "5 of 5 hosts" in err and "nothing was changed" in err, err
    assert "alpha" in err and "host key does not match the pinned one" in err, err
    assert "beta" in err and "authentication failed" in err, err
    assert "gamma" in err and "unreachable" in err, err
    assert "noengine" in err and "Docker engine does not answer" in err, err
    assert "nodocker" in err and "docker is not installed" in err, err
    assert "Traceback" not in err and "unexpected" not in err, err
    for name in NAMES:
        assert swarm_state(engine, servers, name) == "inactive"


def test_a_blocked_swarm_port_is_found_before_anything_is_made(engine, servers):
    gamma = servers["hosts"]["gamma"]["container"]
    rule = "INPUT -p udp --dport 4789 -s {} -j DROP".format(servers["hosts"]["alpha"]["ip"])
    assert _exec(engine, gamma, f"iptables -I {rule}")[0] == 0
    try:
        proc = run_cli("up", "--inventory", str(servers["inventory"]), "--name", LAB, timeout=300)
    finally:
        _exec(engine, gamma, f"iptables -D {rule}")
    assert proc.returncode == 3, proc.stderr
    assert "1 of 3 hosts" in proc.stderr and "4789/udp from alpha" in proc.stderr, proc.stderr
    assert "from beta" not in proc.stderr, proc.stderr
    assert swarm_state(engine, servers, "alpha") == "inactive"


def test_inventory_check_connect_finds_esp_blocked_between_two_hosts(engine, servers):
    """`inventory check --connect` runs the preflight alone. IP protocol 50 is sent for real
    (raw sockets) between every pair of hosts: dropped from beta to gamma, it is named."""
    inv = str(servers["inventory"])
    proc, doc = run_json("inventory", "check", inv, "--connect", timeout=300)
    assert proc.returncode == 0, proc.stderr
    data = doc["data"]
    assert sorted(r["host"] for r in data["hosts"]) == ["alpha", "beta", "gamma"]
    assert all(r["docker"] and r["swarm"] == "inactive" for r in data["hosts"]), data["hosts"]
    assert data["esp_blocked"] == {}, data
    gamma = servers["hosts"]["gamma"]["container"]
    rule = "INPUT -p esp -s {} -j DROP".format(servers["hosts"]["beta"]["ip"])
    assert _exec(engine, gamma, f"iptables -I {rule}")[0] == 0
    try:
        proc, doc = run_json("inventory", "check", inv, "--connect", timeout=300)
    finally:
        _exec(engine, gamma, f"iptables -D {rule}")
    assert proc.returncode == 0, proc.stderr
    assert doc["data"]["esp_blocked"] == {"gamma": ["beta"]}, doc["data"]
    assert doc["data"]["esp"] is False
    assert any(w.startswith("gamma: ESP (IP protocol 50) from beta does not arrive") for w in doc["warnings"]), doc
    assert swarm_state(engine, servers, "alpha") == "inactive"


def test_up_verify_down_over_ssh(engine, servers, tmp_path):
    inv = str(servers["inventory"])
    proc, doc = run_json("up", "--inventory", inv, "--name", LAB, timeout=900)
    assert proc.returncode == 0, proc.stderr
    rep = doc["data"]
    assert rep["provider"] == "ssh"
    assert sorted(n["name"] for n in rep["nodes"]) == ["alpha", "beta", "gamma"]
    assert {n["name"]: n["swarm"] for n in rep["nodes"]} == {"alpha": "ready", "beta": "ready", "gamma": "ready"}
    # images went over SSH to the hosts that may run them: web to the app hosts, db+redis to the data host
    loaded = rep["up"]["images_loaded"]
    assert any("web" in r for r in loaded["alpha"]["loaded"]) and any("db" in r for r in loaded["gamma"]["loaded"])
    tasks = {s["name"]: {t["node"] for t in s["tasks"]} for s in rep["services"]}
    assert tasks["app_db"] == {"gamma"} and tasks["app_web"] <= {"alpha", "beta"}
    assert [c for c in rep["up"]["checks"] if c["status"] != "passed"] == []

    proc, doc = run_json("verify", "--inventory", inv, LAB, "--capture", str(tmp_path / "pcap"), timeout=300)
    failed = [c for c in doc["data"]["checks"] if c["status"] == "failed"]
    assert proc.returncode == 0 and not failed, failed or proc.stderr
    status = {c["name"]: c["status"] for c in doc["data"]["checks"]}
    assert status["wire: backend"] == status["wire: frontend"] == "passed", status
    assert any(n.startswith("cross-host via") and s == "passed" for n, s in status.items()), status
    assert list((tmp_path / "pcap").glob("*.pcap"))

    # compare on the inventory's hosts: the bridges on one host, each overlay across two;
    # what it loaded for the bridges it removes again (down checks that no image is left)
    proc, doc = run_json("compare", "--inventory", inv, LAB, timeout=600)
    assert proc.returncode == 0, proc.stderr
    ways = {v["key"]: v for v in doc["data"]["variants"]}
    assert {k for k, v in ways.items() if v["measured"]} == {"raw", "default-bridge", "user-bridge",
                                                             "overlay-backend", "overlay-frontend"}
    bridge_hosts = {ways[k]["client"].rsplit(" on ", 1)[1] for k in ("raw", "default-bridge", "user-bridge")}
    assert len(bridge_hosts) == 1, bridge_hosts
    for k in ("overlay-backend", "overlay-frontend"):
        assert ways[k]["client_node"] != ways[k]["server_node"], ways[k]
        assert ways[k]["throughput"]["median_gbps"] > 0 and ways[k]["throughput"]["command"].startswith("server: ssh ")
    assert "no IPsec ESP" in ways["overlay-encrypted"]["why_not"]

    # a second up converges: nothing is loaded again, the swarm is the same
    proc, doc = run_json("up", "--inventory", inv, "--name", LAB, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert all(not v["loaded"] for v in doc["data"]["up"]["images_loaded"].values())

    proc, doc = run_json("ls", "--inventory", inv)
    assert [lab["name"] for lab in doc["data"]] == [LAB]

    # drills over SSH: drain and cut-link run through the same transport; a host is never killed
    proc, doc = run_json("drill", "drain", "beta", "--inventory", inv, LAB, "--hold", "2", timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "ready, drain" in [e["now"] for e in doc["data"]["timeline"] if e["what"] == "node beta"]
    proc, doc = run_json("drill", "cut-link", "alpha", "--peer", "gamma", "--inventory", inv, LAB,
                         "--hold", "2", timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert {c["name"]: c["status"] for c in doc["data"]["checks"]}["alpha -> gamma cut"] == "passed"
    code, out = _exec(engine, servers["hosts"]["alpha"]["container"], "iptables -S | grep -c SWARMLAB-DRILL")
    assert out.strip() == "0", out
    proc = run_cli("drill", "kill-node", "beta", "--inventory", inv, LAB)
    assert proc.returncode == 3 and "not supported by the ssh provider" in proc.stderr, proc.stderr

    # import: the lab on the servers, reproduced as dind nodes here, and diff agrees
    copy = f"{LAB}-copy"
    proc = run_cli("import", LAB, "--inventory", inv, "-o", str(tmp_path / "copy"), timeout=300)
    assert proc.returncode == 0, proc.stderr
    try:
        proc = run_cli("up", str(tmp_path / "copy" / "scenario.yaml"), "--name", copy)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        proc, doc = run_json("diff", LAB, copy, "--a-inventory", inv, timeout=300)
        assert proc.returncode == 0 and doc["data"]["differences"] == [], doc["data"]
        assert doc["data"]["nodes_paired"] == {"alpha": "node-1", "beta": "node-2", "gamma": "node-3"}
    finally:
        run_cli("down", copy)
    _fetched_over_ssh(engine, servers, inv, next(r for r in loaded["alpha"]["loaded"] if "web" in r), tmp_path)

    proc, doc = run_json("down", "--inventory", inv, LAB, timeout=300)
    assert proc.returncode == 0, proc.stderr
    removed = doc["data"]["removed"]
    assert removed["services"] == 3 and removed["networks"] == 2 and removed["hosts left the swarm"] == 3
    for name, h in servers["hosts"].items():
        assert engine.containers.get(h["container"]).status == "running"       # the host stays
        assert swarm_state(engine, servers, name) == "inactive"               # the lab made the swarm
        code, out = _exec(engine, h["container"], "docker images --format '{{.Repository}}'; "
                                                  f"docker volume ls -q --filter label={L.LAB}={LAB}; docker ps -aq")
        assert out.strip() == "", f"{name} keeps: {out}"


def _fetched_over_ssh(engine, servers, inv, web, tmp_path):
    """An image only alpha holds (tagged there, run there by a service of the lab): import
    --fetch-images brings it over SSH into this engine; then the service and both copies go."""
    import docker

    image, alpha = f"fetched.local/{P}-ssh:1", servers["hosts"]["alpha"]["container"]
    code, out = _exec(engine, alpha, f"docker tag {web} {image} && docker service create --detach --name fetchme "
                                     f"--label {L.LAB}={LAB} --constraint node.role==manager {image} sleep 1000000")
    assert code == 0, out
    try:
        proc, doc = run_json("import", LAB, "--inventory", inv, "-o", str(tmp_path / "fetched"), "--fetch-images",
                             timeout=600)
        assert proc.returncode == 0, proc.stderr
        said = next(i["from"] for i in doc["data"]["images"] if i["image"] == image)
        assert said.startswith("fetched from alpha ("), said
        assert engine.images.get(image).id
    finally:
        # the service's container gone too (bounded), before down counts what is left on alpha
        _exec(engine, alpha, "docker service rm fetchme; for i in $(seq 60); do docker ps -aq --filter "
                             f"label=com.docker.swarm.service.name=fetchme | grep -q . || break; sleep 1; done; "
                             f"docker rmi {image}")
        try:
            engine.images.remove(image)
        except docker.errors.ImageNotFound:
            pass


def test_down_leaves_a_swarm_the_lab_did_not_make(engine, servers):
    """A swarm that was there before the lab stays, with its own node labels; only the lab goes."""
    h = servers["hosts"]
    alpha, beta = h["alpha"]["container"], h["beta"]["container"]
    assert _exec(engine, alpha, f"docker swarm init --advertise-addr {h['alpha']['ip']}")[0] == 0
    token = _exec(engine, alpha, "docker swarm join-token -q worker")[1].strip()
    for name in ("beta", "gamma"):
        code, out = _exec(engine, h[name]["container"], f"docker swarm join --token {token} {h['alpha']['ip']}:2377")
        assert code == 0, out
    _exec(engine, alpha, "docker node update --label-add team=ops server-2")
    try:
        inv = str(servers["inventory"])
        proc, doc = run_json("up", "--inventory", inv, "--name", LAB, timeout=900)
        assert proc.returncode == 0, proc.stderr
        proc, doc = run_json("down", "--inventory", inv, LAB, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert doc["data"]["removed"]["hosts left the swarm"] == 0
        for name in NAMES:
            assert swarm_state(engine, servers, name) == "active"
        labels = _exec(engine, alpha, "docker node inspect server-2 --format '{{json .Spec.Labels}}'")[1]
        assert '"team":"ops"' in labels and "tier" not in labels, labels
        assert _exec(engine, alpha, f"docker network ls -q --filter label={L.LAB}={LAB}")[1].strip() == ""
    finally:
        for c in (beta, h["gamma"]["container"], alpha):
            _exec(engine, c, "docker swarm leave --force")


def test_trust_on_first_use_records_the_keys_beside_the_inventory(servers, tmp_path):
    from swarmlab.config.inventory import load_inventory
    from swarmlab.errors import ConfigError, PreflightError
    from swarmlab.providers.ssh import SSHProvider

    doc = yaml.safe_load(yaml.safe_dump(servers["doc"]))
    for host in doc["hosts"].values():
        del host["host_key"]
    (tmp_path / "id").write_bytes((servers["dir"] / "id").read_bytes())
    (tmp_path / "id").chmod(0o600)
    path = tmp_path / "unpinned.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ConfigError, match="problem"):
        load_inventory(path)                       # not without the flag
    p = SSHProvider(load_inventory(path, trust_on_first_use=True), trust_on_first_use=True)
    p.preflight()
    assert all("trusted on first use" in " ".join(f.warnings) for f in p.facts.values())
    recorded = (tmp_path / "unpinned.known_hosts").read_text().splitlines()
    assert sorted(recorded) == sorted(f"{h['ip']} {h['host_key']}" for h in servers["hosts"].values())
    p.close()
    # from now on the recorded keys are the pinned ones, flag or not
    p = SSHProvider(load_inventory(path))
    p.preflight()
    p.close()
    alpha = servers["hosts"]["alpha"]
    (tmp_path / "unpinned.known_hosts").write_text("\n".join(
        line.replace(alpha["host_key"], servers["hosts"]["beta"]["host_key"]) for line in recorded) + "\n")
    p = SSHProvider(load_inventory(path, trust_on_first_use=True), trust_on_first_use=True)
    with pytest.raises(PreflightError, match="alpha .*does not match the pinned one"):
        p.preflight()
    p.close()

"""Stand-ins for servers on this machine: dind nodes running sshd, their host keys made
per node at start and read back to pin them, and an inventory of them (used by the SSH
provider's tests and bench/bench_ssh.py). Everything carries the labels of lab `lab`, so
`DindProvider.destroy(lab)` (or the test session's sweep) removes it."""
import contextlib
import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import yaml
from docker.types import IPAMConfig, IPAMPool

from swarmlab import labels as L
from swarmlab import naming
from swarmlab.images import ImageBuilder, image_ref
from swarmlab.providers.dind import DindProvider
from swarmlab.providers.dind_node import node_env as _node_env, node_host_config as _node_host_config

REGISTRY_IMAGE = "swarmlab.local/test-registry:bookworm"


def wait_port(ip: str, port: int = 22, tries: int = 100) -> None:
    """sshd's pid exists a moment before it listens."""
    for _ in range(tries):
        try:
            socket.create_connection((ip, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise AssertionError(f"nothing listens on {ip}:{port}")


def exec_in(engine, cont, cmd):
    code, out = engine.containers.get(cont).exec_run(["sh", "-c", cmd])
    return code, out.decode(errors="replace")


def on_host(engine, servers: dict, name: str, cmd: str) -> str:
    """What `cmd` prints on the server `name` (run there directly, not over SSH)."""
    return exec_in(engine, servers["hosts"][name]["container"], cmd)[1]


def swarm_state(engine, servers: dict, name: str) -> str:
    return on_host(engine, servers, name, "docker info --format '{{.Swarm.LocalNodeState}}'").strip()


def make_servers(engine, lab: str, names: dict, d: Path) -> dict:
    """names: inventory name -> (role, tier). Writes d/servers.yaml and d/id (the key)."""
    ImageBuilder(engine).build()
    plan = DindProvider(engine).allocate_pool(lab)
    net = naming.underlay_network(lab)
    engine.networks.create(net, driver="bridge", internal=True,
                           ipam=IPAMConfig(pool_configs=[IPAMPool(subnet=str(plan.underlay), gateway=plan.gateway)]),
                           labels=L.stamp(lab, L.ROLE_UNDERLAY, pool=str(plan.pool), provider="test"))
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(d / "id")], check=True)
    pub = (d / "id.pub").read_text().strip()
    api = engine.api
    info = {}
    for i, name in enumerate(names, 1):
        cont = naming.container_name(lab, name)
        vol = naming.state_volume(lab, name)
        engine.volumes.create(vol, labels=L.stamp(lab, L.ROLE_NODE_STATE, node=name))
        ip = plan.node_ip(i)
        # the host's own name differs from the inventory's: the swarm calls it server-N
        cid = api.create_container(
            image_ref("node"), name=cont, hostname=f"server-{i}",
            environment={**_node_env(lab, name, plan), "SWARMLAB_SSHD": "1"},
            labels=L.stamp(lab, L.ROLE_NODE, node=name),
            host_config=_node_host_config(api, vol, net),
            networking_config=api.create_networking_config({net: api.create_endpoint_config(ipv4_address=ip)}))
        api.start(cid)
        info[name] = {"container": cont, "ip": ip}
    for name, h in info.items():
        for _ in range(200):
            code, out = exec_in(engine, h["container"], "cat /etc/ssh/ssh_host_ed25519_key.pub && pidof sshd "
                                "&& docker info >/dev/null 2>&1")
            # an engine under load may answer an exec with its exit code and none of its output
            # (seen once in CI: an empty host key pinned); only the key itself counts as ready
            if code == 0 and out.startswith("ssh-ed25519 "):
                break
            time.sleep(0.2)
        assert code == 0 and out.startswith("ssh-ed25519 "), out
        wait_port(h["ip"])
        h["host_key"] = " ".join(out.split()[:2])
        exec_in(engine, h["container"], f"mkdir -p /root/.ssh && echo '{pub}' > /root/.ssh/authorized_keys")
    inv = {"apiVersion": "swarmlab/v1", "kind": "Inventory", "defaults": {"user": "root", "key_file": "id"},
           "hosts": {n: {"address": h["ip"], "role": names[n][0], "labels": {"tier": names[n][1]},
                         "host_key": h["host_key"]} for n, h in info.items()}}
    path = d / "servers.yaml"
    path.write_text(yaml.safe_dump(inv, sort_keys=False))
    return {"dir": d, "inventory": path, "hosts": info, "doc": inv, "plan": plan}


def local_registry(engine, lab: str) -> tuple:
    """Debian's docker-registry (tests/data/registry) in a container of lab `lab`, published
    on 127.0.0.1 (which needs no TLS): (the container, the address to push to)."""
    engine.images.build(path=str(Path(__file__).parent / "data" / "registry"), tag=REGISTRY_IMAGE,
                        buildargs={"BASE": image_ref("base")}, rm=True, labels={L.ROLE: "test-registry"})
    push_net = engine.networks.create(f"swarmlab-{lab}-push", driver="bridge",
                                      labels=L.stamp(lab, L.ROLE_UNDERLAY, provider="test"))
    cont = engine.containers.create(REGISTRY_IMAGE, name=f"swarmlab-{lab}-registry", network=push_net.name,
                                    ports={"5000/tcp": ("127.0.0.1", None)},
                                    labels=L.stamp(lab, "test-registry"))
    cont.start()
    cont.reload()
    port = cont.attrs["NetworkSettings"]["Ports"]["5000/tcp"][0]["HostPort"]
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    return cont, f"127.0.0.1:{port}"


def start_registry(engine, lab: str, servers: dict) -> tuple:
    """The local registry, also on the servers' network for their pulls:
    (address the hosts pull from, push address)."""
    cont, push = local_registry(engine, lab)
    ip = servers["plan"].node_ip(40)
    engine.networks.get(naming.underlay_network(lab)).connect(cont, ipv4_address=ip)
    return f"{ip}:5000", push


def trust_plain_http(engine, container, subnet):
    """insecure-registries for the hosts' network, reloaded by SIGHUP (no restart)."""
    code, out = exec_in(engine, container, f"echo '{json.dumps({'insecure-registries': [subnet]})}' "
                                           "> /etc/docker/daemon.json && kill -HUP $(pidof dockerd)")
    assert code == 0, out
    for _ in range(50):
        code, out = exec_in(engine, container, "docker info --format '{{json .RegistryConfig.InsecureRegistryCIDRs}}'")
        if subnet in out:
            return
        time.sleep(0.1)
    raise AssertionError(f"{container}: insecure-registries not reloaded: {out}")


def add_registry(engine, lab: str, servers: dict) -> dict:
    """A registry for the servers of make_servers, trusted by their engines and named in
    their inventory (registry: {address, push})."""
    address, push = start_registry(engine, lab, servers)
    for h in servers["hosts"].values():
        trust_plain_http(engine, h["container"], str(servers["plan"].underlay))
    servers["doc"] = dict(servers["doc"], registry={"address": address, "push": push})
    servers["inventory"].write_text(yaml.safe_dump(servers["doc"], sort_keys=False))
    servers["registry"] = address
    return servers


@contextlib.contextmanager
def servers_for(engine, hosts_lab: str, lab: str, names: dict, d: Path, registry: bool = False):
    """make_servers (and a registry), then at the end: `down` of `lab` on them, and the
    servers destroyed, whatever happened."""
    try:
        s = make_servers(engine, hosts_lab, names, d)
        yield add_registry(engine, hosts_lab, s) if registry else s
    finally:
        subprocess.run([sys.executable, "-m", "swarmlab", "down", "--inventory", str(d / "servers.yaml"), lab],
                       cwd=Path(__file__).resolve().parents[1], capture_output=True, timeout=300)
        DindProvider(engine).destroy(hosts_lab)

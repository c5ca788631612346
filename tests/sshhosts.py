"""Stand-ins for servers on this machine: dind nodes running sshd, their host keys made
per node at start and read back to pin them, and an inventory of them (used by the SSH
provider's tests and bench/bench_ssh.py). Everything carries the labels of lab `lab`, so
`DindProvider.destroy(lab)` (or the test session's sweep) removes it."""
import socket
import subprocess
import time
from pathlib import Path

import yaml
from docker.types import IPAMConfig, IPAMPool

from swarmlab import labels as L
from swarmlab import naming
from swarmlab.images import ImageBuilder, image_ref
from swarmlab.providers.dind import DindProvider, _node_env, _node_host_config


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
            if code == 0:
                break
            time.sleep(0.2)
        assert code == 0, out
        wait_port(h["ip"])
        h["host_key"] = " ".join(out.split()[:2])
        exec_in(engine, h["container"], f"mkdir -p /root/.ssh && echo '{pub}' > /root/.ssh/authorized_keys")
    inv = {"apiVersion": "swarmlab/v1", "kind": "Inventory", "defaults": {"user": "root", "key_file": "id"},
           "hosts": {n: {"address": h["ip"], "role": names[n][0], "labels": {"tier": names[n][1]},
                         "host_key": h["host_key"]} for n, h in info.items()}}
    path = d / "servers.yaml"
    path.write_text(yaml.safe_dump(inv, sort_keys=False))
    return {"dir": d, "inventory": path, "hosts": info, "doc": inv, "plan": plan}

"""The ways the same stack runs for `compare`, each as a client place and a server place:

- raw:            a veth pair between two network namespaces made here (no Docker at all)
- default bridge: web, db, redis on one node with no network given (docker0): no names
- user bridge:    the same on a user-defined bridge, as Compose does: names resolve
- overlay:        the lab's own stack, tasks on different nodes, one column per overlay

The bridge containers run in one node's engine, carry the lab's labels (role compare)
and are removed afterwards, as are the namespaces."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from .. import labels as L
from ..waiting import poll
from ..providers.base import Host
from ..observe.topology import Topology
from ..observe.measure import Place, container_place
from ..shell import label_filter, sh
from ..observe import reads

ROLE_COMPARE = "compare"
RAW_NS = ("swl-raw-a", "swl-raw-b")
RAW_IPS = ("169.254.77.1", "169.254.77.2")  # link-local, inside two private namespaces
SECRET_DIR = "/tmp/swarmlab-compare"
PORTS = {"default": 8081, "user": 8082}  # published on the node (web listens on 8000)


@dataclass
class Variant:
    key: str
    title: str
    kind: str  # raw | bridge | overlay
    client: Optional[Place] = None
    server: Optional[Place] = None
    server_name: str = ""  # the name the client would use (db, web)
    client_container: str = ""  # for lookups with the container's own resolver
    outsider: Optional[Place] = None  # a namespace not on this network
    url: str = ""  # web's published URL, from its node
    internal_port: int = 0  # a port the server listens on but does not publish
    why_not: str = ""  # set when the column cannot be measured here
    facts: Dict[str, object] = field(default_factory=dict)

    def ends(self) -> Tuple[Place, Place]:
        """Its client and server: every variant that is measured has both."""
        if self.client is None or self.server is None:
            raise ValueError(f"{self.key} is not measured here: {self.why_not}")
        return self.client, self.server


def raw(host: Host) -> Variant:
    a, b = RAW_NS
    host.transport.run(
        f"ip netns add {a} && ip netns add {b} && ip link add swl-va netns {a} type veth peer name swl-vb netns {b} && "
        f"ip -n {a} addr add {RAW_IPS[0]}/30 dev swl-va && ip -n {b} addr add {RAW_IPS[1]}/30 dev swl-vb && "
        f"ip -n {a} link set swl-va up && ip -n {b} link set swl-vb up && "
        f"ip -n {a} link set lo up && ip -n {b} link set lo up",
        timeout=20,
    )
    return Variant(
        "raw",
        "raw veth",
        "raw",
        Place(host, f"ip netns exec {a}", f"netns {a} on {host.name}", RAW_IPS[0]),
        Place(host, f"ip netns exec {b}", f"netns {b} on {host.name}", RAW_IPS[1]),
    )


def _labels(lab: str) -> list:
    return ["--label", f"{L.LAB}={lab}", "--label", f"{L.ROLE}={ROLE_COMPARE}"]


def _run(host: Host, lab: str, name: str, image: str, args: list, cmd: Sequence[str] = ()) -> str:
    host.transport.run(["docker", "run", "-d", "--name", name, _labels(lab), args, image, list(cmd)], timeout=60)
    return name


def _ip(host: Host, container: str) -> str:
    return reads.addresses(host, container)[0]


def bridges(host: Host, lab: str, images: Dict[str, str]) -> List[Variant]:
    """The stack twice on one node: on the default bridge, and on a user-defined bridge
    (the node has the images: compare.run loads what it lacks, and removes it after)."""
    lbl = _labels(lab)
    t = host.transport
    # a secret as Compose gives it without Swarm: a file bind-mounted read-only
    t.run(
        sh("mkdir", "-p", SECRET_DIR) + " && head -c 18 /dev/urandom | base64 > " + sh(f"{SECRET_DIR}/db_password"),
        timeout=10,
    )
    secret = ["-v", f"{SECRET_DIR}/db_password:/run/secrets/db_password:ro"]
    t.run(sh("docker", "network", "create", lbl, "swl-cmp-net") + " >/dev/null", timeout=30)
    out = []
    for key, net in (("default", None), ("user", "swl-cmp-net")):

        def alias(n, net=net):
            return ["--network", net, "--network-alias", n] if net else []

        ident = ["-e", f"NODE_NAME={host.name}"]
        db = _run(
            host,
            lab,
            f"swl-cmp-{key}-db",
            images["db"],
            [alias("db"), secret, ident, "-e", f"TASK_NAME=swl-cmp-{key}-db"],
        )
        redis = _run(
            host,
            lab,
            f"swl-cmp-{key}-redis",
            images["redis"],
            [alias("redis"), ident, "-e", f"TASK_NAME=swl-cmp-{key}-redis"],
        )
        if net:
            hosts_env = ["-e", "DB_HOST=db", "-e", "REDIS_HOST=redis"]
        else:  # no names on the default bridge: web must be given addresses
            hosts_env = ["-e", f"DB_HOST={_ip(host, db)}", "-e", f"REDIS_HOST={_ip(host, redis)}"]
        web = _run(
            host,
            lab,
            f"swl-cmp-{key}-web",
            images["web"],
            [alias("web"), secret, ident, "-e", f"TASK_NAME=swl-cmp-{key}-web", hosts_env, "-p", f"{PORTS[key]}:8000"],
        )
        title = "default bridge" if key == "default" else "user bridge"
        out.append(
            Variant(
                f"{key}-bridge",
                title,
                "bridge",
                container_place(host, web, f"{web} on {host.name}", _ip(host, web)),
                container_place(host, db, f"{db} on {host.name}", _ip(host, db)),
                server_name="db",
                client_container=web,
                url=f"http://{host.address}:{PORTS[key]}/?cache=skip",
                internal_port=5432,
            )
        )

    def ready():
        seen = []
        for key in PORTS:
            r = t.run(
                f"python3 -c \"import urllib.request as u; u.urlopen('http://127.0.0.1:{PORTS[key]}/healthz', "
                f'timeout=2)"',
                timeout=10,
                warn=True,
            )
            seen.append(f"{key} bridge web: {'ready' if r.ok else 'not yet'}")
        return all("ready" in s for s in seen), "; ".join(seen)

    poll("the bridge variants' web to answer /healthz", ready, timeout=90)
    return out


def outsider(host: Host, lab: str, image: str) -> Place:
    """A container on a bridge of its own: on no network of any variant."""
    host.transport.run(sh("docker", "network", "create", _labels(lab), "swl-cmp-outside") + " >/dev/null", timeout=30)
    name = _run(
        host, lab, "swl-cmp-outsider", image, ["--network", "swl-cmp-outside", "--entrypoint", "sleep"], ["600"]
    )
    return container_place(host, name, f"{name} (another bridge) on {host.name}")


def overlays(topo: Topology, esp_everywhere: bool, no_esp: List[str]) -> List[Variant]:
    """One column per overlay network of the lab that has two tasks on different nodes;
    plus an 'overlay encrypted' column that says why it was not measured when none is."""
    out = []
    web = next((s for s in topo.services.values() if s.short == "web"), None)
    for net in sorted(topo.networks.values(), key=lambda n: n.name):
        pair = (
            topo.pair_across_hosts(net.name, "web", "db")
            or topo.pair_across_hosts(net.name, "web", "web")
            or topo.pair_across_hosts(net.name)
        )
        title = f"overlay {net.name} ({'encrypted' if net.encrypted else 'plain'})"
        if pair is None:
            out.append(
                Variant(
                    f"overlay-{net.name}", title, "overlay", why_not=f"no two tasks on different nodes on {net.name}"
                )
            )
            continue
        a, b = pair
        ha, hb = topo.hosts[a.node], topo.hosts[b.node]
        server_short = next(s.short for s in topo.services.values() if b in s.tasks)
        url = ""
        if web is not None and server_short == "db" and web.published:
            url = f"http://{ha.address}:{web.published[0]['published']}/?cache=skip"
        internal = 5432 if server_short == "db" else 0
        out.append(
            Variant(
                f"overlay-{net.name}",
                title,
                "overlay",
                container_place(ha, a.name, f"{a.name.rsplit('.', 1)[0]} on {a.node}", a.ips[net.name]),
                container_place(hb, b.name, f"{b.name.rsplit('.', 1)[0]} on {b.node}", b.ips[net.name]),
                server_name=server_short,
                client_container=a.name,
                url=url,
                internal_port=internal,
                facts={
                    "network": net.name,
                    "vni": net.vni,
                    "encrypted": net.encrypted,
                    "client_node": a.node,
                    "server_node": b.node,
                },
            )
        )
    if not any(n.encrypted for n in topo.networks.values()):
        why = (
            f"no IPsec ESP on {', '.join(no_esp)}: an encrypted overlay carries nothing on this kernel"
            if not esp_everywhere
            else "none of the lab's networks is encrypted: set encrypted: true (or auto) in the scenario"
        )
        out.append(Variant("overlay-encrypted", "overlay (encrypted)", "overlay", why_not=why))
    return out


def cleanup(host: Host) -> None:
    """Remove what compare made in the node: its containers, networks, secret, namespaces."""
    sel = label_filter(L.ROLE, ROLE_COMPARE)
    t = host.transport
    made = reads.ids(t, "container", ["-a", sel])
    nets = reads.ids(t, "network", sel)
    host.transport.run(
        (sh("docker", "rm", "-f", made) + " >/dev/null 2>&1; " if made else "")
        + (sh("docker", "network", "rm", nets) + " >/dev/null 2>&1; " if nets else "")
        + sh("rm", "-rf", SECRET_DIR)
        + "; "
        + "; ".join(sh("ip", "netns", "del", ns) + " 2>/dev/null" for ns in RAW_NS)
        + "; true",
        timeout=60,
        warn=True,
    )

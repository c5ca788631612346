"""How a lesson makes its checkpoint on the nodes: faults (traffic dropped, a node
drained, an MTU lowered), made after the stack's edits (lessons/edits.py). Each kind is a
class (a registry, as the drill's faults are); `heal_all` undoes every fault of every kind,
so a reset starts clean."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Type

from .. import grammar
from .. import labels as L
from ..capabilities import probe_hosts
from ..errors import SwarmlabError
from ..netfilter import drop_in, rules_of, unhook
from ..providers.base import Host
from ..shell import sh
from ..swarm_write import service_write, swarm_write
from ..waiting import poll, until
from ..observe import reads
from .edits import Problems
from ..observe.gossip import listed_probe, resynced_probe

CHAIN = "SWARMLAB-LESSON"  # the iptables chain a lesson's dropped traffic lives in (one per node)


# -- faults on the nodes ---------------------------------------------------------
@dataclass(frozen=True)
class Site:
    """The lab a fault is made in: its name (for labels) and its stack's (for services)."""

    lab: str
    stack: str


class Fault:
    kind = ""
    schema: dict = {}

    @staticmethod
    def problems(params) -> Problems:
        return iter(())

    @staticmethod
    def apply(params, hosts: Dict[str, Host], manager: Host, site: Optional[Site] = None) -> str:
        raise NotImplementedError


class Block(Fault):
    """Drop one port's traffic between a node and a peer, both ways, at the node: Swarm
    may still say Ready while the overlay (udp 4789) or gossip (7946) is dead."""

    kind = "block"
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["node", "peer", "port"],
        "properties": {
            "node": {"type": "string"},
            "peer": {"type": "string"},
            "proto": {"enum": ["tcp", "udp"]},
            "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        },
    }

    @staticmethod
    def problems(params):
        for key in ("node", "peer"):
            msg = grammar.NODE.problem(params[key])
            if msg:
                yield (key,), msg

    @staticmethod
    def apply(params, hosts, manager, site=None):
        node, peer = hosts[params["node"]], hosts[params["peer"]]
        proto, port = params.get("proto", "udp"), params["port"]
        rules = [
            ("-p", proto, flag, addr, "--dport", port, "-j", "DROP")
            for addr in sorted({peer.address, peer.swarm_addr, peer.data_addr})
            for flag in ("-s", "-d")
        ]
        node.transport.run(drop_in(CHAIN, rules), timeout=30).check("block")
        return f"{proto}/{port} dropped between {node.name} and {peer.name}"


GOSSIP_PORT = 7946  # Swarm's gossip (memberlist, NetworkDB), TCP and UDP


class GossipCut(Fault):
    """A node cut off from every other node's gossip (TCP and UDP 7946), and nothing else:
    Swarm's own traffic (2377) and the overlay (4789) still pass, so every node stays
    Ready, but the others' NetworkDB declares it failed and drops the names and addresses
    of its tasks (about 8 s here). Made when a node no longer lists it as a peer."""

    kind = "gossip_cut"
    schema = {"type": "string"}

    @staticmethod
    def problems(params):
        return Drain.problems(params)

    @staticmethod
    def apply(params, hosts, manager, site=None):
        others = [h for name, h in hosts.items() if name != params]
        for peer in others:
            for proto in ("tcp", "udp"):
                Block.apply(
                    {"node": params, "peer": peer.name, "proto": proto, "port": GOSSIP_PORT}, hosts, manager, site
                )
        cut = hosts[params]
        watcher = manager if manager.name != params else others[0]
        listed = listed_probe(watcher, cut)

        def forgotten():
            seen, _ = listed()
            return not seen, f"{watcher.name} still lists {params} as a peer"

        poll(f"{watcher.name} to forget {params}'s gossip", forgotten, 60, interval=1)
        return f"tcp and udp/{GOSSIP_PORT} dropped between {params} and {', '.join(h.name for h in others)}"


class Drain(Fault):
    kind = "drain"
    schema = {"type": "string"}

    @staticmethod
    def problems(params):
        msg = grammar.NODE.problem(params)
        if msg:
            yield (), msg

    @staticmethod
    def apply(params, hosts, manager, site=None):
        """Drained, and its tasks stopped: the trainee starts from a quiet node, with the
        task Swarm could not place elsewhere waiting and saying why."""

        node = hosts[params].swarm_name
        t = manager.transport
        swarm_write(t, ["node", "update", "--availability", "drain", node], timeout=30).check("drain")

        def quiet():
            read, running = reads.running_on(t, node)
            return read and not running, f"still running on {params}: {', '.join(running) or '?'}"

        poll(f"{params}'s tasks to stop", quiet, 60, interval=0.5)
        return f"{params} drained, its tasks stopped"


MTU_RECORD = "/run/swarmlab-lesson-mtu"  # "DEV MTU" as it was, for the heal
SET_MTU = (
    'dev=$(ip -o -4 addr show to "$1" | awk \'{print $2; exit}\'); [ -n "$dev" ] || exit 3; '
    f'[ -f {MTU_RECORD} ] || echo "$dev $(cat /sys/class/net/$dev/mtu)" > {MTU_RECORD}; '
    'ip link set dev "$dev" mtu "$2"'
)
HEAL_MTU = (
    f'if [ -f {MTU_RECORD} ]; then read dev mtu < {MTU_RECORD} && ip link set dev "$dev" mtu "$mtu"; '
    f"rm -f {MTU_RECORD}; fi"
)


class Mtu(Fault):
    """A node's underlay interface (the one holding its address) set to a smaller MTU: the
    overlay keeps its own (1450 for VXLAN's 50 bytes on 1500), so full-size packets to
    that node are dropped while small ones pass, and Swarm sees nothing wrong."""

    kind = "mtu"
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["node", "mtu"],
        "properties": {"node": {"type": "string"}, "mtu": {"type": "integer", "minimum": 1280, "maximum": 9000}},
    }

    @staticmethod
    def problems(params):
        msg = grammar.NODE.problem(params["node"])
        if msg:
            yield ("node",), msg

    @staticmethod
    def apply(params, hosts, manager, site=None):
        node = hosts[params["node"]]
        node.transport.run(sh("sh", "-c", SET_MTU, "mtu", node.address, params["mtu"]), timeout=30).check("mtu")
        return f"{node.name}: its underlay interface at MTU {params['mtu']}"


FAULT_NETWORK = "lesson-fault"  # the role label of a network a fault made (removed by the next checkpoint)


class EncryptedDetour(Fault):
    """A service moved from a plain overlay onto a new encrypted one, its peers joined to
    it too (as someone would, to protect a cache's traffic). Where a node's kernel lacks
    ESP, Docker carries nothing on that network (fail-closed); where every node has ESP,
    that network's VXLAN frames are dropped on every node, so the exercise holds on every
    kernel and says which case it made."""

    kind = "encrypted_detour"
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["network", "service", "leaves", "peers"],
        "properties": {
            "network": {"type": "string"},
            "service": {"type": "string"},
            "leaves": {"type": "string"},
            "peers": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 4},
        },
    }

    @staticmethod
    def problems(params):
        for key in ("network", "leaves"):
            msg = grammar.NETWORK.problem(params[key])
            if msg:
                yield (key,), msg
        for path, name in [(("service",), params["service"])] + [
            (("peers", str(i)), p) for i, p in enumerate(params["peers"])
        ]:
            msg = grammar.SERVICE.problem(name)
            if msg:
                yield path, msg

    @staticmethod
    def apply(params, hosts, manager, site=None):
        t, net = manager.transport, params["network"]
        if not reads.network_exists(t, net):
            t.run(
                [
                    "docker",
                    "network",
                    "create",
                    "-d",
                    "overlay",
                    "--attachable",
                    "--opt",
                    "encrypted",
                    "--label",
                    f"{L.LAB}={site.lab}",
                    "--label",
                    f"{L.ROLE}={FAULT_NETWORK}",
                    "--label",
                    f"{L.ENCRYPTION_REQUESTED}=true",
                    f"--label={L.ENCRYPTION_REASON}=made encrypted by a lesson",
                    net,
                ],
                timeout=60,
            ).check(net)
        lacking = sorted(n for n, c in probe_hosts(list(hosts.values()), strict=True).items() if not c.esp)
        vni = "" if lacking else _drop_vxlan(net, hosts, t)
        # with the service's short name as its alias there, as `docker stack deploy` gives it
        # on every network: else the name itself would be missing, not the traffic
        moves = [[f"{site.stack}_{p}", "--network-add", f"name={net},alias={p}"] for p in params["peers"]]
        moves.append(
            [
                f"{site.stack}_{params['service']}",
                "--network-add",
                f"name={net},alias={params['service']}",
                "--network-rm",
                params["leaves"],
            ]
        )
        # detached: the checkpoint waits for the lab to settle once every fault is made
        for m in moves:
            service_write(t, ["update", "--quiet", "--detach", *m[1:], m[0]]).check("service update")
        why = (
            f"no IPsec ESP on {', '.join(lacking)}: Docker carries nothing on it"
            if lacking
            else f"every node has ESP: its VXLAN traffic (id {vni}) dropped on every node"
        )
        return (
            f"{params['service']} moved from {params['leaves']} to {net}, encrypted, with "
            f"{', '.join(params['peers'])} on it too ({why})"
        )


def _drop_vxlan(net: str, hosts: Dict[str, Host], manager_t) -> str:
    """Drop one overlay's VXLAN frames (u32 on their id, as Docker's encryption rules match
    it) in and out of every node, in clear before encryption and after decryption. Not all
    ESP: under encrypted: auto the lab's other overlays are encrypted too there."""
    vni = reads.vxlan_id(manager_t, net)
    if not vni.isdigit():
        raise SwarmlabError(f"network {net}: no VXLAN id to drop (read {vni[:40]!r})")
    rule = (
        "-p",
        "udp",
        "--dport",
        "4789",
        "-m",
        "u32",
        "--u32",
        f"0>>22&0x3C@12&0xFFFFFF00={int(vni) << 8}",
        "-j",
        "DROP",
    )
    for h in hosts.values():
        h.transport.run(drop_in(CHAIN, [rule]), timeout=30).check(f"drop {net}'s VXLAN")
    return vni


def drop_fault_networks(manager: Host, keep: List[str], within: float = 20) -> None:
    """The networks an earlier lesson's fault made, once the stack has left them (its
    tasks leave a moment after the deploy): best effort, `down` removes what is left."""

    t = manager.transport
    flt = ["--filter", f"label={L.ROLE}={FAULT_NETWORK}"]

    def gone():
        names = [n for n in reads.names(t, "network", flt) if n not in keep]
        if names:
            t.run(["docker", "network", "rm", names], warn=True, timeout=30)
        return not names, f"{', '.join(names)} still in use"

    until(gone, within, 1.0)


FAULTS: Dict[str, Type[Fault]] = {f.kind: f for f in (Block, GossipCut, Drain, Mtu, EncryptedDetour)}


def fault_services(kind: str, params) -> List[str]:
    """The stack's services a fault names (checked against the stack before anything is done)."""
    return [params["service"], *params["peers"]] if kind == EncryptedDetour.kind else []


def fault_nodes(kind: str, params) -> List[str]:
    """The nodes a fault names (checked against the lab before anything is done)."""
    return [params] if isinstance(params, str) else [params[k] for k in ("node", "peer") if k in params]


def heal_all(hosts: List[Host], manager: Host) -> None:
    """Every fault of every kind undone: the lesson chain gone from every node, every node
    active, and a node whose gossip was cut known again with its tasks (until then the
    others miss its tasks' names: the next lesson would start on a broken lab)."""
    gossip = rules_of(CHAIN) + f" | grep -c -- '--dport {GOSSIP_PORT}'; "
    cut = [
        h
        for h in hosts
        if h.transport.run(gossip + unhook(CHAIN) + "; " + HEAL_MTU, timeout=30, warn=True)
        .stdout.strip()
        .split("\n")[0]
        not in ("", "0")
    ]
    # every other node must know its tasks again, each resyncs on its own; bounded, and not
    # an error: the next check shows what does not hold
    probes = [resynced_probe(o, h) for h in cut for o in hosts if o is not h]

    def resynced():
        seen = [p() for p in probes]
        return all(ok for ok, _ in seen), "; ".join(why for ok, why in seen if not ok)

    if probes:
        until(resynced, 60, 1.0)
    names = [n for n, state in reads.availability(manager.transport).items() if state != "Active"]
    for n in names:
        swarm_write(manager.transport, ["node", "update", "--availability", "active", n], timeout=60).check(
            "active again"
        )

"""Faults on the links between nodes: every packet between two nodes dropped (a drill's
partition), one port's traffic dropped or a node's gossip cut (a lesson's), a node's
underlay MTU lowered. Dropped traffic lives in iptables chains built by netfilter.drop_in,
one chain per purpose, so a heal never touches another purpose's rules."""

from __future__ import annotations

from typing import List

from ..netfilter import drop_in, drop_out, unhook
from ..observe.gossip import RESYNC_WITHIN, listed_probe, wait_resynced
from ..providers.base import Host
from ..shell import sh
from ..waiting import poll
from .base import NODE, Fault

PARTITION_CHAIN = "SWARMLAB-DRILL"  # one per node: a drill's partition
LESSON_CHAIN = "SWARMLAB-LESSON"  # one per node: a lesson's blocked ports, added up until its reset
GOSSIP_PORT = 7946  # Swarm's gossip (memberlist, NetworkDB), TCP and UDP


class Partition(Fault):
    """Drop packets between the node and a peer at the node: both ways, or only what
    comes in from the peer (in), or only what goes out to it (out)."""

    kind = "partition"
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["node", "peer"],
        "properties": {"node": NODE, "peer": NODE, "direction": {"enum": ["both", "in", "out"]}},
    }
    names = ("node", "peer")

    @property
    def peer(self) -> Host:
        return self.ctx.hosts[self.p["peer"]]

    def addresses(self) -> List[str]:
        return sorted({self.peer.address, self.peer.swarm_addr, self.peer.data_addr})

    def inject(self):
        way = self.p.get("direction", "both")
        rules = {"both": [("INPUT", "-s"), ("OUTPUT", "-d")], "in": [("INPUT", "-s")], "out": [("OUTPUT", "-d")]}[way]
        drops = [(flag, a, "-j", "DROP") for a in self.addresses() for _, flag in rules]
        self.node.transport.run(unhook(PARTITION_CHAIN) + "; " + drop_in(PARTITION_CHAIN, drops), timeout=30).check(
            "partition"
        )
        n, peer = self.node.name, self.peer.name
        what = {"both": f"between {n} and {peer}", "in": f"from {peer} to {n}", "out": f"from {n} to {peer}"}[way]
        return f"every packet {what} ({', '.join(self.addresses())}) dropped at {n}"

    def clear(self):
        self.node.transport.run(unhook(PARTITION_CHAIN), timeout=30, warn=True)

    def heal(self):
        self.node.transport.run(unhook(PARTITION_CHAIN), timeout=30).check("heal partition")
        return f"the link between {self.node.name} and {self.peer.name} restored"


class Block(Fault):
    """Drop one port's traffic between a node and a peer, both ways, at the node: Swarm
    may still say Ready while the overlay (udp 4789) or gossip (7946) is dead. Rules add up
    in the lessons' chain: a lesson's reset removes them all."""

    kind = "block"
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["node", "peer", "port"],
        "properties": {
            "node": NODE,
            "peer": NODE,
            "proto": {"enum": ["tcp", "udp"]},
            "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        },
    }
    names = ("node", "peer")

    def inject(self):
        node, peer = self.node, self.ctx.hosts[self.p["peer"]]
        proto, port = self.p.get("proto", "udp"), self.p["port"]
        node.transport.run(drop_in(LESSON_CHAIN, self.rules()), timeout=30).check("block")
        return f"{proto}/{port} dropped between {node.name} and {peer.name}"

    def rules(self) -> List[tuple]:
        peer = self.ctx.hosts[self.p["peer"]]
        proto, port = self.p.get("proto", "udp"), self.p["port"]
        return [
            ("-p", proto, flag, addr, "--dport", port, "-j", "DROP")
            for addr in sorted({peer.address, peer.swarm_addr, peer.data_addr})
            for flag in ("-s", "-d")
        ]

    def clear(self):
        self.node.transport.run(drop_out(LESSON_CHAIN, self.rules()), timeout=30, warn=True)

    def heal(self):
        self.node.transport.run(drop_out(LESSON_CHAIN, self.rules()), timeout=30).check("heal block")
        what = f"{self.p.get('proto', 'udp')}/{self.p['port']}"
        return f"{what} between {self.node.name} and {self.p['peer']} passes again"


class GossipCut(Fault):
    """A node cut off from every other node's gossip (TCP and UDP 7946), and nothing else:
    Swarm's own traffic (2377) and the overlay (4789) still pass, so every node stays
    Ready, but the others' NetworkDB declares it failed and drops the names and addresses
    of its tasks (about 8 s here). Made when a node no longer lists it as a peer."""

    kind = "gossip-cut"

    def others(self) -> List[Host]:
        return [h for n, h in self.ctx.hosts.items() if n != self.p["node"]]

    def blocks(self) -> List[Block]:
        return [
            Block(self.ctx, {"node": self.p["node"], "peer": peer.name, "proto": proto, "port": GOSSIP_PORT})
            for peer in self.others()
            for proto in ("tcp", "udp")
        ]

    def inject(self):
        name, manager, others = self.p["node"], self.ctx.watch, self.others()
        for block in self.blocks():
            block.inject()
        watcher = manager if manager.name != name else others[0]
        listed = listed_probe(watcher, self.node)

        def forgotten():
            seen, _ = listed()
            return not seen, f"{watcher.name} still lists {name} as a peer"

        poll(f"{watcher.name} to forget {name}'s gossip", forgotten, 60, interval=1)
        return f"tcp and udp/{GOSSIP_PORT} dropped between {name} and {', '.join(h.name for h in others)}"

    def clear(self):
        for block in self.blocks():
            block.clear()

    def heal(self):
        """The rules gone, then a bounded wait until every other node lists the node and its
        tasks again (each resyncs on its own); when the bound runs out that is said, and
        the drill's next expectation shows what does not hold."""
        for block in self.blocks():
            block.heal()
        ok, why, took = wait_resynced([(o, self.node) for o in self.others()])
        back = f"every other node lists it and its tasks again after {took:.0f} s"
        back = back if ok else f"not yet after {RESYNC_WITHIN:.0f} s: {why}"
        return f"{self.p['node']}'s gossip passes again; {back}"


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
        "properties": {"node": NODE, "mtu": {"type": "integer", "minimum": 1280, "maximum": 9000}},
    }

    def inject(self):
        node = self.node
        node.transport.run(sh("sh", "-c", SET_MTU, "mtu", node.address, self.p["mtu"]), timeout=30).check("mtu")
        return f"{node.name}: its underlay interface at MTU {self.p['mtu']}"

    def clear(self):
        self.node.transport.run(HEAL_MTU, timeout=30, warn=True)

    def heal(self):
        self.node.transport.run(HEAL_MTU, timeout=30).check("heal mtu")
        return f"{self.node.name}: its underlay interface at its own MTU again"

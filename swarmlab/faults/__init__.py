"""Every kind of fault swarmlab makes, in one registry, for drills and lessons alike (each
kind once; its parameters use one vocabulary: node, peer, service, ...). The files people
write keep their own names: a drill names a kind as it is here, a lesson by its older
name (LESSON_NAMES), and where a lesson gives a node alone (`drain: node-2`) it stands for
{node: node-2}."""

from typing import Dict, Type

from .base import Ctx, Fault, Problems
from .impair import Impair
from .links import Block, GossipCut, Mtu, Partition
from .nodes import Availability, Demote, DrainStopped, KillNode, Pause, Promote
from .services import EncryptedDetour, FailingUpdate, Scale

FAULTS: Dict[str, Type[Fault]] = {
    f.kind: f
    for f in (
        KillNode,
        Availability,
        DrainStopped,
        Pause,
        Demote,
        Promote,
        Partition,
        Block,
        GossipCut,
        Mtu,
        Impair,
        Scale,
        FailingUpdate,
        EncryptedDetour,
    )
}

# what a drill may name: the kinds that heal themselves (a drill undoes what it broke)
DRILL_KINDS = (
    "kill-node",
    "drain",
    "pause",
    "demote",
    "promote",
    "partition",
    "block",
    "gossip-cut",
    "mtu",
    "impair",
    "scale",
    "failing-update",
)

# what a lesson may name, by the name its files use -> the kind; a lesson's reset heals them all
LESSON_NAMES = {
    "block": "block",
    "gossip_cut": "gossip-cut",
    "drain": "drain-stopped",
    "mtu": "mtu",
    "encrypted_detour": "encrypted-detour",
}

__all__ = ["Ctx", "DRILL_KINDS", "FAULTS", "Fault", "LESSON_NAMES", "Problems"]

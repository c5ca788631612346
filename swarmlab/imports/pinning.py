"""Where the source's tasks ran, stated as constraints the copy's scheduler honours.

Swarm places a task that nothing constrains on whichever node suits it then, so two labs
made alike differ in where such tasks run. A copy keeps each replicated service's tasks on
the nodes they ran on: every node of the copy carries its own name as the label
io.swarmlab.placed, and a service gets `node.labels.io.swarmlab.placed != node-N` for each
node its own constraints allow but it did not run on. Both are swarmlab's (diff leaves
them out of what it compares); a global service runs where it may, and is not pinned."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Sequence

from .. import labels as L
from ..config.stack import eval_constraint
from ..observe.model import is_pin

__all__ = ["CopyNode", "is_pin", "pins"]


@dataclass(frozen=True)
class CopyNode:
    name: str  # the copy's (node-1), its hostname in the copy too
    role: str
    labels: Dict[str, str] = field(default_factory=dict)


def pins(constraints: Sequence[str], ran_on: Sequence[str], nodes: Sequence[CopyNode]) -> List[str]:
    """The constraints that keep a service's tasks on `ran_on` (the copy's names)."""
    if not ran_on:
        return []
    allowed = [n for n in nodes if all(eval_constraint(c, n.name, n.role, n.labels) is not False for c in constraints)]
    return [f"node.labels.{L.PLACED} != {n.name}" for n in allowed if n.name not in ran_on]

"""A fault, as drills and lessons both make them: each kind checks its parameters (node
names by grammar), breaks one thing and says what it did, and (for what a drill makes)
heals it and says when Swarm has reacted. The kinds are in nodes.py, links.py, impair.py
and services.py; the registry in __init__.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Tuple

from .. import grammar
from ..providers.base import Host, Provider
from ..result import CheckResult
from ..swarm_write import swarm_write

Problems = Iterator[Tuple[Tuple[str, ...], str]]

NODE = {"type": "string"}


@dataclass
class Ctx:
    """What a fault works with: the lab's hosts by name, the manager it changes Swarm from
    (the one a drill watches from), the stack, and each node's kernel (probed when a fault
    first asks). A lesson's checkpoint has no provider: it never stops a host."""

    provider: Optional[Provider]
    lab: str
    hosts: Dict[str, Host]
    watch: Host
    stack: str
    probe: Any = None  # () -> {node: Capabilities}
    endpoint: Any = None  # the published HTTP port the flow goes through (or None)
    down: set = field(default_factory=set)

    def manager_run(self, args, what: str):
        """A `docker ...` change from the manager, asked again while Swarm answers out of sequence."""
        return swarm_write(self.watch.transport, args[1:], timeout=60).check(what)


class Fault:
    kind = ""
    schema: dict = {
        "type": "object",
        "additionalProperties": False,
        "required": ["node"],
        "properties": {"node": NODE},
    }
    names: Tuple[str, ...] = ("node",)  # its parameters that are node names
    shows_in: Optional[int] = None  # which of the node's (status, availability) shows the fault
    wanted = ""

    def __init__(self, ctx: Ctx, params: Dict[str, Any]):
        self.ctx, self.p = ctx, params
        self.notes: List[CheckResult] = []  # what it could not do here, and why

    @classmethod
    def problems(cls, params) -> Problems:
        for key in cls.names:
            msg = grammar.NODE.problem(params[key]) if key in params else None
            if msg:
                yield (key,), msg
        for key in ("service",):
            msg = grammar.SERVICE.problem(params[key]) if key in params else None
            if msg:
                yield (key,), msg

    @property
    def node(self) -> Host:
        return self.ctx.hosts[self.p["node"]]

    def broken(self) -> List[str]:
        """The nodes this fault takes away from the swarm (the drill watches from another)."""
        return []

    def preflight(self) -> None: ...

    def clear(self) -> None:
        """Undo what an interrupted run of this kind may have left (before anything is done)."""

    def inject(self) -> str:
        raise NotImplementedError

    def heal(self) -> Optional[str]:
        raise NotImplementedError

    def reacted(self, snap) -> Tuple[bool, str]:
        """Has Swarm done what it does about this fault: the node shows it, and no task
        Swarm wants is counted on it any more (each runs elsewhere or waits, saying why)."""
        if snap.error:
            return False, f"no answer from the managers: {snap.error}"
        if self.shows_in is None:
            return True, "recorded"
        state = snap.nodes.get(self.node.name, ("?", "?"))[self.shows_in]
        left = snap.tasks_on(self.node.name)
        return state == self.wanted and not left, f"{self.node.name} {state}" + (
            f"; still counted on it: {', '.join(left)}" if left else ""
        )

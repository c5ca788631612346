"""A check, as drills and lessons both judge them: each kind states its parameters in one
vocabulary (node, service, from, to, open, replicas, ...), checks their names, says what
it expects, and judges what it is shown. A drill shows it a snapshot of the swarm (and
gives it the lab's hosts to ask); a lesson shows it the evidence read once for a `lesson
check`. The kinds both use (a node's state, a service's tasks) read what both give."""

from __future__ import annotations

from typing import Any, Dict, Iterator, Optional, Protocol, Tuple

from .. import grammar

Problems = Iterator[Tuple[Tuple[str, ...], str]]
Seen = Tuple[bool, str]

STR = {"type": "string"}
PORT = {"type": "integer", "minimum": 1, "maximum": 65535}

# what a parameter of this name holds, wherever it appears
NAMES = {
    "node": grammar.NODE,
    "not_on": grammar.NODE,
    "at": grammar.NODE,
    "via": grammar.NODE,
    "from": grammar.NODE,
    "to": grammar.NODE,
    "service": grammar.SERVICE,
}


class LabNow(Protocol):
    """What both a drill's snapshot and a lesson's evidence answer."""

    error: str  # the managers did not answer: what is shown is the last view

    def node_state(self, name: str) -> Optional[Tuple[str, str, str]]:
        """(status, availability, manager status or "none"), None when not listed."""

    def service_state(self, short: str) -> Optional[Dict[str, Any]]:
        """{"want": replicas, "running": [nodes], "pending": [why]}, None without it."""


class Check:
    kind = ""
    params: Dict[str, dict] = {}  # its parameters, each with its JSON schema
    required: Tuple[str, ...] = ()
    on = "swarm"  # a drill's `throughout`: judged on swarm snapshots, or on "flow" samples
    active = False  # asks the lab itself (a command) rather than reading what it is shown

    def __init__(self, params: Optional[Dict[str, Any]] = None, ctx: Any = None, fault: Any = None):
        """ctx and fault: a drill's (faults.Ctx, and the fault its step made); a lesson gives neither."""
        self.p, self.ctx, self.fault = dict(params or {}), ctx, fault
        self.within = float(self.p.get("within", 60))

    @classmethod
    def problems(cls, params: Dict[str, Any]) -> Problems:
        for key, value in (params or {}).items():
            rule = NAMES.get(key)
            msg = rule.problem(value) if rule else None
            if msg:
                yield (key,), msg

    def name(self) -> str:
        return self.kind

    def expected(self) -> str:
        raise NotImplementedError

    def judge(self, seen: Any) -> Seen:
        raise NotImplementedError

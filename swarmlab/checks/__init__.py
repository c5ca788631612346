"""Every kind of check swarmlab judges, in one registry, for drills and lessons alike (each
kind once; its parameters use one vocabulary: node, service, from, to, open, replicas).
The files people write keep their own names (formats.py): a drill names most kinds as
they are here and `reach` for a ping between nodes; a lesson names the replicas of a
service `replicas`, and `reach` for a TCP connect between tasks."""

from typing import Dict, Type

from .base import Check, LabNow, Problems
from .evidence import Evidence
from .formats import Alias, Format
from .http import Answers, Http, Published
from .nodes import Path, Ping, Throughput
from .records import Container, File, Networks, Replaced
from .swarm import NodeState, Reacted, Refused, RolledBack, Running, Waiting, Whole
from .tasks import Connect, PathMtu, Resolves

CHECKS: Dict[str, Type[Check]] = {
    c.kind: c
    for c in (
        NodeState,
        Running,
        Waiting,
        Reacted,
        Whole,
        Refused,
        RolledBack,
        Ping,
        Path,
        Throughput,
        Answers,
        Connect,
        PathMtu,
        Resolves,
        Published,
        Http,
        Networks,
        Container,
        File,
        Replaced,
    )
}

_DRILL_NAMES = {k: k for k in ("reacted", "node", "running", "waiting", "answers", "whole", "path", "throughput")}
_WITHIN = {"within": {"type": "number", "minimum": 0, "maximum": 600}}

# a drill's `expect` and a quiz's `when`: judged on swarm snapshots, polled until `within`
DRILL_CHECKS = Format(
    CHECKS, {**_DRILL_NAMES, "reach": "ping", "refused": "refused", "rolled-back": "rolled-back"}, extra=_WITHIN
)
# a drill's `throughout`: judged on every sample of the whole drill
THROUGHOUT = Format(CHECKS, {"answers": "answers", "running": "running"}, extra=_WITHIN)

_open = {"open": True, "blocked": False, "closed": False}
LESSON_CHECKS = Format(
    CHECKS,
    {
        "reach": "connect",
        "resolves": "resolves",
        "published": "published",
        "http": "http",
        "replicas": "running",
        "node": "node",
        "networks": "networks",
        "container": "container",
        "file": "file",
        "replaced": "replaced",
        "mtu": "mtu",
    },
    {
        "node": {"name": Alias("node", {"type": "string"})},
        "replicas": {"running": Alias("replicas", {"type": "integer", "minimum": 0}, required=True)},
        "reach": {"expect": Alias("open", {"enum": ["open", "blocked"]}, _open)},
        "published": {"expect": Alias("open", {"enum": ["open", "closed"]}, _open)},
        "resolves": {"expect": Alias("resolves", {"type": "boolean"})},
    },
)

__all__ = ["CHECKS", "DRILL_CHECKS", "LESSON_CHECKS", "THROUGHOUT", "Check", "Evidence", "Format", "LabNow", "Problems"]

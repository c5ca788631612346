"""Records a lab keeps on its own swarm, as kind keeps its state on the engine: a Swarm
config labelled with the lab and the record's role, its data the record. One store for
every kind of record: what an SSH lab made on its hosts, a trainee's lesson progress.
The record goes with the swarm, and `down` removes it with the lab."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Dict, List, Optional

from . import labels as L
from .shell import label_filter
from .transport.base import Transport


@dataclass(frozen=True)
class Record:
    name: str
    labels: Dict[str, str]
    data: bytes

    @property
    def lab(self) -> str:
        return self.labels.get(L.LAB, "?")


def read_all(t: Transport, role: str, lab: Optional[str] = None) -> List[Record]:
    """The records of that role (of one lab, or of every lab on the swarm)."""
    r = t.run(["docker", "config", "ls", "-q", label_filter(L.LAB, lab), label_filter(L.ROLE, role)], warn=True)
    ids = r.stdout.split() if r.ok else []
    if not ids:
        return []
    return [
        Record(c["Spec"]["Name"], c["Spec"].get("Labels") or {}, base64.b64decode(c["Spec"].get("Data") or b""))
        for c in json.loads(t.run(["docker", "config", "inspect", ids]).stdout)
    ]


def read_one(t: Transport, role: str, lab: str) -> Optional[Record]:
    found = read_all(t, role, lab)
    return found[0] if found else None


def write(
    t: Transport,
    name: str,
    lab: str,
    role: str,
    data: bytes,
    labels: Optional[Dict[str, str]] = None,
    timeout: float = 120,
) -> None:
    """Replace the record (a config cannot change: removed, then made again)."""
    remove(t, [name])
    extra = [["--label", f"{k}={v}"] for k, v in (labels or {}).items()]
    t.run(
        ["docker", "config", "create", "--label", f"{L.LAB}={lab}", "--label", f"{L.ROLE}={role}", extra, name, "-"],
        stdin=data,
        timeout=timeout,
    )


def remove(t: Transport, names: List[str]) -> None:
    t.run(["docker", "config", "rm", names], warn=True)

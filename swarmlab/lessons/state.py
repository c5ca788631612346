"""A trainee's progress, kept on the lab's own swarm (as kind keeps its state on the
engine, and the SSH provider its record): a config `swarmlab-<lab>-lesson`, labelled with
the lab, holding which lesson runs, for whom, since when, hints used, checks run, steps
passed. It goes with the lab: `down` removes it, `lesson progress` reads every lab's."""
from __future__ import annotations

import base64
import json
import time
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

from .. import labels as L
from ..providers.base import Host
from ..shell import label_filter

ROLE = "lesson"


@dataclass
class Progress:
    lab: str
    lesson: str
    path: str                      # the lesson file (a trainer's own may live anywhere)
    lang: str = "en"
    trainee: str = ""
    started: float = field(default_factory=time.time)
    hints: int = 0
    checks: int = 0
    resets: int = 0
    passed: List[int] = field(default_factory=list)   # the steps passed at the latest check
    steps: int = 0
    solved: Optional[float] = None                    # when a check first passed every step
    solution_shown: bool = False
    checkpoint: float = field(default_factory=time.time)   # the lab at the lesson's start, or at its last reset
    services: Dict[str, dict] = field(default_factory=dict)  # the checkpoint's services (side_by_side.record)

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("services")
        out["minutes"] = round(((self.solved or time.time()) - self.started) / 60, 1)
        return out


def config_name(lab: str) -> str:
    return f"swarmlab-{lab}-lesson"


def read(manager: Host, lab: str) -> Optional[Progress]:
    t = manager.transport
    r = t.run(["docker", "config", "ls", "-q", label_filter(L.LAB, lab), label_filter(L.ROLE, ROLE)], warn=True)
    ids = r.stdout.split() if r.ok else []
    if not ids:
        return None
    cfg = json.loads(t.run(["docker", "config", "inspect", ids[0]]).stdout)[0]
    data = json.loads(base64.b64decode(cfg["Spec"].get("Data") or b"e30="))
    known = {k: v for k, v in data.items() if k in Progress.__dataclass_fields__}
    return Progress(**known) if "lesson" in known else None


def write(manager: Host, p: Progress) -> None:
    """Replace the record (a config cannot change: removed, then made again)."""
    t = manager.transport
    name = config_name(p.lab)
    t.run(["docker", "config", "rm", name], warn=True)
    t.run(["docker", "config", "create", "--label", f"{L.LAB}={p.lab}", "--label", f"{L.ROLE}={ROLE}", name, "-"],
          stdin=json.dumps(asdict(p)).encode(), timeout=30)


def forget(manager: Host, lab: str) -> None:
    manager.transport.run(["docker", "config", "rm", config_name(lab)], warn=True)

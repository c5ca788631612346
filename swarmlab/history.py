"""What each command said of a lab, kept on this machine: the envelope of each command that reads or proves a
lab (up, status, verify, compare, drill runs, lesson progress), as the JSON `--json` prints,
on this machine, so `report` can build its page again without the lab.

Where: $SWARMLAB_STATE_DIR, else $XDG_STATE_HOME/swarmlab, else ~/.local/state/swarmlab;
one folder per lab name (`labs/NAME/`). A lab made anew starts with an empty folder; `down`
keeps the folder (the report of a removed lab still opens) and records when it went."""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

from . import grammar, safefs
from .errors import SwarmlabError
from .output import envelope

KINDS = ("up", "status", "verify", "compare", "lessons", "down")
KEEP_DRILLS = 10
MAX_BYTES = 20 * 1024 * 1024  # what one kept file may weigh when read back


def root() -> Path:
    if os.environ.get("SWARMLAB_STATE_DIR"):
        return Path(os.environ["SWARMLAB_STATE_DIR"])
    base = os.environ.get("XDG_STATE_HOME") or os.path.expanduser("~/.local/state")
    return Path(base) / "swarmlab"


def folder(lab: str) -> Path:
    problem = grammar.LAB.problem(lab)
    if problem:  # names are checked where they enter; one that is not is our bug
        raise SwarmlabError(f"not a lab name for a results folder: {problem}")
    return root() / "labs" / lab


def _write(path: Path, text: str) -> None:
    """A kept file: 0600 in folders of 0700 from the state root down, whichever command
    made them first, never written through a link planted in them."""
    safefs.private_dir(path.parent)
    top = root()
    for folder_ in [path.parent, *path.parent.parents]:
        os.chmod(folder_, 0o700)
        if folder_ == top or top not in folder_.parents:
            break
    safefs.write_file(path, text)


def keep(lab: str, kind: str, envelope: str) -> Optional[Path]:
    """Keep a command's envelope (the redacted JSON text `--json` prints) as the lab's
    latest `kind`; a drill run is kept beside the last few. Never fails the command: a
    folder that cannot be written costs the report, not the result."""
    if kind not in KINDS and kind != "drill":
        raise SwarmlabError(f"no such kind of result: {kind}")
    doc = json.loads(envelope)
    doc["kept_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    text = json.dumps(doc, indent=1, default=str)
    try:
        if kind != "drill":
            path = folder(lab) / f"{kind}.json"
        else:
            ns = time.time_ns()
            stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(ns // 10**9)) + f".{ns % 10**9:09d}"
            which = re.sub(r"[^a-z0-9-]", "_", str((doc.get("data") or {}).get("drill", "drill")))[:40]
            path = folder(lab) / "drills" / f"{stamp}-{which}.json"
        _write(path, text)
        if kind == "drill":
            for old in sorted(path.parent.glob("*.json"))[:-KEEP_DRILLS]:
                old.unlink()
        return path
    except OSError:
        return None


def keep_status(status: Dict[str, Any]) -> str:
    """A status snapshot's envelope (as `status --json` prints it), kept as the lab's latest."""

    doc = envelope("status", True, status, warnings=status.get("notes"))
    keep(status["lab"], "status", doc)
    return doc


def forget(lab: str) -> None:
    """A lab made anew: what was kept of an earlier lab of that name goes."""
    base = folder(lab)
    for path in list(base.glob("*.json")) + list(base.glob("drills/*.json")):
        path.unlink(missing_ok=True)


def _read(path: Path) -> Optional[Dict[str, Any]]:
    try:
        doc = json.loads(safefs.read_regular(path, MAX_BYTES).decode("utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def kept(lab: str) -> Dict[str, Any]:
    """Everything kept of a lab: {kind: envelope} for the latest of each kind, and
    "drills": [envelope, ...] oldest first. Files that cannot be read are left out."""
    base = folder(lab)
    out: Dict[str, Any] = {}
    for kind in KINDS:
        doc = _read(base / f"{kind}.json")
        if doc is not None:
            out[kind] = doc
    drills: List[Dict[str, Any]] = [d for d in (_read(p) for p in sorted(base.glob("drills/*.json"))) if d]
    out["drills"] = drills
    return out


def kept_labs() -> List[str]:
    base = root() / "labs"
    return (
        sorted(p.name for p in base.iterdir() if p.is_dir() and not grammar.LAB.problem(p.name))
        if base.is_dir()
        else []
    )

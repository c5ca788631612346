"""A trainee's progress, kept on the lab's own swarm (as kind keeps its state on the
engine, and the SSH provider its record): a config `swarmlab-<lab>-lesson`, labelled with
the lab, holding which lesson runs, for whom, since when, hints used, checks run, steps
passed. It goes with the lab: `down` removes it, `lesson progress` reads every lab's.

The trainee has the swarm, so the record is signed (HMAC-SHA256) with a key that stays on
the controller, in its state folder: an edited or forged record, or one copied from another
lab, is refused, never graded or followed to a lesson file it names. Even a signed record's
lesson file is read only from the shelf: the shipped lessons, and the folders a trainer
started their own lessons from on this controller (kept in its state folder)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from .. import history, records, safefs
from ..errors import SwarmlabError
from ..providers.base import Host

ROLE = "lesson"
KEY_FILE = "lesson-records.key"
SHELF_FILE = "lesson-shelf.json"


class ForgedRecord(SwarmlabError):
    """A lesson record this controller did not write as it is."""

    exit_code = 2

    def __init__(self, lab: str, why: str):
        super().__init__(
            f"the lesson record of lab {lab} is refused: {why}",
            hint=f"swarmlab lesson start ID --name {lab} makes a new one",
        )


@dataclass
class Progress:
    lab: str
    lesson: str
    path: str  # the lesson file (a trainer's own may live anywhere)
    lang: str = "en"
    trainee: str = ""
    room: str = ""  # the room (swarmlab room) whose lab this is; "" for a lab of its own
    started: float = field(default_factory=time.time)
    hints: int = 0
    checks: int = 0
    resets: int = 0
    passed: List[int] = field(default_factory=list)  # the steps passed at the latest check
    steps: int = 0
    solved: Optional[float] = None  # when a check first passed every step
    solution_shown: bool = False
    checkpoint: float = field(default_factory=time.time)  # the lab at the lesson's start, or at its last reset
    services: Dict[str, dict] = field(default_factory=dict)  # the checkpoint's services (side_by_side.record)

    def as_dict(self) -> dict:
        out = asdict(self)
        out.pop("services")
        out["minutes"] = round(((self.solved or time.time()) - self.started) / 60, 1)
        return out


def config_name(lab: str) -> str:
    return f"swarmlab-{lab}-lesson"


def _key() -> bytes:
    """This controller's key for lesson records, made once (0600 in a 0700 folder)."""
    path = history.root() / KEY_FILE
    try:
        return safefs.read_regular(path, 1024)
    except FileNotFoundError:
        safefs.private_dir(path.parent)
        os.chmod(path.parent, 0o700)
        safefs.write_file(path, secrets.token_bytes(32))
        return safefs.read_regular(path, 1024)


def _own_shelf() -> List[str]:
    try:
        folders = json.loads(safefs.read_regular(history.root() / SHELF_FILE, 64 * 1024))
    except (FileNotFoundError, ValueError):
        return []
    return [f for f in folders if isinstance(f, str)] if isinstance(folders, list) else []


def shelve(lesson_file: Path, shipped: Path) -> None:
    """Put the folder of a trainer's own lesson file on this controller's shelf (a file in
    its private state folder), so the record may name it; the shipped folder is on it."""
    folder = str(Path(lesson_file).resolve().parent)
    own = _own_shelf()
    if Path(folder) == shipped.resolve() or folder in own:
        return
    safefs.private_dir(history.root())
    os.chmod(history.root(), 0o700)
    safefs.write_file(history.root() / SHELF_FILE, json.dumps((own + [folder])[-64:]))


def on_shelf(lesson_file: str, shipped: Path) -> bool:
    """Whether a record's lesson file lies in a shelf folder (its own folder, not below)."""
    folder = Path(lesson_file).resolve().parent
    return folder == shipped.resolve() or str(folder) in _own_shelf()


def _mac(payload: str) -> str:
    return hmac.new(_key(), payload.encode(), hashlib.sha256).hexdigest()


def signed(p: Progress) -> bytes:
    """The record as the config holds it: the progress and its signature."""
    payload = json.dumps(asdict(p), sort_keys=True)
    return json.dumps({"record": payload, "mac": _mac(payload)}).encode()


def verified(raw: bytes, lab: str) -> Optional[Progress]:
    """The progress in a config's data, if this controller signed it for this lab."""
    try:
        doc = json.loads(raw or b"{}")
        payload, mac = doc.get("record"), doc.get("mac")
    except (ValueError, AttributeError):
        raise ForgedRecord(lab, "it is not a record swarmlab writes") from None
    if not isinstance(payload, str) or not isinstance(mac, str):
        raise ForgedRecord(lab, "it is not signed (written by another tool, or by an older swarmlab)")
    if not hmac.compare_digest(mac, _mac(payload)):
        raise ForgedRecord(lab, "its signature does not match (edited on the swarm, or signed by another controller)")
    data = json.loads(payload)
    if data.get("lab") != lab:
        raise ForgedRecord(lab, f"it was written for lab {data.get('lab')!r}")
    known = {k: v for k, v in data.items() if k in Progress.__dataclass_fields__}
    return Progress(**known) if "lesson" in known else None


def read(manager: Host, lab: str) -> Optional[Progress]:
    """The lab's record; None when there is none, ForgedRecord when it is not ours."""
    found = records.read_one(manager.transport, ROLE, lab)
    return verified(found.data, lab) if found else None


def write(manager: Host, p: Progress) -> None:
    records.write(manager.transport, config_name(p.lab), p.lab, ROLE, signed(p), timeout=30)


def forget(manager: Host, lab: str) -> None:
    records.remove(manager.transport, [config_name(lab)])

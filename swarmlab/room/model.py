"""A room: one lab per trainee, named ROOM-TRAINEE, each doing the same lesson, and the
links that reach them. The trainees come from --trainees N (trainee-1 …) or from a file of
names, one a line ('#' starts a comment), each checked whole where it is read, and may be
followed by the trainee's language ("alice fr"): their brief, steps and hints are in it."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

from .. import grammar, safefs
from ..errors import ConfigError, Problem

MAX_TRAINEES = 40
MAX_NAMES_FILE = 64 * 1024


class Busy(Exception):
    """Something asked of a lab already runs on it: wait for it to end."""


@dataclass
class Trainee:
    name: str
    lab: str
    lang: str = ""  # "" : the room's
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)
    nodes: List[str] = field(default_factory=list)
    brief: Dict = field(default_factory=dict)
    error: str = ""  # why the lab could not be made
    engine: str = ""  # the engine that holds the lab (engines.py)


@dataclass
class Room:
    name: str
    lesson: str
    lang: str
    trainees: List[Trainee]
    allow_reset: bool = False
    demo: str = ""  # the lab the trainer runs drills on, with the room quiz ("" : none)
    trainer_token: str = field(default_factory=lambda: secrets.token_urlsafe(32), repr=False)

    def trainee(self, name: str) -> Optional[Trainee]:
        return next((t for t in self.trainees if t.name == name), None)


def lab_name(room: str, trainee: str) -> str:
    return f"{room}-{trainee}"


def numbered(count: int) -> List[Tuple[str, str]]:
    return [(f"trainee-{i}", "") for i in range(1, count + 1)]


def names_from(path: Path, langs: Sequence[str] = ("en",)) -> List[Tuple[str, str]]:
    """The (name, language) pairs of a file ("" : the room's language), every problem at
    once (exit 2 with its line)."""
    where = str(path)
    try:
        text = safefs.read_regular(path, MAX_NAMES_FILE).decode("utf-8")
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(
            [Problem(where, "", f"cannot be read as a UTF-8 text file of names: {exc}")], "--names"
        ) from None
    names: List[Tuple[str, str]] = []
    problems: List[Problem] = []
    for number, line in enumerate(text.splitlines(), 1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        name, lang = words[0], (words[1] if len(words) > 1 else "")
        why = grammar.TRAINEE.problem(name)
        if why is None and any(name == n for n, _ in names):
            why = f"trainee name {name!r} is given twice: each trainee needs a name of their own"
        if why is None and (len(words) > 2 or (lang and lang not in langs)):
            why = f"write a name and, if you like, a language ({' or '.join(langs)}) after it: not {line.strip()!r}"
        if why:
            problems.append(Problem(where, "", why, number))
        else:
            names.append((name, lang))
    if not names and not problems:
        problems.append(Problem(where, "", "holds no name: write one trainee name a line"))
    if len(names) > MAX_TRAINEES:
        problems.append(Problem(where, "", f"{len(names)} names: a room holds at most {MAX_TRAINEES}"))
    if problems:
        raise ConfigError(problems, "--names")
    return names

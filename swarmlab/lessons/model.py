"""Lesson files (issue #15): YAML in scenarios/lessons/, checked like every other file —
strict schema, every problem at once with its file, line and path — into frozen
dataclasses. A trainer writes their own; `swarmlab lesson list` shows every file there.

A lesson names the lab it needs (a scenario), a setup that makes the checkpoint (edits to
the lab's stack before it is deployed, then faults on the nodes), steps each graded by a
check on evidence from the lab, hints, and the solution's commands."""

from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .. import grammar
from ..config.schema import API_VERSION
from ..config.shelf import find_one, load_all, load_checked
from ..checks import LESSON_CHECKS
from .edits import EDITS
from .setup import LESSON_FAULTS, fault_problems, lesson_schema

KIND = "Lesson"
LANGS = ("en", "fr")
LESSONS_DIR = Path(__file__).resolve().parents[2] / "scenarios" / "lessons"
LESSON_ID = grammar.LESSON

_text = {
    "type": "object",
    "additionalProperties": False,
    "required": ["en"],
    "properties": {lang: {"type": "string", "minLength": 1, "maxLength": 8192} for lang in LANGS},
}
_check = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "maxProperties": 1,
    "properties": LESSON_CHECKS.schemas(),
}
_fault = {
    "type": "object",
    "additionalProperties": False,
    "minProperties": 1,
    "maxProperties": 1,
    "properties": {name: lesson_schema(name) for name in LESSON_FAULTS},
}
_names = {"type": "array", "items": {"type": "string"}, "maxItems": 32}

SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "id", "type", "title", "brief", "minutes", "steps", "solution"],
    "properties": {
        "apiVersion": {"const": API_VERSION},
        "kind": {"const": KIND},
        "id": {"type": "string"},
        "type": {"enum": ["concept", "troubleshoot"]},
        "minutes": {"type": "integer", "minimum": 1, "maximum": 480},
        "scenario": {"type": "string"},
        "title": _text,
        "brief": _text,
        "setup": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "stack": {
                    "type": "object",
                    "additionalProperties": {
                        "type": "object",
                        "additionalProperties": False,
                        "minProperties": 1,
                        "properties": {kind: e.schema for kind, e in EDITS.items()},
                    },
                },
                "faults": {"type": "array", "items": _fault, "maxItems": 16},
                "files": {
                    "type": "array",
                    "maxItems": 8,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["node", "path", "content"],
                        "properties": {
                            "node": {"type": "string"},
                            "path": {"type": "string"},
                            "content": {"type": "string", "maxLength": 65536},
                        },
                    },
                },
            },
        },
        "steps": {
            "type": "array",
            "minItems": 1,
            "maxItems": 32,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["title", "check"],
                "properties": {"title": _text, "check": _check},
            },
        },
        "hints": {"type": "array", "items": _text, "maxItems": 16},
        "solution": {
            "type": "array",
            "minItems": 1,
            "maxItems": 32,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["run"],
                "properties": {
                    "node": {"type": "string"},
                    "run": {"type": "array", "minItems": 1, "maxItems": 64, "items": {"type": ["string", "integer"]}},
                },
            },
        },
        "creates": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "containers": _names,
                "networks": _names,
                "volumes": _names,
                "services": _names,
                "stacks": _names,
            },
        },
    },
}

# what a solution's words may name, filled in from the running lab
PLACEHOLDERS = ("stack", "publish_mode")


@dataclass(frozen=True)
class Step:
    title: Dict[str, str]
    kind: str
    params: Dict[str, Any]


@dataclass(frozen=True)
class Command:
    node: Optional[str]  # None: the lab's manager
    run: Tuple[str, ...]


@dataclass(frozen=True)
class NodeFile:
    """A file the setup leaves on a node for the trainee (a stack file to deploy)."""

    node: str
    path: str
    content: str


@dataclass(frozen=True)
class Lesson:
    path: Path
    id: str
    type: str
    minutes: int
    scenario: Path
    title: Dict[str, str]
    brief: Dict[str, str]
    steps: Tuple[Step, ...]
    hints: Tuple[Dict[str, str], ...]
    solution: Tuple[Command, ...]
    stack_edits: Dict[str, Dict[str, Any]]
    faults: Tuple[Tuple[str, Any], ...]
    creates: Dict[str, Tuple[str, ...]]
    files: Tuple[NodeFile, ...] = ()

    def text(self, what: Dict[str, str], lang: str) -> str:
        return what.get(lang) or what["en"]


def load_lesson(path: Path) -> Lesson:
    """The lesson in `path`, or a ConfigError listing every problem of the file."""
    where: Dict[str, Path] = {}

    def check(data: dict, add) -> None:
        _check_names(data, add)
        where["scenario"] = (path.parent / data.get("scenario", "../default.yaml")).resolve()
        if not where["scenario"].is_file():
            add(("scenario",), f"no scenario file at {where['scenario']}: name one relative to the lesson's folder")

    data = load_checked(path, "lesson", KIND, SCHEMA, check)
    return _build(path, data, where["scenario"])


def _check_names(data: dict, add) -> None:
    """What a schema cannot say: every name against its grammar, each kind's own rules."""
    msg = LESSON_ID.problem(data["id"])
    if msg:
        add(("id",), msg)
    for i, step in enumerate(data["steps"]):
        ((kind, params),) = step["check"].items()
        for p, msg in LESSON_CHECKS.problems(kind, params):
            add(("steps", str(i), "check", kind) + p, msg)
    for svc, edits in ((data.get("setup") or {}).get("stack") or {}).items():
        msg = grammar.SERVICE.problem(svc)
        if msg:
            add(("setup", "stack", svc), msg)
        for kind, value in edits.items():
            for p, msg in EDITS[kind].problems(value):
                add(("setup", "stack", svc, kind) + p, msg)
    for i, fault in enumerate((data.get("setup") or {}).get("faults") or []):
        ((kind, params),) = fault.items()
        for p, msg in fault_problems(kind, params):
            add(("setup", "faults", str(i), kind) + p, msg)
    for i, f in enumerate((data.get("setup") or {}).get("files") or []):
        for key, rule in (("node", grammar.NODE), ("path", grammar.NODE_PATH)):
            msg = rule.problem(f[key])
            if msg:
                add(("setup", "files", str(i), key), msg)
    for i, cmd in enumerate(data["solution"]):
        if "node" in cmd and grammar.NODE.problem(cmd["node"]):
            add(("solution", str(i), "node"), grammar.NODE.problem(cmd["node"]))
        for j, word in enumerate(cmd["run"]):
            bad = _placeholder_problem(str(word))
            if bad:
                add(("solution", str(i), "run", str(j)), bad)
    rules = {
        "containers": grammar.VOLUME,
        "networks": grammar.VOLUME,
        "volumes": grammar.VOLUME,
        "services": grammar.SERVICE,
        "stacks": grammar.STACK,
    }
    for kind, names in (data.get("creates") or {}).items():
        for j, name in enumerate(names):
            msg = rules[kind].problem(name)
            if msg:
                add(("creates", kind, str(j)), msg)


def _placeholder_problem(word: str) -> Optional[str]:
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(word) if f is not None]
    except ValueError as exc:
        return f"{word!r}: {exc} (write {{{{ and }}}} for a literal brace)"
    bad = [f for f in fields if f not in PLACEHOLDERS]
    return f"unknown placeholder {{{bad[0]}}}: one of {', '.join(PLACEHOLDERS)}" if bad else None


def _build(path: Path, data: dict, scenario: Path) -> Lesson:
    setup = data.get("setup") or {}
    steps = tuple(Step(s["title"], *next(iter(s["check"].items()))) for s in data["steps"])
    return Lesson(
        path,
        data["id"],
        data["type"],
        data["minutes"],
        scenario,
        data["title"],
        data["brief"],
        steps,
        tuple(data.get("hints") or ()),
        tuple(Command(c.get("node"), tuple(str(w) for w in c["run"])) for c in data["solution"]),
        dict(setup.get("stack") or {}),
        tuple(next(iter(f.items())) for f in setup.get("faults") or ()),
        {k: tuple(v) for k, v in (data.get("creates") or {}).items()},
        tuple(NodeFile(f["node"], f["path"], f["content"]) for f in setup.get("files") or ()),
    )


def all_lessons(folder: Path = LESSONS_DIR) -> List[Lesson]:
    """Every lesson of the folder, in file order; a bad file is a ConfigError for all."""
    return load_all(folder, load_lesson, "the lessons")


def find(ref: str, folder: Path = LESSONS_DIR) -> Lesson:
    """A lesson by id (among the folder's) or by its file's path."""
    return find_one(ref, folder, load_lesson, LESSON_ID, "lesson list")

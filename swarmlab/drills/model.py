"""Drill files (issue #15): YAML in scenarios/drills/, checked like every other file —
strict schema, every problem at once with its file, line and path — into frozen
dataclasses. A drill is timed steps: wait, break something (a fault), heal, expect what
the lab must show within a bound, hold; and expectations that must hold throughout.

Names a run may change are parameters (`params: {node: node-3}`, used as "{node}");
`swarmlab drill run ID --set node=node-2` sets one."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .. import grammar
from ..config.schema import API_VERSION
from ..config.shelf import find_one, load_all, load_checked
from ..errors import ConfigError, Problem
from ..checks import DRILL_CHECKS, THROUGHOUT
from ..faults import DRILL_KINDS, FAULTS

DRILL_FAULTS = {kind: FAULTS[kind] for kind in DRILL_KINDS}

KIND = "Drill"
DRILLS_DIR = Path(__file__).resolve().parents[2] / "scenarios" / "drills"
HERE = "swarmlab drill"  # where a command-line problem is (there is no file)
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")

_text = {
    "type": "object",
    "additionalProperties": False,
    "required": ["en"],
    "properties": {lang: {"type": "string", "minLength": 1, "maxLength": 4096} for lang in ("en", "fr")},
}


def _one_of(schemas: Dict[str, dict]) -> dict:
    return {
        "type": "object",
        "additionalProperties": False,
        "minProperties": 1,
        "maxProperties": 1,
        "properties": schemas,
    }


_seconds = {"type": "number", "minimum": 0, "maximum": 600}
SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "id", "title", "steps"],
    "properties": {
        "apiVersion": {"const": API_VERSION},
        "kind": {"const": KIND},
        "id": {"type": "string"},
        "title": _text,
        "about": _text,
        "params": {"type": "object", "maxProperties": 8, "additionalProperties": {"type": "string"}},
        "needs": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "managers": {"type": "integer", "minimum": 1, "maximum": 9},
                "nodes": {"type": "integer", "minimum": 1, "maximum": 99},
            },
        },
        "steps": {
            "type": "array",
            "minItems": 1,
            "maxItems": 32,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "properties": {
                    "title": _text,
                    "wait": _seconds,
                    "fault": _one_of({kind: f.schema for kind, f in DRILL_FAULTS.items()}),
                    "heal": {"enum": ["all", "last"]},
                    "expect": {
                        "type": "array",
                        "minItems": 1,
                        "maxItems": 16,
                        "items": _one_of(DRILL_CHECKS.schemas()),
                    },
                    "hold": _seconds,
                    "quiz": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["question", "choices"],
                        "properties": {
                            "question": _text,
                            "choices": {
                                "type": "array",
                                "minItems": 2,
                                "maxItems": 6,
                                "items": {
                                    "type": "object",
                                    "additionalProperties": False,
                                    "required": ["text", "when"],
                                    "properties": {"text": _text, "when": _one_of(DRILL_CHECKS.schemas())},
                                },
                            },
                        },
                    },
                },
            },
        },
        "throughout": {"type": "array", "maxItems": 8, "items": _one_of(THROUGHOUT.schemas())},
    },
}


@dataclass(frozen=True)
class Step:
    title: Dict[str, str]
    wait: float
    fault: Optional[Tuple[str, Dict[str, Any]]]
    heal: Optional[str]
    expect: Tuple[Tuple[str, Dict[str, Any]], ...]
    hold: float
    quiz: Optional["Quiz"] = None


@dataclass(frozen=True)
class Quiz:
    """Asked before the step: each choice is right when its `when` (an expectation) holds
    once the step is done — scored on what the lab showed, not on an answer key."""

    question: Dict[str, str]
    choices: Tuple[Tuple[Dict[str, str], Tuple[str, Dict[str, Any]]], ...]


@dataclass(frozen=True)
class Drill:
    path: Path
    id: str
    title: Dict[str, str]
    about: Dict[str, str]
    params: Dict[str, str]
    needs: Dict[str, int]
    steps: Tuple[Step, ...]
    throughout: Tuple[Tuple[str, Dict[str, Any]], ...]

    def text(self, what: Dict[str, str], lang: str = "en") -> str:
        return what.get(lang) or what.get("en", "")

    def with_params(self, values: Dict[str, str]) -> "Drill":
        """The drill with some parameters set (each a known one, each a host name), and
        every "{param}" of its steps filled in."""
        problems = [
            Problem(
                HERE,
                f"--set {k}",
                f"the drill has no parameter {k!r}: "
                + (f"one of {', '.join(self.params)}" if self.params else "it takes none"),
            )
            for k in values
            if k not in self.params
        ]
        problems += [
            Problem(HERE, f"--set {k}", msg) for k, v in values.items() for msg in [grammar.NODE.problem(v)] if msg
        ]
        if problems:
            raise ConfigError(problems, what="the drill's parameters")
        params = {**self.params, **values}
        fill = lambda kind_params: (kind_params[0], _fill(kind_params[1], params))  # noqa: E731
        steps = tuple(
            replace(
                s,
                fault=fill(s.fault) if s.fault else None,
                expect=tuple(map(fill, s.expect)),
                quiz=replace(s.quiz, choices=tuple((t, fill(w)) for t, w in s.quiz.choices)) if s.quiz else None,
            )
            for s in self.steps
        )
        return replace(self, params=params, steps=steps, throughout=tuple(map(fill, self.throughout)))

    def nodes(self) -> List[Tuple[str, str]]:
        """(where, node) for every node the steps name, filled in."""
        out = []
        for i, s in enumerate(self.steps):
            whens = [w for _, w in s.quiz.choices] if s.quiz else []
            for kind, params in ([s.fault] if s.fault else []) + list(s.expect) + whens:
                for key in ("node", "peer", "via", "not_on", "at", "from", "to"):
                    if isinstance(params.get(key), str):
                        out.append((f"steps.{i}.{kind}.{key}", params[key]))
        return out


def _fill(params: Dict[str, Any], values: Dict[str, str]) -> Dict[str, Any]:
    return {
        k: PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), v) if isinstance(v, str) else v
        for k, v in params.items()
    }


def load_drill(path: Path) -> Drill:
    """The drill in `path`, or a ConfigError listing every problem of the file."""
    return _build(path, load_checked(path, "drill", KIND, SCHEMA, _check_names))


def _check_names(data: dict, add) -> None:
    """What a schema cannot say: every name against its grammar (placeholders filled with
    their defaults), every placeholder a declared parameter, each kind's own rules."""
    msg = grammar.DRILL.problem(data["id"])
    if msg:
        add(("id",), msg)
    params = data.get("params") or {}
    for name, value in params.items():
        for msg in (grammar.PARAM.problem(name), grammar.NODE.problem(value)):
            if msg:
                add(("params", name), msg)

    def each(where: Tuple[str, ...], problems, item: dict) -> None:
        ((kind, kp),) = item.items()
        for key, value in (kp or {}).items():
            for name in PLACEHOLDER.findall(value) if isinstance(value, str) else ():
                if name not in params:
                    add(
                        where + (kind, key),
                        f"unknown parameter {{{name}}}: declare it under params"
                        + (f" (declared: {', '.join(params)})" if params else ""),
                    )
        for p, msg in problems(kind, _fill(kp or {}, params)):
            add(where + (kind,) + p, msg)

    for i, step in enumerate(data["steps"]):
        if "fault" in step:
            each(("steps", str(i), "fault"), lambda k, p: DRILL_FAULTS[k].problems(p), step["fault"])
        for j, e in enumerate(step.get("expect") or ()):
            each(("steps", str(i), "expect", str(j)), DRILL_CHECKS.problems, e)
        for j, c in enumerate((step.get("quiz") or {}).get("choices") or ()):
            each(("steps", str(i), "quiz", "choices", str(j), "when"), DRILL_CHECKS.problems, c["when"])
        if not step.keys() - {"title", "quiz"}:
            add(("steps", str(i)), "a step does something: wait, fault, heal, expect or hold")
    for j, e in enumerate(data.get("throughout") or ()):
        each(("throughout", str(j)), THROUGHOUT.problems, e)


def _build(path: Path, data: dict) -> Drill:
    def pair(item: dict) -> Tuple[str, Dict[str, Any]]:
        ((kind, params),) = item.items()
        return kind, dict(params or {})

    steps = tuple(
        Step(
            s.get("title") or {},
            float(s.get("wait", 0)),
            pair(s["fault"]) if "fault" in s else None,
            s.get("heal"),
            tuple(pair(e) for e in s.get("expect") or ()),
            float(s.get("hold", 0)),
            Quiz(s["quiz"]["question"], tuple((c["text"], pair(c["when"])) for c in s["quiz"]["choices"]))
            if "quiz" in s
            else None,
        )
        for s in data["steps"]
    )
    return Drill(
        path,
        data["id"],
        data["title"],
        data.get("about") or {},
        dict(data.get("params") or {}),
        dict(data.get("needs") or {}),
        steps,
        tuple(pair(e) for e in data.get("throughout") or ()),
    )


def all_drills(folder: Path = DRILLS_DIR) -> List[Drill]:
    """Every drill of the folder, in file order; a bad file is a ConfigError for all."""
    return load_all(folder, load_drill, "the drills")


def find(ref: str, folder: Path = DRILLS_DIR) -> Drill:
    """A drill by id (among the folder's) or by its file's path."""
    return find_one(ref, folder, load_drill, grammar.DRILL, "drill list")

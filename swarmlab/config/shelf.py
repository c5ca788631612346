"""A folder of files of one kind that people write (lessons, drills): each checked
against its schema with every problem at once, ids unique across the folder, one found
by id or by path."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Protocol, Tuple, TypeVar

from ..errors import ConfigError, Problem
from ..grammar import Rule
from .schema import Validator, humanise
from .yamlfile import line_of, load


class _Shelved(Protocol):
    """A file on a shelf (a lesson, a drill): known by its id, read from its path."""

    @property
    def id(self) -> str: ...
    @property
    def path(self) -> Path: ...


T = TypeVar("T", bound=_Shelved)


def schema_problems(schema: dict, data: Any) -> Iterator[Tuple[Tuple[str, ...], str]]:
    """humanise()d schema errors, in path order; "exactly one of" said plainly for the
    registries (a mapping whose one key picks the kind)."""
    for err in sorted(Validator(schema).iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        if (
            err.validator in ("minProperties", "maxProperties")
            and isinstance(err.instance, dict)
            and err.schema.get("maxProperties") == 1
        ):
            kinds = ", ".join(sorted(err.schema.get("properties", {})))
            yield tuple(map(str, err.absolute_path)), f"must have exactly one of: {kinds}"
        else:
            yield from humanise(err)


def load_checked(path: Path, what: str, kind: str, schema: dict, check: Callable[[dict, Callable], None]) -> dict:
    """The mapping in `path` once its schema holds and `check(data, add)` (what a schema
    cannot say) added no problem; else a ConfigError with every problem, file:line:path."""
    shown = str(path)
    data, lines = load(path, f"{what} file")
    problems: List[Problem] = []

    def add(p: Tuple[str, ...], msg: str) -> None:
        p = tuple(map(str, p))  # a YAML 1.1 key like `on:` or `yes:` is a boolean
        problems.append(Problem(shown, ".".join(p), msg, line_of(lines, p)))

    if not isinstance(data, dict):
        raise ConfigError(
            [Problem(shown, "", f"a {what} is a mapping (apiVersion: swarmlab/v1, kind: {kind})")], f"the {what}"
        )
    for p, msg in schema_problems(schema, data):
        add(p, msg)
    if not problems:
        check(data, add)
    if problems:
        raise ConfigError(problems, f"the {what}")
    return data


def load_all(folder: Path, load: Callable[[Path], T], what: str) -> List[T]:
    """Every file of the folder, in name order; a bad file is a ConfigError for all (each
    problem of each file, and ids used twice)."""
    problems: List[Problem] = []
    out: List[T] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            out.append(load(path))
        except ConfigError as exc:
            problems += exc.problems
    seen: Dict[str, Path] = {}
    for item in out:
        if item.id in seen:
            problems.append(Problem(str(item.path), "id", f"id {item.id!r} is also the id of {seen[item.id]}"))
        seen[item.id] = item.path
    if problems:
        raise ConfigError(problems, what)
    return out


def find_one(ref: str, folder: Path, load: Callable[[Path], T], rule: Rule, command: str) -> T:
    """By id (among the folder's) or by its file's path; `command` is how a user lists them."""
    if ref.endswith((".yaml", ".yml")):
        return load(Path(ref))
    where = f"swarmlab {command.split()[0]}"
    msg = rule.problem(ref)
    if msg:
        raise ConfigError([Problem(where, "ID", msg)], "the command line")
    items = load_all(folder, load, f"the {command.split()[0]}s")
    for item in items:
        if item.id == ref:
            return item
    raise ConfigError(
        [
            Problem(
                where,
                "ID",
                f"no {command.split()[0]} {ref!r}: one of " + ", ".join(i.id for i in items) + f" (swarmlab {command})",
            )
        ],
        "the command line",
    )

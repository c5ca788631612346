"""YAML loading that remembers the line of every key, so errors can point at it."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Tuple

import yaml

from ..errors import ConfigError, Problem

Lines = Dict[Tuple[str, ...], int]


def _walk(node: yaml.Node, path: Tuple[str, ...], lines: Lines) -> None:
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            sub = path + (str(key.value),)
            lines[sub] = key.start_mark.line + 1
            _walk(value, sub, lines)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, path + (str(i),), lines)


def load(path: Path, what: str = "file") -> Tuple[Any, Lines]:
    """Parse `path`; a missing file or broken YAML is a ConfigError naming the place."""
    shown = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([Problem(shown, "", f"{what} not found")]) from None
    except OSError as exc:
        raise ConfigError([Problem(shown, "", f"cannot read {what}: {exc.strerror}")]) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else None
        reason = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([Problem(shown, "", f"not valid YAML: {reason}", line)]) from None
    lines: Lines = {}
    if node is not None:
        _walk(node, (), lines)
    return data, lines


def line_of(lines: Lines, path: Tuple[str, ...]) -> int | None:
    """The line of `path`, or of its nearest ancestor that has one."""
    p = tuple(str(x) for x in path)
    while p:
        if p in lines:
            return lines[p]
        p = p[:-1]
    return lines.get(())

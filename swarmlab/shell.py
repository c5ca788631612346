"""The one way a command line for a host is built: from an argument list, every value
quoted where the command is made (issue #12). Shell structure (pipes, `;`, `&&`) is
written as literal text *between* commands built here, never around a value."""

from __future__ import annotations

import re
import shlex
from typing import Iterable, Optional, Union

Arg = Union[str, int, float, None, Iterable["Arg"]]


def sh(*args: Arg) -> str:
    """sh("docker", "node", "update", ["--label-add", "a=b"], name) -> a quoted command line.
    Lists are flattened and None is dropped, so optional parts read naturally."""
    return " ".join(shlex.quote(a) for a in _flat(args))


def _flat(args) -> Iterable[str]:
    for a in args:
        if a is None:
            continue
        if isinstance(a, (list, tuple)):
            yield from _flat(a)
        else:
            yield str(a)


def label_filter(key: str, value: Optional[str] = None) -> list:
    """['--filter', 'label=key=value'] (or label=key): a filter whose value is one argument."""
    return ["--filter", f"label={key}" + (f"={value}" if value is not None else "")]


# What must never be shown: Swarm's join tokens and unlock keys. Generated passwords never
# reach a command line or an error (they go on stdin), so only these have a shape to find.
_SECRET_SHAPES = re.compile(r"SWM(?:TKN|KEY)-1-[A-Za-z0-9+/=_-]+(?:-[A-Za-z0-9]+)?")


def redact(text: str) -> str:
    """`text` with every join token or unlock key replaced by a marker."""
    return _SECRET_SHAPES.sub("SWMTKN-<redacted>", text) if text and "SWM" in text else text

"""YAML loading that is bounded whatever the file (issue #12), and remembers the line of
every key so errors can point at it.

Before anything is allocated in proportion to the input: a regular file only (a FIFO
would hang, /dev/zero never ends), a size cap, UTF-8 only. Then libyaml's event stream is
scanned once, iteratively, for the depth, the size the aliases expand to (a "billion
laughs" file is a few hundred bytes) and numbers too long to be numbers; only a file that
passes is composed and constructed. Duplicate keys and .inf/.nan are refused as well."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

from ..errors import ConfigError, Problem

Lines = Dict[Tuple[str, ...], int]

MAX_BYTES = int(os.environ.get("SWARMLAB_MAX_FILE_BYTES", str(4 << 20)))
MAX_DEPTH = 64  # nesting of mappings and lists
MAX_NODES = 100_000  # values in the document once every alias is expanded
MAX_DIGITS = 18  # an integer longer than this is no count, port or size of ours

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10-50x faster
_INT = re.compile(r"[-+]?(0b[01_]+|0o?[0-7_]+|[0-9][0-9_]*|0x[0-9a-fA-F_]+|[1-9][0-9_]*(:[0-5]?[0-9])+)")
_BOMS = {b"\xff\xfe\x00\x00": "UTF-32", b"\x00\x00\xfe\xff": "UTF-32", b"\xff\xfe": "UTF-16", b"\xfe\xff": "UTF-16"}


def _line(mark) -> int:
    """A mark's line, counted from 1 (0: no mark)."""
    return mark.line + 1 if mark is not None else 0


def read_bounded(path: Path, what: str, limit: Optional[int] = None) -> bytes:
    """The bytes of a regular file of at most MAX_BYTES (or `limit`); anything else is a ConfigError."""
    shown = str(path)
    cap = limit or MAX_BYTES

    def bad(msg: str) -> ConfigError:
        return ConfigError([Problem(shown, "", msg)])

    try:
        # O_NONBLOCK: opening a FIFO with no writer returns at once instead of waiting
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise bad(f"{what} not found") from None
    except OSError as exc:
        raise bad(f"cannot read {what}: {exc.strerror}") from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise bad(f"{what} is a directory; name a file")
        if not stat.S_ISREG(st.st_mode):
            kind = (
                "a FIFO"
                if stat.S_ISFIFO(st.st_mode)
                else "a device"
                if stat.S_ISCHR(st.st_mode) or stat.S_ISBLK(st.st_mode)
                else "a socket"
                if stat.S_ISSOCK(st.st_mode)
                else "not a regular file"
            )
            raise bad(f"{what} is {kind}, not a regular file; name a file")
        if st.st_size > cap:
            raise bad(
                f"{what} is {st.st_size} bytes, more than the {cap} "
                + ("this tool reads (SWARMLAB_MAX_FILE_BYTES raises the limit)" if limit is None else "allowed")
            )
        with os.fdopen(fd, "rb", closefd=True) as f:
            fd = -1
            data = f.read(cap + 1)
    except OSError as exc:
        raise bad(f"cannot read {what}: {exc.strerror}") from None
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > cap:  # it grew while we looked
        raise bad(f"{what} is more than the {cap} bytes allowed")
    return data


def is_file(path: Path) -> bool:
    """Path.is_file() that says False, not raises, for a name too long or a loop of links."""
    try:
        return Path(path).is_file()
    except OSError:
        return False


def decode(data: bytes, shown: str) -> str:
    """UTF-8 text (a UTF-8 BOM is allowed); other encodings are named, with the fix."""
    for bom, name in _BOMS.items():
        if data.startswith(bom):
            raise ConfigError([Problem(shown, "", f"is {name}; save it as UTF-8")])
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise ConfigError(
            [Problem(shown, "", "has a NUL byte: it is binary, not YAML (or UTF-16: save it as UTF-8)", line)]
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(
            [
                Problem(
                    shown,
                    "",
                    f"is not UTF-8 (byte 0x{data[exc.start]:02x}); save it as UTF-8 "
                    "(iconv -f latin1 -t utf-8 FILE, for example)",
                    line,
                )
            ]
        ) from None


def _scan(text: str, shown: str) -> None:
    """One pass over the events: depth, expanded size and over-long integers, each
    refused at its line before any structure is built."""
    sizes: Dict[str, int] = {}
    stack: List[List[Any]] = []  # [anchor, expanded size so far] per open collection
    total = 0

    def add(n: int, mark) -> None:
        nonlocal total
        if stack:
            stack[-1][1] += n
        total += n if not stack else 0
        if total + sum(f[1] for f in stack) > MAX_NODES:
            raise ConfigError(
                [
                    Problem(
                        shown,
                        "",
                        f"expands to more than {MAX_NODES} values (aliases that repeat aliases?); write it out plainly",
                        mark.line + 1,
                    )
                ]
            )

    for ev in yaml.parse(text, Loader=_Loader):
        if isinstance(ev, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            stack.append([ev.anchor, 1])
            if len(stack) > MAX_DEPTH:
                raise ConfigError([Problem(shown, "", f"nests deeper than {MAX_DEPTH} levels", _line(ev.start_mark))])
        elif isinstance(ev, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            anchor, n = stack.pop()
            if anchor:
                sizes[anchor] = n
            add(n, ev.start_mark)
        elif isinstance(ev, yaml.ScalarEvent):
            if ev.implicit[0] and len(ev.value) > MAX_DIGITS and _INT.fullmatch(ev.value):
                raise ConfigError(
                    [
                        Problem(
                            shown,
                            "",
                            f"a number of {len(ev.value)} digits: no value here is that large",
                            _line(ev.start_mark),
                        )
                    ]
                )
            if ev.anchor:
                sizes[ev.anchor] = 1
            add(1, ev.start_mark)
        elif isinstance(ev, yaml.AliasEvent):
            add(sizes.get(ev.anchor or "", 1), ev.start_mark)


def _walk(node: yaml.Node, path: Tuple[str, ...], lines: Lines, problems: List[Problem], shown: str) -> None:
    """Lines of every path; duplicate keys, non-scalar keys and .inf/.nan as problems."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: Dict[str, int] = {}
        for key, value in node.value:
            if not isinstance(key, yaml.ScalarNode):
                problems.append(
                    Problem(
                        shown,
                        ".".join(path),
                        "a key must be a plain name, not a list or mapping",
                        key.start_mark.line + 1,
                    )
                )
                continue
            if key.value == "<<" and key.tag.endswith(":merge"):
                _walk(value, path, lines, problems, shown)
                continue
            sub = path + (str(key.value),)
            line = key.start_mark.line + 1
            if key.value in seen:
                problems.append(
                    Problem(shown, ".".join(sub), f"appears twice (first on line {seen[key.value]}); keep one", line)
                )
            seen.setdefault(key.value, line)
            lines[sub] = line
            _walk(value, sub, lines, problems, shown)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _walk(item, path + (str(i),), lines, problems, shown)
    elif node.tag.endswith(":float") and node.value.lower().lstrip("+-") in (".inf", ".nan"):
        problems.append(
            Problem(shown, ".".join(path), f"{node.value} is not a usable number", node.start_mark.line + 1)
        )


def read_text(path: Path, what: str) -> str:
    """The UTF-8 text of a regular file of at most MAX_BYTES, or a ConfigError."""
    return decode(read_bounded(Path(path), what), str(path))


def load(path: Path, what: str = "file") -> Tuple[Any, Lines]:
    """Parse `path`, bounded; anything wrong with it is a ConfigError naming the place."""
    shown = str(path)
    text = read_text(path, what)
    try:
        _scan(text, shown)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        line = mark.line + 1 if mark else None
        reason = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError([Problem(shown, "", f"not valid YAML: {reason}", line)]) from None
    except (ValueError, TypeError, RecursionError) as exc:  # a value libyaml parsed but Python cannot hold
        raise ConfigError([Problem(shown, "", f"not usable YAML: {str(exc)[:160]}")]) from None
    lines: Lines = {}
    problems: List[Problem] = []
    if node is not None:
        _walk(node, (), lines, problems, shown)
    if problems:
        raise ConfigError(problems[:50])
    return data, lines


def line_of(lines: Lines, path: Tuple[str, ...]) -> int | None:
    """The line of `path`, or of its nearest ancestor that has one."""
    p = tuple(str(x) for x in path)
    while p:
        if p in lines:
            return lines[p]
        p = p[:-1]
    return lines.get(())

"""The report as typed parts, built once from the kept envelopes (the data `--json`
carries) and rendered twice: as one self-contained HTML page and as its markdown twin."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

GOOD, BAD, WARN, NONE = "good", "bad", "warn", ""


@dataclass(frozen=True)
class Parts:
    """What the report draws with from other features, handed in by the CLI (cli/wiring.py):
    a feature never imports another one."""

    progress: Callable[[Any, str], List[Dict[str, Any]]]  # (provider, lab) -> lesson progress rows
    graph_svg: Callable[[Dict[str, Any]], str]  # a status snapshot -> the lab's picture
    compare_rows: Callable[[Dict[str, Any]], Tuple[List[str], List[Tuple[str, List[str]]]]]
    compare_chart: Callable[[Dict[str, Any], Path], Path]  # compare's data -> its chart, written at path


@dataclass(frozen=True)
class Cell:
    text: str
    tone: str = NONE  # good / bad / warn: the page colours it, markdown prints the text
    key: str = ""  # a stable name for the row it starts (data-key in the page)


@dataclass
class Grid:
    title: str
    columns: List[str]
    rows: List[List[Cell]]
    id: str = ""


@dataclass
class Figure:
    title: str
    svg: str  # inline in the page
    file: str  # written beside report.md
    alt: str = ""


@dataclass
class Links:
    title: str
    items: List[Dict[str, str]]  # {"text", "href"}: files in the report folder


Part = Union[Grid, Figure, Links]


@dataclass
class Section:
    id: str
    title: str
    lines: List[str] = field(default_factory=list)
    parts: List[Part] = field(default_factory=list)
    tone: str = NONE


def cell(text: Any, tone: str = NONE, key: str = "") -> Cell:
    return Cell("-" if text is None or text == "" else str(text), tone, key)


def status_tone(status: str) -> str:
    return {"passed": GOOD, "failed": BAD, "unsupported": WARN, "skipped": WARN}.get(status, BAD)


def yes_no(value: Optional[bool]) -> Cell:
    return cell(
        "?" if value is None else ("yes" if value else "no"), NONE if value is None else (GOOD if value else WARN)
    )

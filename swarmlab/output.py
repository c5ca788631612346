"""Rendering: human tables (rich) on stdout, progress on stderr, and a versioned JSON
envelope ({"schema": "swarmlab/v1", "ok": ..., "data": ..., "errors": [...]}) for --json."""

from __future__ import annotations

import json
import os
import sys
import time
from typing import Any, Dict, List, Optional

from rich.console import Console
from rich.table import Table

from rich.markup import escape

from .naming import short_task
from .shell import redact

SCHEMA = "swarmlab/v1"


def _width(stream) -> Optional[int]:
    """The terminal's width; 160 columns (or $COLUMNS) when the output is a file or a pipe."""
    if stream.isatty():
        return None
    try:
        return int(os.environ.get("COLUMNS", "160"))
    except ValueError:
        return 160


out = Console(width=_width(sys.stdout))
err = Console(stderr=True, width=_width(sys.stderr))


def envelope(
    command: str, ok: bool, data: Any = None, errors: Optional[List[str]] = None, warnings: Optional[List[str]] = None
) -> str:
    text = json.dumps(
        {
            "schema": SCHEMA,
            "command": command,
            "ok": ok,
            "data": data,
            "warnings": warnings or [],
            "errors": errors or [],
        },
        indent=2,
        default=str,
    )
    return redact(text)


class Progress:
    """One status line per step on stderr, with its duration."""

    def __init__(self, quiet: bool = False):
        self.quiet = quiet
        self.current: Optional[str] = None
        self.started = time.monotonic()
        self.t0 = self.started

    def step(self, name: str) -> None:
        self._close()
        self.current, self.started = name, time.monotonic()
        if not self.quiet:
            err.print(f"[bold cyan]▸ {name}[/]")

    def say(self, text: str) -> None:
        if not self.quiet:
            style = "yellow" if text.startswith("warning") else "dim"
            err.print(f"  [{style}]{escape(redact(text))}[/]", highlight=False)

    def _close(self) -> None:
        if self.current and not self.quiet:
            err.print(f"  [green]✓[/] {self.current} [dim]{time.monotonic() - self.started:.1f}s[/]")
        self.current = None

    def done(self) -> None:
        self._close()


def render_status(report: Dict[str, Any]) -> None:
    out.print(f"[bold]lab {report['lab']}[/] ({report['provider']}, pool {report.get('pool')})")
    t = Table(title="nodes", title_justify="left")
    for col in ("node", "role", "address", "container", "swarm", "availability", "IPVS", "ESP"):
        t.add_column(col)
    caps = report.get("capabilities", {})
    for n in report["nodes"]:
        c = caps.get(n["name"], {})
        yn = lambda v: "?" if v is None else ("yes" if v else "[yellow]no[/]")  # noqa: E731
        t.add_row(
            n["name"],
            n["role"] + (f" ({n['manager']})" if n.get("manager") else ""),
            n["address"],
            n["container"],
            n["swarm"],
            n["availability"],
            yn(c.get("ipvs")),
            yn(c.get("esp")),
        )
    out.print(t)
    if report["networks"]:
        t = Table(title="networks", title_justify="left")
        for col in ("network", "driver", "subnet", "encrypted", "requested", "attachable", "VXLAN id", "why"):
            t.add_column(col)
        for n in report["networks"]:
            t.add_row(
                n["name"],
                n["driver"],
                n["subnet"],
                "yes" if n["encrypted"] else "[yellow]no[/]",
                str(n["requested"]),
                "yes" if n["attachable"] else "no",
                str(n["vxlan_id"]),
                escape(n["why"]),
            )
        out.print(t)
    if report["services"]:
        t = Table(title="services", title_justify="left")
        for col in ("service", "replicas", "endpoint", "ports", "tasks (node)"):
            t.add_column(col)
        for s in report["services"]:
            t.add_row(
                s["name"],
                s["replicas"],
                s["endpoint_mode"],
                "\n".join(s["ports"]) or "internal only",
                "\n".join(f"{short_task(x['task'])} on {x['node']}" for x in s["tasks"]),
            )
        out.print(t)
    for u in report.get("urls", []):
        out.print(f"[bold]{u['service']}[/] published on {u['node']}: {u['url']}")
    for note in report.get("notes", []):
        out.print(f"[yellow]note:[/] {escape(note)}")
    if report.get("whole"):
        out.print("[green]whole:[/] every node up and in the swarm, every service at its replicas")
    elif "lacking" in report:
        out.print("[yellow]not whole yet[/] (coming back, or broken): " + escape("; ".join(report["lacking"])))


COLOUR = {"passed": "green", "failed": "red", "unsupported": "yellow"}


def render_checks(checks: List[Dict[str, Any]], title: str = "flow check") -> None:
    if not checks:
        return
    t = Table(title=title, title_justify="left")
    for col in ("check", "status", "expected", "observed"):
        t.add_column(col)
    for c in checks:
        t.add_row(
            escape(c["name"]),
            f"[{COLOUR.get(c['status'], 'red')}]{c['status']}[/]",
            escape(str(c["expected"])),
            escape(str(c["observed"])),
        )
    out.print(t)


def table(title: Optional[str], columns: List[str], rows: List[List[str]], lines: bool = False) -> None:
    """A plain table of already-formatted cells (user text escaped)."""
    t = Table(title=title, title_justify="left", show_lines=lines)
    for col in columns:
        t.add_column(col)
    for r in rows:
        t.add_row(*[escape(str(c)) for c in r])
    out.print(t)


def render_matrix(m: Dict[str, Any]) -> None:
    """verify's reachability matrix: from row to column."""
    if m["cells"]:
        table(
            "reachability (from row to column)",
            ["from \\ to", *m["columns"]],
            [[row, *[m["cells"].get(f"{row}->{col}", "-") for col in m["columns"]]] for row in m["rows"]],
        )


def render_timeline(events: List[Dict[str, Any]]) -> None:
    """A drill's timeline: what changed, when, in which phase."""
    table(
        "timeline (seconds from the start)",
        ["t", "phase", "what", "now"],
        [[f"{e['t']:.1f}", e["phase"], e["what"], e["now"]] for e in events],
    )


def render_compare(lab: str, cols: List[str], body: List[Any]) -> None:
    """compare's table: one row per point, one column per way."""
    table(
        f"compare {lab} (each cell measured in this run)",
        ["", *cols],
        [[row, *cells] for row, cells in body],
        lines=True,
    )


def render_labs(labs: List[Dict[str, Any]]) -> None:
    if not labs:
        out.print("no labs on this engine")
        return
    t = Table()
    for col in ("lab", "provider", "pool", "nodes", "running", "scenario"):
        t.add_column(col)
    for lab in labs:
        t.add_row(
            lab["name"], lab["provider"], lab["pool"], str(lab["nodes"]), str(lab["running"]), escape(lab["scenario"])
        )
    out.print(t)


def render_brief(r: Dict[str, Any]) -> None:
    """A lesson's start: what it is, the brief, the steps to make hold."""
    out.print(f"[bold]{escape(r['title'])}[/] ({r['type']}, about {r['minutes']} min) on lab {r['lab']}")
    out.print(escape(r["brief"].strip()), highlight=False)
    for i, step in enumerate(r["steps"], 1):
        out.print(f"  {i}. {escape(step)}", highlight=False)
    out.print(
        f"[dim]swarmlab lesson check {r['lab']} grades it; lesson hint ({r['hints']} hints), "
        f"lesson reset starts again ({r['seconds']}s to get here)[/]"
    )


def render_progress(rows: List[Dict[str, Any]]) -> None:
    spread = any(r.get("engine", "local") != "local" for r in rows)  # a room over several engines
    table(
        "lesson progress",
        ["lab", "trainee", "lesson", "steps", "hints", "checks", "resets", "minutes", "solved"]
        + (["engine"] if spread else []),
        [
            [
                r["lab"],
                r.get("trainee") or "-",
                r.get("lesson") or "none",
                f"{len(r.get('passed') or [])}/{r.get('steps', 0)}",
                r.get("hints", "-"),
                r.get("checks", "-"),
                r.get("resets", "-"),
                r.get("minutes", "-"),
                "yes" if r.get("solved") else "no",
            ]
            + ([r.get("engine", "")] if spread else [])
            for r in rows
        ],
    )


def print_error(lines: List[str]) -> None:
    err.print("[bold red]error:[/] " + escape(redact(lines[0])), highlight=False)
    for line in lines[1:]:
        err.print(escape(redact(line)), highlight=False)


def write(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()

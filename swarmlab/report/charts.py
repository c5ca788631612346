"""Charts of the report (matplotlib, as `compare --report` draws its bars): a drill's
timeline — one row per thing watched (a node, a service, a path through a node), a mark
where it changed with what it became, the drill's own actions as lines across, the
phases shaded."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List

PHASE_COLOUR = {"before": "#dddddd", "break": "#f4c7c3", "heal": "#c9e7cf", "after": "#e8e8e8"}


def _short(text: str, n: int = 42) -> str:
    text = text.split(";")[0]
    return text if len(text) <= n else text[: n - 1] + "…"


def _phases(events: List[Dict[str, Any]], end: float) -> List[tuple]:
    """(phase, from, to) in the order the drill went through them."""
    spans: List[list] = []
    for e in events:
        if not spans or spans[-1][0] != e["phase"]:
            spans.append([e["phase"], e["t"], e["t"]])
    for i, s in enumerate(spans):
        s[2] = spans[i + 1][1] if i + 1 < len(spans) else end
    return [tuple(s) for s in spans]


def _tone(state: str) -> str:
    """green: as it should be; orange: held back on purpose; red: broken or short."""
    m = re.match(r"(\d+)/(\d+) running", state)
    if state.startswith(("ok", "ready, active")) or (m and m.group(1) == m.group(2)):
        return "#2ca02c"
    return "#ff9f1c" if state.startswith(("ready, drain", "ready, pause")) else "#d62728"


def _segments(watched: List[Dict[str, Any]], key: str, end: float) -> List[tuple]:
    """(from, to, state) for one thing watched: what it was before its first change, then
    each state it went through until the next."""
    mine = [e for e in watched if e["what"] == key]
    out = [(min(0.0, mine[0]["t"]), mine[0]["t"], mine[0]["was"])] if mine[0]["was"] not in ("", "-") else []
    for i, e in enumerate(mine):
        out.append((e["t"], mine[i + 1]["t"] if i + 1 < len(mine) else end, e["now"] or "gone"))
    return out


def drill_timeline(report: Dict[str, Any], path: Path) -> Path:
    import matplotlib  # here: matplotlib takes most of a second to import, and only a chart needs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    events = report["timeline"]
    watched = [e for e in events if e["was"] or e["now"]]
    actions = [e for e in events if not (e["was"] or e["now"])]
    rows = list(dict.fromkeys(e["what"] for e in watched))
    end = max([report.get("seconds", 0)] + [e["t"] for e in events]) or 1.0
    per_char = end / 150  # seconds of axis one character of a label takes, about
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "swarmlab", "font.size": 8}):
        fig, ax = plt.subplots(figsize=(11, 1.6 + 0.45 * max(len(rows), 1)))
        for phase, t0, t1 in _phases(events, end):
            ax.axvspan(t0, t1, color=PHASE_COLOUR.get(phase, "#eeeeee"), alpha=0.5, lw=0)
            ax.annotate(phase, (t0 + 0.1, -0.5), fontsize=8, color="#555555")
        for e in actions:
            bad = "not within" in e["what"] or "broke" in e["what"]
            ax.axvline(e["t"], color="#b22222" if bad else "#666666", lw=0.7, ls="--")
        for y, key in enumerate(rows):
            for t0, t1, state in _segments(watched, key, end):
                ax.barh(y, max(t1 - t0, end / 400), left=t0, height=0.5, color=_tone(state), alpha=0.85)
                room = int((t1 - t0) / per_char)
                if room >= 6:
                    ax.annotate(
                        _short(state, room),
                        (t0, y),
                        xytext=(2, 0),
                        textcoords="offset points",
                        va="center",
                        fontsize=7,
                        color="white",
                    )
        ax.set_yticks(range(len(rows)), rows)
        ax.set_ylim(-0.8, max(len(rows), 1) - 0.4)
        ax.set_xlim(min([0.0] + [e["t"] for e in events]) - 0.5, end + 0.5)
        ax.set_xlabel(
            "seconds from the start (dashed: the drill's own actions and verdicts; "
            "green: as it should be, orange: held back, red: broken)"
        )
        ax.invert_yaxis()
        fig.tight_layout()
        fig.savefig(path, format="svg")
        plt.close(fig)
    return path


def inline(path: Path) -> str:
    """An SVG file's <svg> element, to put in a page (no XML prolog, no doctype)."""
    text = path.read_text(encoding="utf-8")
    return text[text.find("<svg") :]

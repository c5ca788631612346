"""`swarmlab report` (issue #16): one self-contained HTML page and its markdown twin for a
lab — its graph and status tables, the latest `verify` with its evidence (the matrix
coloured, the wire, links to the captures), `compare` with its chart, the drills'
timelines as charts, the lessons' progress.

Built from the results kept per lab (`history.py`: the envelopes `--json` prints). When
the lab runs, its status and lesson progress are read fresh first (and kept); when it does
not, the page is built from what was kept, and says so."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from .. import history, output, safefs
from .. import lab as labapi
from ..errors import ConfigError, LabNotFound, Problem, SwarmlabError
from ..providers.base import Provider
from . import charts, render, sections
from .model import Parts

MARKER = ".swarmlab-report"  # what the last report wrote into its folder, one name a line
MAX_PCAPS = 50
MAX_PCAP_BYTES = 64 * 1024 * 1024


def default_dir(lab: str) -> Path:
    return history.folder(lab) / "report"


def gather(lab: str, provider: Optional[Provider], parts: Parts) -> Dict[str, Any]:
    """What the page shows: the lab read now when it runs (kept as it is read), else what
    was kept. Raises LabNotFound when there is neither."""
    live = False
    if provider is not None:
        try:
            live = _read_live(lab, provider, parts)
        except LabNotFound:
            pass
    kept = history.kept(lab)
    if not live and not any(kept.values()):
        exc = LabNotFound(lab)
        exc.hint = f"nothing is kept of it either (in {history.folder(lab)}); swarmlab ls lists the labs"
        raise exc
    kept["live"] = live
    return kept


def _read_live(lab: str, provider: Provider, parts: Parts) -> bool:
    history.keep_status(labapi.status(lab, provider))
    try:
        rows = parts.progress(provider, lab)
        history.keep(lab, "lessons", output.envelope("lesson progress", True, rows))
    except SwarmlabError:
        pass  # a record that cannot be read now: the one kept (if any) stays
    return True


def _graph(status: Dict[str, Any], parts: Parts) -> Tuple[Optional[str], str]:
    try:
        return parts.graph_svg(status), ""
    except SwarmlabError as exc:
        return None, str(exc) + (f" ({exc.hint})" if getattr(exc, "hint", None) else "")


def _pcaps(verify: Optional[Dict[str, Any]], dest: Path) -> List[str]:
    """The captures of the latest verify, copied beside the page (relative links): regular
    files only, each bounded (a link to /dev/zero or a FIFO planted there is left out)."""
    where = ((verify or {}).get("data") or {}).get("capture_dir")
    if not where or not Path(where).is_dir():
        return []
    out = []
    for p in sorted(Path(where).glob("*.pcap"))[:MAX_PCAPS]:
        try:
            data = safefs.read_regular(p, MAX_PCAP_BYTES)
        except OSError:
            continue
        safefs.private_dir(dest / "pcaps")
        safefs.write_file(dest / "pcaps" / p.name, data, mode=0o644)
        out.append(f"pcaps/{p.name}")
    return out


def _drawer(dest: Path) -> Callable[[Callable[[Path], Path], str], Optional[str]]:
    """draw(make, name): the picture make(path) writes as dest/name, inline; None when it
    cannot be drawn (the table below it still says everything)."""

    def draw(make: Callable[[Path], Path], name: str) -> Optional[str]:
        try:
            if os.path.lexists(dest / name):  # what make() writes goes to a file of its own
                os.unlink(dest / name)
            return charts.inline(make(dest / name))
        except (ImportError, OSError, KeyError, ValueError):
            return None

    return draw


def _claim(out: Path, owned: bool) -> Path:
    """out as the report's folder: new, empty, or one a report was written into before (its
    marker lists what that report wrote, and only that is removed). A folder holding
    anything else is refused: the report never deletes a file it did not write. owned: the
    lab's own results folder, all of it ours."""
    safefs.private_dir(out)
    marker = out / MARKER
    names = set(os.listdir(out))
    ours = set(safefs.read_regular(marker, 1 << 20).decode().split("\n")) if MARKER in names else set()
    ours |= names if owned else set()
    foreign = sorted(names - ours - {MARKER})
    if foreign:
        raise ConfigError(
            [
                Problem(
                    str(out),
                    "",
                    f"holds files swarmlab did not write ({', '.join(foreign[:5])}"
                    f"{', ...' if len(foreign) > 5 else ''}): give a new or empty folder to -o",
                )
            ],
            "the report folder",
        )
    for name in ours - {"", "pcaps", MARKER}:
        if "/" not in name and os.path.lexists(out / name) and not (out / name).is_dir():
            os.unlink(out / name)
    for name in (
        os.listdir(out / "pcaps")
        if "pcaps" in ours and (out / "pcaps").is_dir() and not (out / "pcaps").is_symlink()
        else []
    ):
        os.unlink(out / "pcaps" / name)
    return out


def _mark(out: Path) -> None:
    safefs.write_file(out / MARKER, "\n".join(sorted(set(os.listdir(out)) - {MARKER})))


def build(lab: str, provider: Optional[Provider], parts: Parts, dest: Optional[str] = None) -> Dict[str, Any]:
    """Write index.html, report.md, the pictures, data.json (what was shown) into dest
    (default: the lab's results folder) and say where."""
    out = _claim(Path(dest) if dest else default_dir(lab), owned=not dest)
    kept = gather(lab, provider, parts)
    svg, why = _graph(kept["status"]["data"], parts) if "status" in kept else (None, "no status kept")
    if svg:
        safefs.write_file(out / "lab.svg", svg, mode=0o644)
    secs = sections.build(lab, kept, svg, why, _pcaps(kept.get("verify"), out), _drawer(out), parts)
    made = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    title = f"swarmlab report: lab {lab}"
    safefs.write_file(out / "index.html", render.to_html(title, secs, made), mode=0o644)
    safefs.write_file(out / "report.md", render.to_markdown(title, secs, made), mode=0o644)
    safefs.write_file(out / "data.json", json.dumps(kept, indent=1, default=str))
    _mark(out)
    return {
        "lab": lab,
        "live": kept["live"],
        "html": str(out / "index.html"),
        "markdown": str(out / "report.md"),
        "data": str(out / "data.json"),
        "sections": [s.id for s in secs],
        "kept": {k: (v.get("kept_at") if isinstance(v, dict) else len(v)) for k, v in kept.items() if k != "live"},
    }

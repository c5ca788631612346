"""`swarmlab report` (issue #16): one self-contained HTML page and its markdown twin for a
lab — its graph and status tables, the latest `verify` with its evidence (the matrix
coloured, the wire, links to the captures), `compare` with its chart, the drills'
timelines as charts, the lessons' progress.

Built from the results kept per lab (`results.py`: the envelopes `--json` prints). When
the lab runs, its status and lesson progress are read fresh first (and kept); when it does
not, the page is built from what was kept, and says so."""
from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from .. import output, results
from ..errors import LabNotFound, SwarmlabError
from ..providers.base import Provider
from . import charts, render, sections


def default_dir(lab: str) -> Path:
    return results.folder(lab) / "report"


def gather(lab: str, provider: Optional[Provider]) -> Dict[str, Any]:
    """What the page shows: the lab read now when it runs (kept as it is read), else what
    was kept. Raises LabNotFound when there is neither."""
    live = False
    if provider is not None:
        try:
            live = _read_live(lab, provider)
        except LabNotFound:
            pass
    kept = results.kept(lab)
    if not live and not any(kept.values()):
        exc = LabNotFound(lab)
        exc.hint = f"nothing is kept of it either (in {results.folder(lab)}); swarmlab ls lists the labs"
        raise exc
    kept["live"] = live
    return kept


def _read_live(lab: str, provider: Provider) -> bool:
    from .. import lab as labapi
    from .. import lessons

    results.keep_status(labapi.status(lab, provider))
    try:
        rows = lessons.progress(provider, lab)
        results.keep(lab, "lessons", output.envelope("lesson progress", True, rows))
    except SwarmlabError:
        pass   # a record that cannot be read now: the one kept (if any) stays
    return True


def _graph(status: Dict[str, Any]) -> Tuple[Optional[str], str]:
    from .. import graph

    try:
        return graph.to_svg(graph.to_dot(status)), ""
    except SwarmlabError as exc:
        return None, str(exc) + (f" ({exc.hint})" if getattr(exc, "hint", None) else "")


def _pcaps(verify: Optional[Dict[str, Any]], dest: Path) -> List[str]:
    """The captures of the latest verify, copied beside the page (relative links)."""
    for old in (dest / "pcaps").glob("*.pcap"):   # an earlier verify's
        old.unlink()
    where = ((verify or {}).get("data") or {}).get("capture_dir")
    if not where or not Path(where).is_dir():
        return []
    (dest / "pcaps").mkdir(exist_ok=True)
    out = []
    for p in sorted(Path(where).glob("*.pcap"))[:50]:
        shutil.copyfile(p, dest / "pcaps" / p.name)
        out.append(f"pcaps/{p.name}")
    return out


def _drawer(dest: Path) -> Callable[[Callable[[Path], Path], str], Optional[str]]:
    """draw(make, name): the picture make(path) writes as dest/name, inline; None when it
    cannot be drawn (the table below it still says everything)."""
    def draw(make: Callable[[Path], Path], name: str) -> Optional[str]:
        try:
            return charts.inline(make(dest / name))
        except (ImportError, OSError, KeyError, ValueError):
            return None
    return draw


def build(lab: str, provider: Optional[Provider], dest: Optional[str] = None) -> Dict[str, Any]:
    """Write index.html, report.md, the pictures, data.json (what was shown) into dest
    (default: the lab's results folder) and say where."""
    kept = gather(lab, provider)
    out = Path(dest) if dest else default_dir(lab)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.svg"):
        old.unlink()
    svg, why = _graph(kept["status"]["data"]) if "status" in kept else (None, "no status kept")
    if svg:
        (out / "lab.svg").write_text(svg, encoding="utf-8")
    parts = sections.build(lab, kept, svg, why, _pcaps(kept.get("verify"), out), _drawer(out))
    made = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    title = f"swarmlab report: lab {lab}"
    (out / "index.html").write_text(render.to_html(title, parts, made), encoding="utf-8")
    (out / "report.md").write_text(render.to_markdown(title, parts, made), encoding="utf-8")
    (out / "data.json").write_text(json.dumps(kept, indent=1, default=str), encoding="utf-8")
    return {"lab": lab, "live": kept["live"], "html": str(out / "index.html"), "markdown": str(out / "report.md"),
            "data": str(out / "data.json"), "sections": [s.id for s in parts],
            "kept": {k: (v.get("kept_at") if isinstance(v, dict) else len(v)) for k, v in kept.items() if k != "live"}}

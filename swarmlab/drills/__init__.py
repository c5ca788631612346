"""Drills as files (issue #15): `swarmlab drill run FILE|ID`, `drill list`; the three
built-in drills (kill-node, drain, cut-link) are one-step files of the same format."""

from .model import DRILLS_DIR, Drill, all_drills, find, load_drill
from .runner import run

__all__ = ["DRILLS_DIR", "Drill", "all_drills", "find", "load_drill", "run", "catalogue"]


def catalogue() -> list:
    """Every shipped drill: id, title, what it needs, its parameters, its fault kinds."""
    return [
        {
            "id": d.id,
            "title": d.text(d.title),
            "needs": d.needs,
            "params": d.params,
            "faults": [s.fault[0] for s in d.steps if s.fault],
            "file": str(d.path),
        }
        for d in all_drills()
    ]

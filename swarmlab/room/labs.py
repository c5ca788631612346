"""The room's labs: made side by side (each lab picks its own address pool), found again by
the lesson record each one carries (signed, naming its room), and removed by that record
alone, so `room stop` removes the labs the room made and nothing else."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Callable, Dict, List

from .. import lab as labapi
from ..errors import SwarmlabError
from ..progress import Say
from .engines import Engines, place
from .model import Room, Trainee

PARALLEL = 3  # labs made at once: more only queue on 2 cores (measured in bench/room)
LAB_MIB = 180  # what a 3-node lesson lab holds once made (bench/RESULTS.md, a room of ten: 1.73 GiB)


@dataclass(frozen=True)
class Lessons:
    """The lesson feature, handed in by the CLI (cli/wiring.py): a feature never imports another."""

    find: Callable[[str], Any]  # the lesson of an id or file, or ConfigError (before any lab is made)
    brief: Callable[[str, str], Dict[str, Any]]  # (lesson, lang) -> title, brief, steps
    start: Callable[..., Dict[str, Any]]  # (lesson, lab, provider, lang, trainee, say, room) -> brief
    check: Callable[[str, Any], Dict[str, Any]]  # (lab, provider) -> graded steps
    hint: Callable[[str, Any], Dict[str, Any]]
    reset: Callable[[str, Any], Dict[str, Any]]
    progress: Callable[[Any], List[Dict[str, Any]]]  # provider -> every lab's record
    ids: Callable[[], List[str]]  # every lesson's id, in the catalogue's order


def make(room: Room, engines: Engines, lessons: Lessons, say: Say) -> None:
    """Every trainee's lab at the lesson's start, each on the engine placed for it; a lab that
    fails is said on its trainee (t.error), the others go on. A lab of this room already
    doing this lesson is kept as it is (the pages were stopped and started again: the
    trainee's work stays)."""
    lessons.find(room.lesson)
    engines.find()
    kept = {r["lab"]: r for r in rows(room.name, engines, lessons) if r.get("lesson") == room.lesson}
    free = {e.name: e.free_mib for e in engines.all}
    engines.placed.update(place([t.lab for t in room.trainees], free, engines.placed, LAB_MIB))

    def one(t: Trainee) -> None:
        t.engine = engines.engine_of(t.lab)
        provider = engines.of(t.lab)
        on = f" on engine {t.engine}" if len(engines.all) > 1 else ""
        try:
            if t.lab in kept and kept[t.lab].get("trainee") == t.name:
                t.brief = {**lessons.brief(room.lesson, t.lang or room.lang), "lab": t.lab, "trainee": t.name}
                t.nodes = [h.name for h in provider.hosts(t.lab)]
                say(f"lab {t.lab} of {t.name} kept as it is{on}")
                return
            t.brief = lessons.start(
                room.lesson, t.lab, provider, t.lang or room.lang, t.name, lambda s: None, room.name
            )
            t.nodes = [h.name for h in provider.hosts(t.lab)]
            say(f"lab {t.lab} ready for {t.name}{on} ({t.brief.get('seconds')}s)")
        except SwarmlabError as exc:
            t.error = str(exc)
            say(f"lab {t.lab} for {t.name} failed{on}: {exc}")

    with ThreadPoolExecutor(max_workers=PARALLEL) as pool:
        list(pool.map(one, room.trainees))
    if all(t.error for t in room.trainees):
        raise SwarmlabError(
            f"no lab of room {room.name} could be made: {room.trainees[0].error}",
            hint="swarmlab room status shows what is there; swarmlab room stop removes it",
        )


def following(lessons: Lessons, lesson: str) -> str:
    """The lesson after `lesson` in the catalogue (the last one has none: ValueError)."""
    ids = lessons.ids()
    at = ids.index(lesson) if lesson in ids else -1
    if at < 0 or at + 1 >= len(ids):
        raise ValueError(f"no lesson comes after {lesson} in the catalogue")
    return ids[at + 1]


def rows(room: str, engines: Engines, lessons: Lessons) -> List[Dict[str, Any]]:
    """The room's labs as their records and their engine say: trainee, lesson, steps passed,
    hints, minutes, whether every node runs, and the engine that holds it."""
    out = []
    for e in engines.all:
        counts = {i.name: (i.running, i.nodes) for i in e.provider.list_labs()}
        for r in lessons.progress(e.provider):
            if r.get("room") != room:
                continue
            running, nodes = counts.get(r["lab"], (0, 0))
            whole = nodes > 0 and running == nodes
            out.append({**r, "nodes": nodes, "running": running, "whole": whole, "engine": e.name})
    return sorted(out, key=lambda r: r["lab"])


def stop(room: str, engines: Engines, lessons: Lessons, say: Say) -> Dict[str, Any]:
    """Every lab whose record names the room, removed, on every engine; what could not be
    read is said. Every lab's record is read once, for both."""
    removed, left = [], []
    for e in engines.all:
        records = lessons.progress(e.provider)
        mine = sorted(r["lab"] for r in records if r.get("room") == room)
        unread = [r for r in records if r.get("lesson") is None and r["lab"].startswith(f"{room}-")]
        for lab in mine:
            say(f"removing lab {lab}" + ("" if len(engines.all) == 1 else f" on engine {e.name}"))
            labapi.down(lab, e.provider, say)
            removed.append(lab)
        left += [
            {"lab": r["lab"], "why": r.get("note") or "it carries no lesson record of this room", "engine": e.name}
            for r in unread
        ]
    return {"room": room, "removed": removed, "left": left}

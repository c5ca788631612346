"""What the room's pages show and run: each trainee's brief, latest check and hints; the
board's rows (every lab's record, read again every BOARD_EVERY seconds); one shell per
trainee node, kept while the server runs; and at most one lesson action per trainee at a
time (a second press while a check runs is told to wait)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional

from .. import lab as labapi
from ..errors import SwarmlabError
from ..web.terminal import Session, Sessions
from . import labs
from .drill import Drills, RoomDrill
from .engines import Engines
from .labs import Lessons
from .model import Busy, Room, Trainee

BOARD_EVERY = 5.0
DRILL_ENDS = 600.0  # seconds a drill running when the pages stop may take to end
PICTURE_FOR = 2.0  # seconds a lab's picture is served again before it is read anew


class Live:
    def __init__(
        self, room: Room, engines: Engines, provider_factory: Callable[[], Any], lessons: Lessons, drills: Drills
    ):
        """engines: where the trainees' labs are; provider_factory: this machine's (the demo lab's)."""
        self.room, self.engines, self.factory, self.lessons = room, engines, provider_factory, lessons
        self.drill = RoomDrill(room.demo, drills, lambda: [t.name for t in room.trainees if not t.error])
        self.drills = self.drill.catalogue() if room.demo else []
        self.sessions = Sessions()
        self.locks = {t.name: threading.Lock() for t in room.trainees}
        self.lock = threading.Lock()
        self.checks: Dict[str, Dict[str, Any]] = {}
        self.hints: Dict[str, List[str]] = {t.name: [] for t in room.trainees}
        self.doing: Dict[str, str] = {}
        self.board: List[Dict[str, Any]] = []
        self.board_error = ""
        self.pictures: Dict[str, tuple] = {}  # trainee -> (read at, snapshot)
        self.reading = {t.name: threading.Lock() for t in room.trainees}
        self.sockets: Dict[str, int] = {}  # open terminal sockets per trainee (or the board)
        self.stopping = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._watch_board, name="room-board", daemon=True).start()

    def _watch_board(self) -> None:
        while not self.stopping.is_set():
            try:
                self.board, self.board_error = labs.rows(self.room.name, self.engines, self.lessons), ""
            except SwarmlabError as exc:
                self.board_error = str(exc)
            self.stopping.wait(BOARD_EVERY)

    # -- a trainee's page --------------------------------------------------
    def state(self, t: Trainee) -> Dict[str, Any]:
        row = next((r for r in self.board if r.get("lab") == t.lab), {})
        return {
            "room": self.room.name,
            "trainee": t.name,
            "lab": t.lab,
            "nodes": t.nodes,
            "brief": t.brief,
            "error": t.error,
            "check": self.checks.get(t.name),
            "hints": self.hints.get(t.name, []),
            "doing": self.doing.get(t.name),
            "allow_reset": self.room.allow_reset,
            "whole": row.get("whole"),
            "drill": self.drill.view(t.name, t.lang or self.room.lang) if self.drill.id else None,
        }

    def _one_at_a_time(self, t: Trainee, what: str, work: Callable[[], Dict[str, Any]]) -> Dict[str, Any]:
        lock = self.locks[t.name]
        if not lock.acquire(blocking=False):
            raise Busy(f"{self.doing.get(t.name, 'an action')} runs on this lab: wait for it to end")
        self.doing[t.name] = what
        try:
            return work()
        finally:
            self.doing.pop(t.name, None)
            lock.release()

    def check(self, t: Trainee) -> Dict[str, Any]:
        report = self._one_at_a_time(t, "a check", lambda: self.lessons.check(t.lab, self.engines.of(t.lab)))
        self.checks[t.name] = {**report, "at": time.time()}
        return report

    def hint(self, t: Trainee) -> Dict[str, Any]:
        report = self._one_at_a_time(t, "a hint", lambda: self.lessons.hint(t.lab, self.engines.of(t.lab)))
        if report.get("hint") and report["hint"] not in self.hints[t.name]:
            self.hints[t.name].append(report["hint"])
        return report

    def reset(self, t: Trainee, say: Callable[[str], None]) -> None:
        """Back to the lesson's start, in the background (it takes a while); the page polls."""

        def run() -> None:
            try:
                self._one_at_a_time(t, "a reset", lambda: self.lessons.reset(t.lab, self.engines.of(t.lab)))
                self.checks.pop(t.name, None)
                say(f"{t.name}'s lab {t.lab} reset")
            except (Busy, SwarmlabError) as exc:
                say(f"{t.name}'s reset failed: {exc}")

        if self.locks[t.name].locked():
            raise Busy(f"{self.doing.get(t.name, 'an action')} runs on this lab: wait for it to end")
        threading.Thread(target=run, name="room-reset", daemon=True).start()

    def picture(self, t: Trainee) -> Dict[str, Any]:
        """The lab's nodes and the tasks on them, as `status` reads them, read at most once
        every PICTURE_FOR seconds however many pages ask."""
        with self.reading[t.name]:
            at, snap = self.pictures.get(t.name, (0.0, None))
            if snap is None or time.monotonic() - at > PICTURE_FOR:
                try:
                    full = labapi.status(t.lab, self.engines.of(t.lab))
                    snap = {k: full[k] for k in ("nodes", "services", "whole", "lacking")}
                except SwarmlabError as exc:
                    snap = {"nodes": [], "services": [], "whole": False, "lacking": [str(exc)]}
                self.pictures[t.name] = (time.monotonic(), snap)
            return snap

    def next_lesson(self, say: Callable[[str], None]) -> str:
        """Every trainee's lab to the lesson after the room's, in the background."""
        nxt = labs.following(self.lessons, self.room.lesson)
        busy = [t.name for t in self.room.trainees if self.locks[t.name].locked()]
        if busy:
            raise Busy(f"{', '.join(busy)}: an action runs on their lab: wait for it to end")
        self.room.lesson = nxt

        def one(t: Trainee) -> None:
            def work() -> Dict[str, Any]:
                r = self.lessons.start(
                    nxt, t.lab, self.engines.of(t.lab), self.room.lang, t.name, lambda s: None, self.room.name
                )
                t.brief, t.error = r, ""
                self.checks.pop(t.name, None)
                self.hints[t.name] = []
                return r

            try:
                self._one_at_a_time(t, "the next lesson", work)
                say(f"{t.name}'s lab {t.lab} is at the start of {nxt}")
            except (Busy, SwarmlabError) as exc:
                t.error = str(exc)
                say(f"{t.name}'s lab could not move to {nxt}: {exc}")

        def run() -> None:
            with ThreadPoolExecutor(max_workers=labs.PARALLEL) as pool:
                list(pool.map(one, self.room.trainees))

        threading.Thread(target=run, name="room-next", daemon=True).start()
        return nxt

    def terminal(self, t: Trainee, node: str) -> Optional[Session]:
        """The shell on `node` of the trainee's lab (made at first use), None when the lab has
        no such node."""
        if node not in t.nodes:
            return None

        def argv() -> List[str]:
            host = next(h for h in self.engines.of(t.lab).hosts(t.lab) if h.name == node)
            return host.transport.interactive()

        return self.sessions.get((t.name, node), argv)

    def open_socket(self, who: str, most: int) -> bool:
        with self.lock:
            if self.sockets.get(who, 0) >= most:
                return False
            self.sockets[who] = self.sockets.get(who, 0) + 1
            return True

    def close_socket(self, who: str) -> None:
        with self.lock:
            self.sockets[who] -= 1

    def watched(self, t: Trainee, node: str) -> Optional[Session]:
        """The trainee's shell on `node` if it is open (the board only watches)."""
        return self.sessions.find((t.name, node))

    # -- the board ---------------------------------------------------------
    def start_drill(self, ref: str, params: Dict[str, str]) -> str:
        """A drill on the demonstration lab, its questions put to the room (drill.py)."""
        return self.drill.start(ref, params, self.factory())

    def board_state(self) -> Dict[str, Any]:
        rows = {r["lab"]: r for r in self.board}
        return {
            "room": self.room.name,
            "lesson": self.room.lesson,
            "error": self.board_error,
            "demo": self.room.demo,
            "drills": self.drills,
            "drill": self.drill.view(None, self.room.lang) if self.drill.id else None,
            "trainees": [
                {
                    "trainee": t.name,
                    "lab": t.lab,
                    "engine": t.engine,
                    "nodes": t.nodes,
                    "error": t.error,
                    "doing": self.doing.get(t.name),
                    "shells": [n for n in t.nodes if self.sessions.find((t.name, n))],
                    **{
                        k: rows.get(t.lab, {}).get(k)
                        for k in ("lesson", "passed", "steps", "hints", "minutes", "whole")
                    },
                }
                for t in self.room.trainees
            ],
        }

    def close(self, say: Callable[[str], None] = lambda s: None) -> None:
        self.stopping.set()
        self.sessions.close()
        if self.drill.running:
            say(f"the drill on {self.room.demo} ends first: it heals what it broke (Ctrl-C again leaves it broken)")
            if not self.drill.finish(DRILL_ENDS):
                demo = self.room.demo
                say(f"the drill on {demo} still runs and may leave it broken: swarmlab status {demo} shows what")

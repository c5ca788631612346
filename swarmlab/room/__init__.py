"""`swarmlab room`: a room of trainees, each with a lab of their own, a link of their own
and a terminal on its nodes in the browser, and the trainer's board over them all.

start -> the labs (labs.py), then the server (server.py) until interrupted; status and stop
find the room's labs by their signed lesson records. No printing, no exiting."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..errors import ConfigError, Problem
from ..progress import Say
from ..web.guard import tls_for
from . import labs
from .drill import Drills
from .engines import Engines, from_inventory, local
from .labs import Lessons
from .live import Live
from .model import Room, Trainee, lab_name
from .server import make_server

# where xterm.js may be installed (scripts/setup.sh puts the npm package in the first)
XTERM_DIRS = ("/usr/local/share/swarmlab/xterm/node_modules", "/usr/share/nodejs")


def xterm_dir() -> Optional[Path]:
    """The folder holding @xterm/xterm and @xterm/addon-fit, or None (no terminal then)."""
    wanted = [os.environ["SWARMLAB_XTERM"]] if os.environ.get("SWARMLAB_XTERM") else list(XTERM_DIRS)
    for d in map(Path, wanted):
        if (d / "@xterm/xterm/lib/xterm.js").is_file() and (d / "@xterm/addon-fit/lib/addon-fit.js").is_file():
            return d
    return None


def plan(room: str, lesson: str, lang: str, names: List[Tuple[str, str]], allow_reset: bool, demo: str = "") -> Room:
    """names: (trainee, their language or "" for the room's); demo: the lab drills run on."""
    return Room(room, lesson, lang, [Trainee(n, lab_name(room, n), own) for n, own in names], allow_reset, demo)


def check_demo(room: Room, provider: Any) -> None:
    """The demonstration lab exists and is no trainee's: exit 2 before any lab is made."""
    why = ""
    if any(t.lab == room.demo for t in room.trainees):
        why = f"{room.demo} is a trainee's lab: the demonstration lab is one of its own"
    elif not provider.exists(room.demo):
        why = f"no lab {room.demo}: make it first (swarmlab up --name {room.demo}), then start the room"
    if why:
        raise ConfigError([Problem("--demo", "", why)], "the options")


def engines_of(path: Optional[Path], provider: Any, say: Say, making: bool = False) -> Engines:
    """This machine's engine alone (path None), or every engine of the inventory at path
    (making labs: swarmlab's images copied there and their memory read, for the placement)."""
    return from_inventory(path, provider, say, making) if path else local(provider)


def make(room: Room, engines: Engines, lessons: Lessons, say: Say) -> None:
    labs.make(room, engines, lessons, say)


def status(room: str, engines: Engines, lessons: Lessons) -> List[Dict[str, Any]]:
    return labs.rows(room, engines, lessons)


def stop(room: str, engines: Engines, lessons: Lessons, say: Say) -> Dict[str, Any]:
    return labs.stop(room, engines, lessons, say)


def serve(
    room: Room,
    engines: Engines,
    provider_factory: Callable[[], Any],
    lessons: Lessons,
    drills: Drills,
    where: tuple,  # (host, port, allow_remote)
    ready: Callable[[Dict[str, Any]], None],
    log_line: Callable[[str], None],
    prepare: Callable[[], None] = lambda: None,
) -> None:
    """Listen, then `prepare` (the labs are made: a port in use is said before they are),
    then serve until interrupted; `ready` gets the links (each with its token)."""
    host, port, allow_remote = where
    cert = tls_for(host, allow_remote, "gets a shell on a lab")
    live = Live(room, engines, provider_factory, lessons, drills)
    found = xterm_dir()
    try:
        server = make_server(live, host, port, found, log_line, cert.context if cert else None)
    except OSError as exc:
        raise ConfigError(
            [Problem("--port", "", f"cannot listen on {host}:{port}: {exc.strerror}; --port 0 takes a free one")],
            "the options",
        ) from None
    try:
        prepare()
    except BaseException:
        server.server_close()
        raise
    live.start()
    keys = server.keys  # type: ignore[attr-defined]
    ready(
        {
            "room": room.name,
            "board": keys.link("board"),
            "trainees": [
                {"trainee": t.name, "lab": t.lab, "engine": t.engine, "link": keys.link(t.name), "error": t.error}
                for t in room.trainees
            ],
            "tls_sha256": cert.fingerprint if cert else None,
            "terminal": found is not None,
        }
    )
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        live.close(log_line)
        server.server_close()


__all__ = [
    "Drills",
    "Engines",
    "engines_of",
    "check_demo",
    "Lessons",
    "Room",
    "plan",
    "make",
    "status",
    "stop",
    "serve",
    "xterm_dir",
]

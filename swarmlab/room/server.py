"""The room's server. Every request names whose page it is, and only that one's token opens
it (access.py).

GET  /static/FILE, /xterm/FILE       the pages' code, and xterm.js from where it is installed
GET  /t/NAME/                        a trainee's page (the printed link: ?token= moves to a cookie)
GET  /t/NAME/api/state               brief, steps, latest check, hints, nodes
GET  /t/NAME/api/picture             the lab's nodes and the tasks on them (read at most every 2 s)
POST /t/NAME/api/check|hint|reset
POST /t/NAME/api/answer              {"question": N, "choice": K}: a pick for the room drill's open question
GET  /t/NAME/ws/NODE                 a terminal on that node of the trainee's lab (WebSocket)
GET  /board/                         the trainer's board
GET  /board/api/state                every trainee's row
GET  /board/ws/NAME/NODE             a trainee's terminal, watched read-only
POST /board/api/reset                {"trainee": NAME}
POST /board/api/next                 the whole room to the catalogue's next lesson
POST /board/api/drill                {"drill": ID, "params": {KEY: NODE}} on the demonstration lab
POST /board/api/close                the room drill's open question closed: the step goes on"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Callable, Optional
from urllib.parse import urlsplit

from .. import grammar
from ..errors import SwarmlabError
from ..web import websocket
from ..web.guard import Guard
from ..web.http import BoundedServer, HEADERS, PageHandler, static
from ..web.forms import drill_asked
from ..web.terminal import Session
from .access import BOARD, Keys, whose
from .live import Live
from .model import Busy, Trainee

SLOTS = 256  # connections at once: a terminal holds one for as long as it is open
SOCKETS_EACH = 12  # terminal sockets one trainee (or the board) may hold open at once
STATIC = {"room.js": "text/javascript", "board.js": "text/javascript", "room.css": "text/css"}
XTERM = {
    "xterm.js": ("@xterm/xterm/lib/xterm.js", "text/javascript"),
    "xterm.css": ("@xterm/xterm/css/xterm.css", "text/css"),
    "addon-fit.js": ("@xterm/addon-fit/lib/addon-fit.js", "text/javascript"),
}

# as every page's (web/http.py), but xterm.js sets its cell sizes and colours in a <style>
# element of its own: inline styles are allowed, scripts still only from this server
CSP = HEADERS["Content-Security-Policy"].replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")


def _static(name: str) -> str:
    return static("swarmlab.room", name)


class Handler(PageHandler):
    server_version = "swarmlab-room"
    keys: Keys
    live: Live
    xterm: Optional[Path]
    log_line: Callable[[str], None] = staticmethod(lambda s: None)

    def _who(self, ws: bool = False):
        """(identity, the rest of the path) of an allowed request; None once refused."""
        url = urlsplit(self.path)
        ident, rest = whose(url.path)
        headers = {k.lower(): v for k, v in self.headers.items()}
        why = self.keys.check(self.command, ident, headers, url.query, ws)
        if why:
            self.log_line(f"refused {self.command} {url.path}: {why}")
            self._send(403, {"error": f"refused: {why}"})
            return None
        return ident, rest

    def do_GET(self):
        path = urlsplit(self.path).path
        if path == "/favicon.ico":  # asked by every browser: nothing, rather than a refusal in its console
            return self._send(204, b"", "image/x-icon")
        if path.startswith("/static/") or path.startswith("/xterm/"):
            return self._asset(path)
        ws = "/ws/" in path
        found = self._who(ws)
        if found is None:
            return
        ident, rest = found
        if rest == "" and "token=" in urlsplit(self.path).query:  # the printed link: the token moves to a cookie
            self._send(
                303, b"", "text/plain", {"Location": self.keys.scope(ident), "Set-Cookie": self.keys.set_cookie(ident)}
            )
        elif rest == "":
            page = "board.html" if ident == BOARD else "trainee.html"
            html = _static(page).replace("{{TOKEN}}", self.keys.token(ident) or "").replace("{{WHO}}", ident)
            self._send(200, html, "text/html", {"Content-Security-Policy": CSP})
        elif rest == "api/picture" and ident != BOARD:
            self._send(200, self.live.picture(self._trainee(ident)))
        elif rest == "api/state":
            self._send(200, self.live.board_state() if ident == BOARD else self.live.state(self._trainee(ident)))
        elif ws:
            self._terminal(ident, rest.split("/")[1:])
        else:
            self._send(404, {"error": "no such page"})

    def _trainee(self, name: str) -> Trainee:
        t = self.live.room.trainee(name)
        assert t is not None  # the token was checked against this very trainee
        return t

    def _asset(self, path: str) -> None:
        kind, name = path[1:].split("/", 1)
        if kind == "static" and name in STATIC:
            return self._send(200, _static(name), STATIC[name])
        if kind == "xterm" and name in XTERM and self.xterm is not None:
            rel, ctype = XTERM[name]
            return self._send(200, (self.xterm / rel).read_bytes(), ctype)
        self._send(404, {"error": "no such file"})

    def do_POST(self):
        found = self._who()
        if found is None:
            return
        ident, rest = found
        try:
            body = self._body()
            if ident == BOARD:
                self._board_post(rest, body)
            else:
                self._trainee_post(self._trainee(ident), rest, body)
        except Busy as exc:
            self._send(409, {"error": str(exc)})
        except (ValueError, SwarmlabError) as exc:
            msg = "; ".join(exc.lines()) if isinstance(exc, SwarmlabError) else str(exc)
            self._send(400, {"error": msg})

    def _trainee_post(self, t: Trainee, rest: str, body: dict) -> None:
        if rest == "api/answer":
            number, choice = body.get("question"), body.get("choice")
            if type(number) is not int or type(choice) is not int:
                raise ValueError("question and choice: numbers are expected")
            self.live.drill.answer(t.name, number, choice)
            self._send(200, {"question": number, "choice": choice})
        elif rest == "api/check":
            self._send(200, self.live.check(t))
        elif rest == "api/hint":
            self._send(200, self.live.hint(t))
        elif rest == "api/reset" and self.live.room.allow_reset:
            self.live.reset(t, self.log_line)
            self._send(202, {"started": "reset"})
        elif rest == "api/reset":
            self._send(403, {"error": "the trainer has not allowed resets (room start --allow-reset)"})
        else:
            self._send(404, {"error": "no such action"})

    def _board_post(self, rest: str, body: dict) -> None:
        if rest == "api/next":
            return self._send(202, {"lesson": self.live.next_lesson(self.log_line)})
        if rest == "api/drill":
            return self._send(202, {"drill": self.live.start_drill(*drill_asked(body))})
        if rest == "api/close":
            self.live.drill.close_question()
            return self._send(200, {"closed": True})
        if rest != "api/reset":
            return self._send(404, {"error": "no such action"})
        name = str(body.get("trainee", ""))
        t = None if grammar.TRAINEE.problem(name) else self.live.room.trainee(name)
        if t is None:
            raise ValueError(f"trainee: no trainee {name!r} in this room")
        self.live.reset(t, self.log_line)
        self._send(202, {"started": "reset"})

    def _terminal(self, ident: str, where: list) -> None:
        """The WebSocket of a terminal: the trainee's own (typed into), or one the board watches."""
        if ident == BOARD:
            t = self.live.room.trainee(where[0]) if len(where) == 2 else None
            session = self.live.watched(t, where[1]) if t else None
        else:
            t = self._trainee(ident)
            session = self.live.terminal(t, where[0]) if len(where) == 1 else None
        if session is None:
            return self._send(404, {"error": "no such node, or no shell open on it"})
        answer = websocket.handshake({k.lower(): v for k, v in self.headers.items()})
        if answer is None:
            return self._send(400, {"error": "a WebSocket opening is expected here"})
        if not self.live.open_socket(ident, SOCKETS_EACH):
            return self._send(429, {"error": f"at most {SOCKETS_EACH} terminals open at once: close one"})
        try:
            self.send_response(101)
            for k, v in answer.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.flush()
            relay(websocket.Socket(self.connection), session, typed=ident != BOARD)
        finally:
            self.live.close_socket(ident)
        self.close_connection = True


def relay(ws: websocket.Socket, session: Session, typed: bool) -> None:
    """Output to the page, and (typed) the page's keys and size to the shell, until either
    side goes. Messages from the page are JSON: {"i": TEXT}, {"r": [COLS, ROWS]}, {"p": 1}."""
    w = session.attach()
    try:
        while not ws.closed:
            ready = ws.wait([w.readable])
            if not ready:
                return ws.close(1001, "idle too long")
            if w.readable in ready:
                data = w.take()
                if data:
                    ws.send(data)
                if w.dropped or (w.ended and not data):
                    return ws.close(1000, "the shell ended" if w.ended else "too far behind")
            if -1 in ready:
                for msg in ws.receive():
                    if typed:
                        _typed(session, msg)
    except websocket.TooMuch as exc:
        ws.close(exc.code, exc.why)
    except OSError:
        pass
    finally:
        session.detach(w)


def _typed(session: Session, msg) -> None:
    try:
        doc = json.loads(msg)
    except ValueError:
        return
    if not isinstance(doc, dict):
        return
    if isinstance(doc.get("i"), str):
        session.write(doc["i"].encode())
    size = doc.get("r")
    if isinstance(size, list) and len(size) == 2 and all(isinstance(x, int) for x in size):
        session.resize(rows=size[1], cols=size[0])


def make_server(live: Live, host: str, port: int, xterm: Optional[Path], log_line, tls=None) -> BoundedServer:
    server = BoundedServer((host, port), Handler, tls, slots=SLOTS)
    guard = Guard(host, server.server_address[1], tls=tls is not None)
    keys = Keys(guard, live.room)
    server.RequestHandlerClass = type(
        "BoundHandler",
        (Handler,),
        {"keys": keys, "live": live, "xterm": xterm, "log_line": staticmethod(log_line)},
    )
    server.keys = keys  # type: ignore[attr-defined]
    return server

"""The live page's server: the standard library's threading HTTP server (no framework to
install for four routes), every request through the guard first.

GET  /            the page (its token in a meta tag, for its own POSTs)
GET  /app.js, /app.css
GET  /api/state   the lab's snapshot, the running action and its log, trainees' progress
GET  /api/drills  the drills it can run
POST /api/verify  run verify                       (202; 409 when an action runs)
POST /api/drill   run a drill {"drill": ID, "params": {KEY: NODE}}"""

from __future__ import annotations

from typing import Any, Callable, Dict
from urllib.parse import urlsplit

from ..errors import ConfigError, SwarmlabError
from ..web.forms import drill_asked
from ..web.guard import Guard
from ..web.http import BoundedServer, PageHandler, static
from .live import Live


def _static(name: str) -> str:
    return static("swarmlab.ui", name)


class Handler(PageHandler):
    server_version = "swarmlab-ui"
    guard: Guard
    live: Live
    log_line: Callable[[str], None] = staticmethod(lambda s: None)

    def _guarded(self) -> bool:
        headers = {k.lower(): v for k, v in self.headers.items()}
        why = self.guard.check(self.command, headers, urlsplit(self.path).query)
        if why:
            self.log_line(f"refused {self.command} {urlsplit(self.path).path}: {why}")
            self._send(403, {"error": f"refused: {why}"})
            return False
        return True

    def do_GET(self):
        if not self._guarded():
            return
        path = urlsplit(self.path)
        if path.path == "/" and "token=" in path.query:  # the printed URL: the token moves to a cookie
            self._send(303, b"", "text/plain", {"Location": "/", "Set-Cookie": self.guard.set_cookie()})
        elif path.path == "/":
            page = _static("index.html").replace("{{TOKEN}}", self.guard.token).replace("{{LAB}}", self.live.lab)
            self._send(200, page, "text/html")
        elif path.path in ("/app.js", "/app.css"):
            self._send(200, _static(path.path[1:]), "text/javascript" if path.path.endswith("js") else "text/css")
        elif path.path == "/api/state":
            self._send(200, self.live.state())
        elif path.path == "/api/drills":
            self._send(200, [{k: d[k] for k in ("id", "title", "params", "needs")} for d in self.live.runs.drills()])
        else:
            self._send(404, {"error": "no such page"})

    def do_POST(self):
        if not self._guarded():
            return
        try:
            body = self._body()
            kind, work, ok, keep_as = self._action(urlsplit(self.path).path, body)
        except (ValueError, ConfigError, SwarmlabError) as exc:
            msg = "; ".join(exc.lines()) if isinstance(exc, SwarmlabError) else str(exc)
            self._send(400, {"error": msg})
            return
        if kind is None:
            self._send(404, {"error": "no such action"})
        elif self.live.begin(kind, work, keep_as, ok):
            self.log_line(f"{kind} started from the page")
            self._send(202, {"started": kind})
        else:
            self._send(409, {"error": "an action is running: wait for it to end"})

    def _action(self, path: str, body: Dict[str, Any]):
        lab, runs = self.live.lab, self.live.runs
        if path == "/api/verify":
            return "verify", (lambda p, say: runs.verify(lab, p)), (lambda r: r["passed"]), "verify"
        if path == "/api/drill":
            ref, params = drill_asked(body)
            d = runs.drill(ref, params)
            return "drill", (lambda p, say: runs.run_drill(lab, p, d, say)), (lambda r: r["passed"]), "drill"
        return None, None, None, None


class LabServer(BoundedServer):
    guard: Guard


def make_server(live: Live, host: str, port: int, log_line: Callable[[str], None], tls=None) -> LabServer:
    """tls: an ssl.SSLContext (web/tls.py) to serve https."""
    server = LabServer((host, port), Handler, tls)
    guard = Guard(host, server.server_address[1], tls=tls is not None)
    server.RequestHandlerClass = type(
        "BoundHandler", (Handler,), {"guard": guard, "live": live, "log_line": staticmethod(log_line)}
    )
    server.guard = guard
    return server

"""The live page's server: the standard library's threading HTTP server (no framework to
install for four routes), every request through the guard first.

GET  /            the page (its token in a meta tag, for its own POSTs)
GET  /app.js, /app.css
GET  /api/state   the lab's snapshot, the running action and its log, trainees' progress
GET  /api/drills  the drills it can run
POST /api/verify  run verify                       (202; 409 when an action runs)
POST /api/drill   run a drill {"drill": ID, "params": {KEY: NODE}}"""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any, Callable, Dict, Optional
from urllib.parse import urlsplit

from .. import grammar
from ..errors import ConfigError, SwarmlabError
from .guard import Guard
from .live import Live

MAX_BODY = 16 * 1024
MAX_CONNECTIONS = 32  # one thread each; more at once are closed at once
CONNECTION_TIMEOUT = 10  # seconds a connection may stay silent (a read, the TLS handshake)
HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self' data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'",
}


def _static(name: str) -> str:
    return resources.files("swarmlab.ui").joinpath("static", name).read_text(encoding="utf-8")


class Handler(BaseHTTPRequestHandler):
    server_version = "swarmlab-ui"
    timeout = CONNECTION_TIMEOUT
    guard: Guard
    live: Live
    log_line: Callable[[str], None] = staticmethod(lambda s: None)

    def log_message(self, fmt, *args):  # the terminal gets one line per refused request, not every poll
        pass

    def _send(self, code: int, body: Any, ctype: str = "application/json", extra: Optional[Dict[str, str]] = None):
        if not isinstance(body, bytes):
            body = (body if isinstance(body, str) else json.dumps(body, default=str)).encode()
        data = body
        self.send_response(code)
        for k, v in {
            **HEADERS,
            "Content-Type": f"{ctype}; charset=utf-8",
            "Content-Length": str(len(data)),
            **(extra or {}),
        }.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

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

    def _body(self) -> Dict[str, Any]:
        size = int(self.headers.get("Content-Length") or 0)
        if not 0 <= size <= MAX_BODY:
            raise ValueError(f"Content-Length must be 0 to {MAX_BODY}")
        doc = json.loads(self.rfile.read(size) or b"{}")
        if not isinstance(doc, dict):
            raise ValueError("a JSON object is expected")
        return doc

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
            ref, params = str(body.get("drill", "")), body.get("params") or {}
            problem = grammar.DRILL.problem(ref)
            if problem or not isinstance(params, dict):
                raise ValueError(f"drill: {problem or 'params must be an object'}")
            for key, value in params.items():
                bad = grammar.PARAM.problem(str(key)) or grammar.NODE.problem(str(value))
                if bad:
                    raise ValueError(f"params.{key}: {bad}")
            d = runs.drill(ref, {str(k): str(v) for k, v in params.items()})
            return "drill", (lambda p, say: runs.run_drill(lab, p, d, say)), (lambda r: r["passed"]), "drill"
        return None, None, None, None


class LabServer(ThreadingHTTPServer):
    """A thread per connection, at most MAX_CONNECTIONS at once; IPv6 when the address is."""

    daemon_threads = True
    guard: Guard

    def __init__(self, address, handler, tls=None):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(address, handler)
        if tls is not None:  # the handshake runs in the connection's own thread, under its timeout
            self.socket = tls.wrap_socket(self.socket, server_side=True, do_handshake_on_connect=False)

    def process_request(self, request, client_address):
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request, client_address):
        pass  # a client gone, a handshake that failed or timed out: nothing for the terminal


def make_server(live: Live, host: str, port: int, log_line: Callable[[str], None], tls=None) -> LabServer:
    """tls: an ssl.SSLContext (ui/tls.py) to serve https."""
    server = LabServer((host, port), Handler, tls)
    guard = Guard(host, server.server_address[1], tls=tls is not None)
    server.RequestHandlerClass = type(
        "BoundHandler", (Handler,), {"guard": guard, "live": live, "log_line": staticmethod(log_line)}
    )
    server.guard = guard
    return server

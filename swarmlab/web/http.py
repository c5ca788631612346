"""The pages' HTTP server: the standard library's threading server (no framework to
install for a handful of routes), a bounded number of connections at once, each silent
for at most CONNECTION_TIMEOUT, and the security headers on every answer."""

from __future__ import annotations

import json
import socket
import threading
from importlib import resources
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Optional

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


def static(package: str, name: str) -> str:
    """A page's file, shipped in `package`'s static/ folder."""
    return resources.files(package).joinpath("static", name).read_text(encoding="utf-8")


class PageHandler(BaseHTTPRequestHandler):
    """A request's answer with the headers every page carries, and a bounded JSON body."""

    timeout = CONNECTION_TIMEOUT

    def log_message(self, fmt, *args):  # the terminal gets one line per refused request, not every poll
        pass

    def _send(self, code: int, body: Any, ctype: str = "application/json", extra: Optional[Dict[str, str]] = None):
        if not isinstance(body, bytes):
            body = (body if isinstance(body, str) else json.dumps(body, default=str)).encode()
        self.send_response(code)
        for k, v in {
            **HEADERS,
            "Content-Type": f"{ctype}; charset=utf-8",
            "Content-Length": str(len(body)),
            **(extra or {}),
        }.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _body(self) -> Dict[str, Any]:
        size = int(self.headers.get("Content-Length") or 0)
        if not 0 <= size <= MAX_BODY:
            raise ValueError(f"Content-Length must be 0 to {MAX_BODY}")
        doc = json.loads(self.rfile.read(size) or b"{}")
        if not isinstance(doc, dict):
            raise ValueError("a JSON object is expected")
        return doc


class BoundedServer(ThreadingHTTPServer):
    """A thread per connection, at most `slots` at once; IPv6 when the address is."""

    daemon_threads = True

    def __init__(self, address, handler, tls=None, slots: int = MAX_CONNECTIONS):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self._slots = threading.BoundedSemaphore(slots)
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

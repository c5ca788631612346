"""An HTTP GET to a lab service, from the controller: by IP address only, no proxy from
the environment, no redirect followed, the answer's size bounded."""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Optional, Tuple

from ..transport import reach


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None  # the 3xx itself is the answer: a lab service never sends the controller elsewhere


class _Connection(http.client.HTTPConnection):
    def connect(self) -> None:
        self.sock = reach.connect(self.host, self.port, self.timeout if isinstance(self.timeout, (int, float)) else 5.0)
        if self.sock.family != socket.AF_UNIX:  # as http.client's own: no delayed small writes
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _Reach(urllib.request.HTTPHandler):
    """Connections made as transport/reach.py makes them (from the engine's machine, for a
    lab on another one)."""

    def http_open(self, req):
        return self.do_open(_Connection, req)


# no proxy from the environment either: a lab's address goes to the lab, nowhere else
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect, _Reach)
MAX_BODY = 64 * 1024  # what is kept of an answer as evidence


def http_get(url: str, timeout: float = 5.0) -> Tuple[int, Optional[dict], str]:
    """(status, JSON body or None, body) of a GET to a lab service: only an IP address (a
    lab host's, as the callers give), no redirect followed, at most MAX_BODY read."""
    parts = urllib.parse.urlsplit(url)
    try:
        ipaddress.ip_address(parts.hostname or "")
    except ValueError:
        raise OSError(f"not a lab address: {parts.hostname!r} (lab services are asked by IP address)") from None
    if parts.scheme != "http":
        raise OSError(f"not a lab URL: {parts.scheme!r} (lab services are asked over http)")
    try:
        with _OPENER.open(url, timeout=timeout) as resp:
            body, status = resp.read(MAX_BODY + 1), resp.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(MAX_BODY + 1), exc.code
        exc.close()
    raw = body[:MAX_BODY].decode(errors="replace") + (" [cut at 64 KiB]" if len(body) > MAX_BODY else "")
    try:
        return status, json.loads(raw), raw
    except ValueError:
        return status, None, raw

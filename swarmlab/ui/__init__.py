"""`swarmlab ui` (issue #16): the lab live in a browser for the room — nodes and the tasks
on them, overlays, buttons that run verify or a drill and show its timeline as it
happens, every trainee lab's progress — served on 127.0.0.1 behind a token (guard.py)."""

from __future__ import annotations

from typing import Any, Callable

from ..web.guard import tls_for
from .live import Live, Runs
from .server import make_server


def serve(
    lab: str,
    provider_factory: Callable[[], Any],
    runs: Runs,
    host: str,
    port: int,
    allow_remote: bool,
    ready: Callable[[str, str], None],
    log_line: Callable[[str], None],
) -> None:
    """Serve until interrupted; `ready` gets the URL (with its token) once listening, and
    the certificate's fingerprint when served over TLS (--allow-remote), else ""."""
    cert = tls_for(host, allow_remote, "can break the lab")
    live = Live(lab, provider_factory, runs)
    server = make_server(live, host, port, log_line, cert.context if cert else None)
    live.start()
    ready(server.guard.url(), cert.fingerprint if cert else "")
    try:
        server.serve_forever(poll_interval=0.5)
    finally:
        live.stopping.set()
        server.server_close()

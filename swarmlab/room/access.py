"""Who reaches what in a room. Every trainee has a token of their own, and the trainer
another; the path says whose page it is (/t/NAME/… or /board/…), and only that one's token
opens it. The printed link's token moves to a cookie scoped to that path (so two trainees'
links in one browser keep apart), POSTs need it in a header a cross-site form cannot set,
and a WebSocket needs this server's Origin. Host and Origin are judged as for `ui`
(web/guard.py: DNS rebinding, other sites)."""

from __future__ import annotations

import secrets
from typing import Dict, Optional, Tuple
from urllib.parse import parse_qs

from ..web.guard import HEADER, Guard, cookie_token
from .model import Room

BOARD = "board"


def whose(path: str) -> Tuple[Optional[str], str]:
    """(identity, the rest of the path): ("alice", "api/state") for /t/alice/api/state,
    ("board", "") for /board/; (None, path) when the path is nobody's."""
    parts = path.split("/")
    if len(parts) >= 4 and parts[0] == "" and parts[1] == "t" and parts[2]:
        return parts[2], "/".join(parts[3:])
    if len(parts) >= 3 and parts[0] == "" and parts[1] == BOARD:
        return BOARD, "/".join(parts[2:])
    return None, path


class Keys:
    def __init__(self, guard: Guard, room: Room):
        self.guard, self.room = guard, room

    def token(self, ident: str) -> Optional[str]:
        if ident == BOARD:
            return self.room.trainer_token
        t = self.room.trainee(ident)
        return t.token if t else None

    def cookie(self, ident: str) -> str:
        return f"swarmlab_room_{self.guard.port}_{ident}"

    def scope(self, ident: str) -> str:
        return f"/{BOARD}/" if ident == BOARD else f"/t/{ident}/"

    def check(
        self, method: str, ident: Optional[str], headers: Dict[str, str], query: str, ws: bool = False
    ) -> Optional[str]:
        """None when the request may go on, else why it is refused (403)."""
        if not self.guard.host_ok(headers.get("host")):
            return "Host is not this server"
        if not self.guard.origin_ok(headers.get("origin")) or (ws and "origin" not in headers):
            return "Origin is another site"
        wanted = self.token(ident) if ident else None
        if wanted is None:
            return "no such page"
        given = headers.get(HEADER.lower())
        if method != "POST" and given is None:
            given = cookie_token(headers.get("cookie", ""), self.cookie(ident or ""))
            given = given or next(iter(parse_qs(query).get("token") or []), None)
        if method == "POST" and given is None:
            return f"a POST needs the {HEADER} header"
        ok = given is not None and secrets.compare_digest(given.encode(), wanted.encode())
        return None if ok else "this token does not open this page"

    def set_cookie(self, ident: str) -> str:
        return f"{self.cookie(ident)}={self.token(ident)}; HttpOnly; SameSite=Strict; Path={self.scope(ident)}" + (
            "; Secure" if self.guard.tls else ""
        )

    def link(self, ident: str) -> str:
        base = self.guard.url().split("/?", 1)[0]
        return f"{base}{self.scope(ident)}?token={self.token(ident)}"

"""Who may read the live page and press its buttons (it can break a lab), as Jupyter
guards its server: a random token per run, given in the URL printed once and then kept in
a cookie; the Host header must name this server (DNS rebinding: another site's name that
resolves to 127.0.0.1 carries its own name); an Origin, when the browser sends one, must
be this server's (another site in the same browser can neither read nor post); actions
only by POST, with the token in a header a cross-site form cannot set. Cookies are not kept
apart by port, so the cookie's name carries the port: two pages on one machine never read
each other's."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from http.cookies import CookieError, SimpleCookie
from typing import Dict, Optional, Tuple
from urllib.parse import parse_qs, urlsplit

from ..errors import ConfigError, Problem
from . import tls

COOKIE = "swarmlab_ui"  # + "_" + the port
HEADER = "X-Swarmlab-Token"
LOOPBACK = ("127.0.0.1", "localhost", "[::1]")
LOOPBACK_BINDS = ("127.0.0.1", "::1", "localhost")


@dataclass
class Guard:
    bound: str  # the address the server listens on
    port: int
    token: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    tls: bool = False  # served over https (--allow-remote)

    @property
    def cookie(self) -> str:
        return f"{COOKIE}_{self.port}"

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    def hosts(self) -> Tuple[str, ...]:
        names = LOOPBACK if self.bound in LOOPBACK_BINDS else (f"[{self.bound}]" if ":" in self.bound else self.bound,)
        return tuple(f"{n}:{self.port}" for n in names)

    def host_ok(self, host: Optional[str]) -> bool:
        return host is not None and host.lower() in self.hosts()

    def origin_ok(self, origin: Optional[str]) -> bool:
        """No Origin (a top-level navigation, curl) is judged by the token alone; one that
        is sent must be this very server."""
        if origin is None:
            return True
        parts = urlsplit(origin)
        return parts.scheme == self.scheme and parts.netloc.lower() in self.hosts()

    def _given(self, headers: Dict[str, str], query: str, cookie: bool) -> Optional[str]:
        token = headers.get(HEADER.lower())
        if token is None and cookie:
            token = cookie_token(headers.get("cookie", ""), self.cookie)
        if token is None:
            token = next(iter(parse_qs(query).get("token") or []), None)
        return token

    def token_ok(self, given: Optional[str]) -> bool:
        return given is not None and given != "" and secrets.compare_digest(given.encode(), self.token.encode())

    def check(self, method: str, headers: Dict[str, str], query: str) -> Optional[str]:
        """None when the request may go on, else why it is refused (403). `headers`:
        lower-cased names. A POST needs the token in its header: a cookie alone, which a
        cross-site form would carry, is not enough."""
        if not self.host_ok(headers.get("host")):
            return "Host is not this server"
        if not self.origin_ok(headers.get("origin")):
            return "Origin is another site"
        if method == "POST":
            return None if self.token_ok(headers.get(HEADER.lower())) else f"a POST needs the {HEADER} header"
        return None if self.token_ok(self._given(headers, query, cookie=True)) else "no valid token"

    def url(self) -> str:
        host = (
            "127.0.0.1"
            if self.bound in ("127.0.0.1", "localhost")
            else f"[{self.bound}]"
            if ":" in self.bound
            else self.bound
        )
        return f"{self.scheme}://{host}:{self.port}/?token={self.token}"

    def set_cookie(self) -> str:
        return f"{self.cookie}={self.token}; HttpOnly; SameSite=Strict; Path=/" + ("; Secure" if self.tls else "")


def cookie_token(header: str, name: str) -> Optional[str]:
    try:
        jar = SimpleCookie(header)
    except CookieError:
        return None
    return jar[name].value if name in jar else None


def tls_for(host: str, allow_remote: bool, risk: str):
    """The per-run TLS certificate a page listening on `host` needs (web/tls.py), None on
    the loopback; ConfigError when `host` is not the loopback and --allow-remote was not
    given. `risk`: what whoever reaches the page with a token can do."""
    if host in LOOPBACK_BINDS:
        return tls.make(host) if allow_remote else None
    if not allow_remote:
        raise ConfigError(
            [
                Problem(
                    "--host",
                    "",
                    f"{host} is not this machine's loopback: anyone who can reach it and learns "
                    f"a token {risk}; add --allow-remote to mean it",
                )
            ],
            "the options",
        )
    return tls.make(host)  # the token never crosses a network in clear

"""The grammar of every name the tool takes in (issue #12): checked with a full match
where it enters (a file, a flag, an argument), before anything is made or sent.

Quoting at the exit (`shell.sh`) is the other half: both hold, not either. A name that
passes here still never reaches a shell unquoted."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Optional

_DNS = r"[a-z0-9](?:[a-z0-9-]{0,22}[a-z0-9])?"
# Docker's own rule for object names (containers, networks, volumes, services): no dot or
# dash first, no slash, no space, nothing a shell reads.
_OBJ = r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}"
_IMAGE_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_DOMAIN = r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]{1,5})?"
# distribution/reference's grammar: [domain/]path[:tag][@digest]
_IMAGE = (
    rf"(?:{_DOMAIN}/)?{_IMAGE_PART}(?:/{_IMAGE_PART})*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?"
)


@dataclass(frozen=True)
class Rule:
    """One kind of name: its pattern (always matched whole) and the words for the fix."""

    what: str
    pattern: "re.Pattern[str]"
    words: str
    max_len: int = 255
    kind: str = "valid"

    def ok(self, value: object) -> bool:
        return isinstance(value, str) and len(value) <= self.max_len and self.pattern.fullmatch(value) is not None

    def problem(self, value: object) -> Optional[str]:
        """None when `value` is a good name, else the message (what it is, the fix)."""
        if self.ok(value):
            return None
        return f"{self.what} {_show(value)} is not {self.kind}: use {self.words}"


def _rule(what: str, pattern: str, words: str, max_len: int = 255, kind: str = "valid") -> Rule:
    return Rule(what, re.compile(pattern), words, max_len, kind)


_DNS_WORDS = "lowercase letters, digits and '-', 1-24 characters, not starting or ending with '-'"
LAB = _rule("lab name", _DNS, _DNS_WORDS, 24, "a DNS label")
NETWORK = _rule("network name", _DNS, _DNS_WORDS, 24, "a DNS label")
NODE = _rule(
    "host name",
    r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?",
    "letters, digits, '.', '_' and '-' (a hostname), 1-63 characters",
    63,
)
SERVICE = _rule(
    "service name",
    _OBJ,
    "letters, digits, '.', '_' and '-', starting with a letter or digit, at most 63 characters",
    63,
)
VOLUME = _rule(
    "volume name", _OBJ, "letters, digits, '.', '_' and '-', starting with a letter or digit, at most 63 characters", 63
)
_SECRET = r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,62}[A-Za-z0-9])?"
_SECRET_WORDS = "letters, digits, '.', '_' and '-', starting and ending with a letter or digit, at most 64 characters"
SECRET = _rule("secret name", _SECRET, _SECRET_WORDS, 64)
CONFIG = _rule("config name", _SECRET, _SECRET_WORDS, 64)
LABEL_KEY = _rule(
    "label key",
    r"[A-Za-z0-9](?:[A-Za-z0-9._/-]{0,126}[A-Za-z0-9])?",
    "letters, digits, '.', '_', '/' and '-', e.g. tier or com.example.zone",
    128,
)
LABEL_VALUE = _rule(
    "label value",
    r"[A-Za-z0-9._:/@+=,-]{0,128}",
    "letters, digits and . _ : / @ + = , - (no spaces, at most 128 characters)",
    128,
)
IMAGE = _rule(
    "image reference",
    _IMAGE,
    "[registry/]name[:tag][@sha256:digest] in lowercase, e.g. swarmlab.local/web:bookworm",
    255,
)
USER = _rule(
    "user name",
    r"[a-z_][a-z0-9_.-]{0,31}",
    "a login name: lowercase letters, digits, '_', '.' and '-', starting with a letter or '_'",
    32,
)
STACK = _rule("stack name", _DNS, _DNS_WORDS, 24, "a DNS label")
NODE_PATH = _rule(
    "path on a node",
    r"/(?:root|srv|tmp)(?:/[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}){1,4}",
    "an absolute path under /root, /srv or /tmp: up to 4 parts of letters, digits, '.', '_' "
    "and '-', none starting with '.' or '-'",
    300,
)
LESSON = _rule(
    "lesson id",
    r"[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?",
    "lowercase letters, digits and '-', 1-48 characters",
    48,
    "a lesson id",
)
DRILL = _rule(
    "drill id",
    r"[a-z0-9](?:[a-z0-9-]{0,46}[a-z0-9])?",
    "lowercase letters, digits and '-', 1-48 characters",
    48,
    "a drill id",
)
PARAM = _rule(
    "parameter name",
    r"[a-z][a-z0-9_]{0,23}",
    "lowercase letters, digits and '_', starting with a letter, 1-24 characters",
    24,
)
# a name a task may look up: a service, tasks.<service>, a container, a host name
LOOKUP = _rule(
    "name to resolve",
    r"[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,251}[A-Za-z0-9])?",
    "letters, digits, '.', '_' and '-' (a DNS name)",
    253,
)
REGISTRY = _rule(
    "registry address", _DOMAIN, "a registry's host[:port], like registry.example.com:5000 (no scheme, no path)", 255
)

# Where `import` and `diff` read a swarm swarmlab did not make (docker's own forms)
DOCKER_CONTEXT = _rule(
    "docker context", r"[a-zA-Z0-9][a-zA-Z0-9_.+-]*", "letters, digits, '_', '.', '+' and '-' (docker's rule)", 64
)
DOCKER_HOST = _rule(
    "docker host",
    r"(?:tcp://[A-Za-z0-9.:\[\]-]+:[0-9]{1,5}|ssh://(?:[A-Za-z0-9._-]+@)?[A-Za-z0-9.:\[\]-]+(?::[0-9]{1,5})?"
    r"|unix:///[A-Za-z0-9._/-]+)",
    "tcp://HOST:PORT, ssh://[USER@]HOST[:PORT] or unix:///PATH",
    255,
)

# A room's labs are named ROOM-TRAINEE, which must stay a lab name (24 characters)
ROOM = _rule(
    "room name",
    r"[a-z0-9](?:[a-z0-9-]{0,8}[a-z0-9])?",
    "lowercase letters, digits and '-', 1-10 characters, not starting or ending with '-'",
    10,
    "a short DNS label",
)
TRAINEE = _rule(
    "trainee name",
    r"[a-z0-9](?:[a-z0-9-]{0,11}[a-z0-9])?",
    "lowercase letters, digits and '-', 1-13 characters, not starting or ending with '-'",
    13,
    "a short DNS label",
)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "...'"


def ssh_address(value: object) -> Optional[str]:
    """None for an address SSH may go to: an IP literal of a private, loopback or
    link-local range. A hostname (resolved by whom?), an option (`-oProxyCommand=...`) or
    a public address is refused: the lab's hosts are the user's own machines."""
    if not isinstance(value, str):
        return f"must be an IP address, got {_show(value)}"
    try:
        ip = ipaddress.ip_address(value)
    except ValueError:
        return (
            f"must be an IP address (not a hostname or an option), got {_show(value)}: "
            "write the host's private address, e.g. 192.168.56.11"
        )
    if ip.is_unspecified or ip.is_multicast or ip.is_reserved:
        return f"{value} is not a host's address (unspecified, multicast or reserved)"
    if not (ip.is_private or ip.is_loopback or ip.is_link_local):
        return (
            f"{value} is a public address; swarmlab runs labs on hosts of a private network "
            "(10/8, 172.16/12, 192.168/16, fd00::/8): use the host's private address or a VPN"
        )
    return None

"""What a schema cannot say of an inventory: a manager at least, names and addresses usable,
key files present and readable, host keys pinned."""

from __future__ import annotations

import base64
import binascii
import ipaddress
from pathlib import Path
from typing import TYPE_CHECKING, Dict, Optional, Tuple

from .. import grammar
from ..errors import ConfigError
from .yamlfile import is_file, read_text

KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521", "ssh-rsa")

if TYPE_CHECKING:
    from .inventory import InventoryHost


def resolve(base: Path, name: str) -> Path:
    """A path of the inventory's: ~ is the user's home, a relative one is from its folder."""
    try:
        p = Path(name).expanduser()
    except RuntimeError:  # ~user of a user this machine does not have: the name as written
        p = Path(name)
    return p if p.is_absolute() else base / p


def check_hosts(hosts, where, known_hosts, base: Path, tofu: bool, problem, managers_at) -> None:
    """What a schema cannot say: a manager at least, names and addresses usable, files
    present and readable, keys pinned. An even number of managers is what Docker takes, so
    swarmlab takes it too (`up` says what it costs)."""
    managers = [h for h in hosts if h.role == "manager"]
    if hosts and not managers:
        problem(managers_at, "no manager: give one host at least the role manager (1, 3 or 5 keep a quorum)")
    if known_hosts:
        _check_known_hosts(resolve(base, known_hosts), known_hosts, problem)
    seen: Dict[Tuple[str, int], str] = {}
    for h in hosts:
        p = where[h.name]
        other = seen.setdefault((h.address, h.port), h.name)
        if other != h.name:
            problem(p, f"has the same address and port as {other} ({h.address}:{h.port})")
        _check_names(h, p, problem)
        if not h.key_file:
            problem(
                p,
                "no key_file: name the private key swarmlab logs in with (for the host, or in "
                "defaults / the group's vars); passwords and agents are not used",
            )
        elif not is_file(resolve(base, h.key_file)):
            problem(p + ("key_file",), f"file {h.key_file} not found (relative paths are from the inventory's folder)")
        elif mode := _open_key(resolve(base, h.key_file)):
            problem(
                p + ("key_file",),
                f"{h.key_file} is a private key others can read ({mode}); ssh refuses such "
                f"a key, and so does swarmlab: chmod 600 {h.key_file}",
            )
        if h.host_key:
            msg = _bad_host_key(h.host_key)
            if msg:
                problem(p + ("host_key",), msg)
        elif not known_hosts and not tofu:
            problem(
                p,
                "no pinned host key: add host_key: (ssh-keyscan HOST prints it; check it out of band) or "
                "known_hosts: for the inventory, or pass --trust-on-first-use to record it",
            )


def _open_key(path: Path) -> str:
    """'mode 0644' when path holds a private key that its group or others may read, else ''."""
    try:
        mode = path.stat().st_mode & 0o777
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError:
        return ""
    return f"mode {mode:04o}" if mode & 0o044 and b"PRIVATE KEY" in head else ""


def _check_names(h: InventoryHost, p: Tuple[str, ...], problem) -> None:
    """Every name and address of a host against its grammar (they reach SSH and shells)."""
    msg = grammar.NODE.problem(h.name)
    if msg:
        problem(p, msg)
    msg = grammar.ssh_address(h.address)
    if msg:
        problem(p + ("address",), msg)
    msg = grammar.USER.problem(h.user)
    if msg:
        problem(p + ("user",), msg)
    for key in ("advertise_addr", "data_path_addr"):
        value = getattr(h, key)
        if value:
            try:
                ipaddress.ip_address(value)
            except ValueError:
                problem(p + (key,), f"must be an IP address of the host (Swarm advertises it), got {value!r}")
    for key, value in h.labels:
        msg = grammar.LABEL_KEY.problem(key) or grammar.LABEL_VALUE.problem(value)
        if msg:
            problem(p + ("labels", key), msg)


def _check_known_hosts(path: Path, shown: str, problem) -> None:
    """Every line of the inventory's known_hosts must be a host key line ssh would read."""
    try:
        text = read_text(path, "known_hosts file")
    except ConfigError as exc:
        problem(
            ("known_hosts",), f"{exc.problems[0].message} ({shown}; relative paths are from the inventory's folder)"
        )
        return
    for n, line in enumerate(text.splitlines(), 1):
        parts = line.split()
        if not parts or parts[0].startswith("#"):
            continue
        if parts[0].startswith("@"):  # @cert-authority / @revoked markers
            parts = parts[1:]
        msg = _bad_host_key(" ".join(parts[1:3])) if len(parts) >= 3 else "must be 'HOST TYPE BASE64'"
        if msg:
            problem(("known_hosts",), f"{shown} line {n}: {msg}")


def _bad_host_key(text: str) -> Optional[str]:
    parts = text.split()
    if len(parts) < 2 or parts[0] not in KEY_TYPES:
        return f"must be '<type> <base64>' with type one of {', '.join(KEY_TYPES)}"
    try:
        blob = base64.b64decode(parts[1], validate=True)
    except (binascii.Error, ValueError):
        return "the key is not valid base64"
    # the blob starts with its own type name (RFC 4253): a key pasted whole, not cut short
    if len(blob) < 4 + len(parts[0]) or blob[4 : 4 + len(parts[0])] != parts[0].encode():
        return f"the key does not hold a {parts[0]} key (cut short or pasted from another line?)"
    return None

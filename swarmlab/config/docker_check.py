"""What `docker stack deploy` itself says of a stack, asked before anything exists.

Our own checks say every problem at once, in our words; Docker's compose loader (its
schema, its types) is the verdict that counts. So the stack goes to a docker client with
DOCKER_HOST pointing at a socket that does not exist: the client reads and validates the
file first, and only then would connect. "Cannot connect" means Docker accepts the file;
anything else is its verdict. Nothing is created, no daemon is contacted, and the call is
bounded in time. The file as the user wrote it is asked of the controller's client (the
one a user runs); what swarmlab will deploy is asked of every client version on PATH (the
nodes' 20.10 among them where Debian's docker.io is installed), and where one says it
ignores keys, that is said as it says it."""

from __future__ import annotations

import functools
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Set, Tuple

import yaml

from .compose import for_stack_deploy

TIMEOUT = 20
# Said by the client once the file is loaded, when it goes to the (absent) daemon: accepted.
_REACHED_DAEMON = ("Cannot connect to the Docker daemon", "error during connect", "connect: no such file")
# Said on the way, not a verdict.
_CHATTER = ("Ignoring unsupported options", "Ignoring deprecated options", "Since --detach", "In a future release")
_PATH = re.compile(
    r"(?<![\w.])(?P<path>(?:services|networks|volumes|secrets|configs|version)(?:\.[^\s:]+)?):?"
    r"\s+(?P<rest>.+)"
)
_EXTRA = re.compile(r"Additional property (\S+) is not allowed")
_IGNORING = re.compile(r"^Ignoring (unsupported|deprecated) options:(.*)$")
_DEPRECATED = re.compile(r"^([a-z_]+): (.+)$")  # one per key under "Ignoring deprecated options:"
NOT_ASKED = "docker's own check of the stack was not asked"


def clients() -> Tuple[Tuple[str, str], ...]:
    """(client, version) of each docker client on PATH, one per version, the first found first."""
    return _clients(os.environ.get("PATH", ""))


@functools.lru_cache(maxsize=4)
def _clients(path: str) -> Tuple[Tuple[str, str], ...]:
    out: Dict[str, str] = {}
    for folder in path.split(os.pathsep):
        client = os.path.join(folder or ".", "docker")
        if not (os.path.isfile(client) and os.access(client, os.X_OK)):
            continue
        try:
            got = subprocess.run(
                [client, "version", "--format", "{{.Client.Version}}"],
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                env={**os.environ, "DOCKER_HOST": "unix:///nonexistent"},
            )
        except (OSError, subprocess.TimeoutExpired):
            continue
        version = got.stdout.strip().splitlines()[0] if got.stdout.strip() else ""
        if version and version not in out.values():
            out[client] = version
    return tuple(out.items())


def verdict(
    stack: Mapping[str, Any], workdir: Path, client: Optional[str] = None
) -> Tuple[Optional[Tuple[Tuple[str, ...], str]], str]:
    """((path, message) when Docker refuses the stack, else None; a note: why it was not
    asked, or the keys it says it ignores, a line per kind). client: the first docker on PATH by default."""
    client = client or shutil.which("docker")
    if client is None:
        return None, f"{NOT_ASKED}: no docker client on PATH"
    text = yaml.safe_dump(for_stack_deploy(stack), sort_keys=False)
    with tempfile.TemporaryDirectory(prefix="swarmlab-check-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env.update(DOCKER_HOST=f"unix://{tmp}/no-daemon.sock", DOCKER_CONFIG=tmp)
        try:
            proc = subprocess.run(
                [client, "stack", "deploy", "--compose-file", "-", "swarmlab-check"],
                input=text,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                env=env,
                cwd=str(workdir) if workdir.is_dir() else tmp,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"{NOT_ASKED}: {type(exc).__name__}: {exc}"[:300]
    said = "\n".join((proc.stderr, proc.stdout))
    if any(s in said for s in _REACHED_DAEMON):
        return None, "\n".join(f"docker stack deploy says: {line}" for line in ignoring(said))
    lines = [ln.strip() for ln in said.splitlines() if ln.strip() and not ln.strip().startswith(_CHATTER)]
    if not lines:
        return None, f"docker's own check of the stack said nothing (exit {proc.returncode})"
    if "unknown flag" in lines[0] or "is not a docker command" in lines[0]:
        return None, f"{NOT_ASKED}: this client has no stack deploy ({lines[0]})"
    path, said = refusal(lines[0])
    return (tuple(p.replace("$$", "$") for p in path), said), ""  # the file's names, not as escaped for it


def ignoring(said: str) -> List[str]:
    """What the client says it ignores, in its words, one line per kind: "Ignoring
    unsupported options: build, privileged", "Ignoring deprecated options: expose: ..."
    (the client lists deprecated keys one per line below their heading)."""
    unsupported: List[str] = []
    deprecated: List[str] = []
    under = False  # below the deprecated heading
    for line in (ln.strip() for ln in said.splitlines()):
        m = _IGNORING.match(line)
        if m:
            under = m.group(1) == "deprecated"
            unsupported += [] if under else [line]
        elif under and _DEPRECATED.match(line):
            deprecated.append(line)
        elif line:
            under = False
    return unsupported + (["Ignoring deprecated options: " + "; ".join(deprecated)] if deprecated else [])


def named_keys(note: str) -> Set[str]:
    """The keys a verdict's note says Docker ignores."""
    keys: Set[str] = set()
    for part in note.split("docker stack deploy says: ")[1:]:
        kind, _, rest = part.strip().partition(" options: ")
        if kind == "Ignoring unsupported":
            keys.update(k.strip() for k in rest.split(","))
        elif kind == "Ignoring deprecated":
            keys.update(m.group(1) for m in map(_DEPRECATED.match, rest.split("; ")) if m)
    return keys


def refusal(line: str) -> Tuple[Tuple[str, ...], str]:
    """Docker's line, as the path it names (for the file's line) and what it says of it."""
    said = f"docker stack deploy refuses the file: {line}"
    m = _PATH.search(line)
    if not m:
        return (), said
    path = tuple(m.group("path").split("."))
    extra = _EXTRA.fullmatch(m.group("rest"))
    if extra and m.start() == 0:
        return path + (extra.group(1),), (
            f"docker stack deploy refuses the file: {extra.group(1)!r} is not a key "
            f"it knows here ({m.group('rest')}); remove it or fix its spelling"
        )
    return path, said

"""What `docker stack deploy` itself says of a stack, asked before anything exists.

Our own checks say every problem at once, in our words; Docker's compose loader (its
schema, its types) is the verdict that counts, since the nodes run it. So the stack, as
it will be deployed, goes to the controller's own client with DOCKER_HOST pointing at a
socket that does not exist: the client reads and validates the file first, and only then
would connect. "Cannot connect" means Docker accepts the file; anything else is its
verdict. Nothing is created, no daemon is contacted, and the call is bounded in time."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Mapping, Optional, Tuple

import yaml

from .compose import for_stack_deploy

TIMEOUT = 20
# Said by the client once the file is loaded, when it goes to the (absent) daemon: accepted.
_REACHED_DAEMON = ("Cannot connect to the Docker daemon", "error during connect", "connect: no such file")
# Said on the way, not a verdict.
_CHATTER = ("Ignoring unsupported options", "Ignoring deprecated options", "Since --detach", "In a future release")
_PATH = re.compile(r"(?<![\w.])(?P<path>(?:services|networks|volumes|secrets|configs|version)(?:\.[^\s:]+)?):?"
                   r"\s+(?P<rest>.+)")
_EXTRA = re.compile(r"Additional property (\S+) is not allowed")


def verdict(stack: Mapping[str, Any], workdir: Path) -> Tuple[Optional[Tuple[Tuple[str, ...], str]], str]:
    """((path, message) when Docker refuses the stack, else None; a note when it was not
    asked, with why)."""
    client = shutil.which("docker")
    if client is None:
        return None, "docker's own check of the stack was not asked: no docker client on PATH"
    text = yaml.safe_dump(for_stack_deploy(stack), sort_keys=False)
    with tempfile.TemporaryDirectory(prefix="swarmlab-check-") as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
        env.update(DOCKER_HOST=f"unix://{tmp}/no-daemon.sock", DOCKER_CONFIG=tmp)
        try:
            proc = subprocess.run([client, "stack", "deploy", "--compose-file", "-", "swarmlab-check"],
                                  input=text, capture_output=True, text=True, timeout=TIMEOUT, env=env,
                                  cwd=str(workdir) if workdir.is_dir() else tmp)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return None, f"docker's own check of the stack was not asked: {type(exc).__name__}: {exc}"[:300]
    said = "\n".join((proc.stderr, proc.stdout))
    if any(s in said for s in _REACHED_DAEMON):
        return None, ""
    lines = [ln.strip() for ln in said.splitlines() if ln.strip() and not ln.strip().startswith(_CHATTER)]
    if not lines:
        return None, f"docker's own check of the stack said nothing (exit {proc.returncode})"
    if "unknown flag" in lines[0] or "is not a docker command" in lines[0]:
        return None, f"docker's own check of the stack was not asked: this client has no stack deploy ({lines[0]})"
    return refusal(lines[0]), ""


def refusal(line: str) -> Tuple[Tuple[str, ...], str]:
    """Docker's line, as the path it names (for the file's line) and what it says of it."""
    said = f"docker stack deploy refuses the file: {line}"
    m = _PATH.search(line)
    if not m:
        return (), said
    path = tuple(m.group("path").split("."))
    extra = _EXTRA.fullmatch(m.group("rest"))
    if extra and m.start() == 0:
        return path + (extra.group(1),), (f"docker stack deploy refuses the file: {extra.group(1)!r} is not a key "
                                          f"it knows here ({m.group('rest')}); remove it or fix its spelling")
    return path, said

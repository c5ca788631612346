"""A stack's `build:` sections, built as `docker build` builds them: with the engine's own
BuildKit where a client here can drive it, so RUN --mount, multi-stage targets and build
args work as they do for the user; with the classic builder otherwise, said so.

How BuildKit is reached, first that works: `docker buildx build --load` (buildx installed);
`DOCKER_BUILDKIT=1 docker build` with a client older than 23.0 (BuildKit built into the
client, as Debian's 20.10). Newer clients without buildx cannot build with BuildKit at all.
A `# syntax=` line asks BuildKit for a frontend image from a registry: unless that image is
already on the engine, it is refused before the build, with the fix (offline it would only
fail at a DNS lookup). Build args reach the client through its environment, never its argv."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Callable, List, Optional, Tuple

from ..config.compose import BuildSpec
from ..config.docker_check import clients
from ..errors import SwarmlabError
from ..progress import Say

TIMEOUT = 1800
_SYNTAX = re.compile(r"^#\s*syntax\s*=\s*(\S+)", re.IGNORECASE)


def how() -> Tuple[Optional[List[str]], dict, str]:
    """(the build command's start, its extra environment, what it is) or (None, {}, why not)."""
    for client, _version in clients():
        try:
            ok = subprocess.run([client, "buildx", "version"], capture_output=True, timeout=30).returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        if ok:
            return [client, "buildx", "build", "--load"], {}, f"BuildKit through buildx ({client})"
    for client, version in clients():
        if version.split(".")[0].isdigit() and int(version.split(".")[0]) < 23:
            return [client, "build"], {"DOCKER_BUILDKIT": "1"}, f"the engine's BuildKit (docker {version})"
    return (
        None,
        {},
        (
            "no client here can drive BuildKit (no buildx; clients from 23.0 on need it): "
            "the classic builder is used, which has no RUN --mount nor heredocs"
        ),
    )


def frontend(spec: BuildSpec) -> Optional[str]:
    """The image a `# syntax=` line of the Dockerfile names, if any (its parser directive:
    only comments before it)."""
    try:
        with open(spec.context / spec.dockerfile, encoding="utf-8", errors="replace") as f:
            for line in f:
                if not line.strip():
                    continue
                m = _SYNTAX.match(line.strip())
                if m:
                    return m.group(1)
                if not line.lstrip().startswith("#"):
                    return None
    except OSError:
        return None
    return None


def build(spec: BuildSpec, start: List[str], extra: dict, say: Say, has_image: Callable[[str], bool]) -> None:
    """One build through BuildKit, its progress said line by line as `docker build` prints
    it; a failure is a SwarmlabError carrying its last lines."""
    wanted = frontend(spec)
    if wanted and not has_image(wanted):
        raise SwarmlabError(
            f"{spec.context / spec.dockerfile}: its first line `# syntax={wanted}` asks BuildKit for a frontend "
            "image from a registry, which this machine does not reach",
            hint=f"remove that line (the engine's built-in frontend is used), or `docker pull {wanted}` where a "
            f"registry answers and `docker save {wanted} | docker load` here",
        )
    env = {**os.environ, **extra, **{k: v for k, v in spec.args}}
    argv = start + ["--progress=plain", "-f", str(Path(spec.context) / spec.dockerfile), "-t", spec.image]
    argv += ["--target", spec.target] if spec.target else []
    for k, _ in spec.args:
        argv += ["--build-arg", k]  # the value comes from env: a build arg may be a token
    last: List[str] = []
    proc = subprocess.Popen(
        argv + [str(spec.context)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        env=env,
        text=True,
        errors="replace",
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip()
            if line:
                last = (last + [line])[-8:]
                say(f"  {line[:200]}")
        code = proc.wait(timeout=TIMEOUT)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if code != 0:
        raise SwarmlabError(
            f"building {spec.image} (service {spec.service}) from {spec.context} failed "
            f"(exit {code}):\n    " + "\n    ".join(last[-6:]),
            hint="the build runs on this machine with no registry: FROM an image it has",
        )

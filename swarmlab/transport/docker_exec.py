"""Commands inside a container of the local engine (a dind node), via `docker exec`.

The docker CLI is used rather than the exec API because it streams stdin (bytes or a
file, e.g. a `docker save` tar for `docker load`) with no socket juggling."""
from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from typing import Optional

from ..result import CommandResult
from ..shell import redact, sh
from .base import Command, Stdin

# SWARMLAB_TRACE=1: one line per command on stderr (when it ended, how long, where, what)
_TRACE = os.environ.get("SWARMLAB_TRACE") == "1"


class DockerExecTransport:
    def __init__(self, container: str, host: Optional[str] = None, docker: str = "docker"):
        self.container = container
        self.host = host or container
        self.docker = docker

    def __repr__(self) -> str:
        return f"DockerExecTransport({self.container!r})"

    def repeat(self, cmd: str) -> str:
        """The command line a reader types on the controller to run `cmd` here."""
        return f"docker exec {self.container} sh -c {shlex.quote(cmd)}"

    def interactive(self) -> list:
        """The argv of a login shell on this host, for a terminal."""
        return [self.docker, "exec", "-it", self.container, "sh", "-c",
                "command -v bash >/dev/null && exec bash -l || exec sh -l"]

    def run(self, cmd: Command, *, stdin: Stdin = None, timeout: float = 120,
            warn: bool = False) -> CommandResult:
        cmd = cmd if isinstance(cmd, str) else sh(*cmd)
        argv = [self.docker, "exec"] + (["-i"] if stdin is not None else []) + [self.container, "sh", "-c", cmd]
        started = time.monotonic()
        try:
            proc = subprocess.run(argv, input=stdin if isinstance(stdin, bytes) else None,
                                  stdin=None if isinstance(stdin, bytes) or stdin is None else stdin,
                                  capture_output=True, timeout=timeout)
            res = CommandResult(self.host, cmd, proc.returncode, proc.stdout.decode(errors="replace"),
                                proc.stderr.decode(errors="replace"), time.monotonic() - started)
        except subprocess.TimeoutExpired as exc:
            res = CommandResult(self.host, cmd, 124, (exc.stdout or b"").decode(errors="replace"),
                                f"timed out after {timeout:.0f}s", time.monotonic() - started)
        if _TRACE:
            sys.stderr.write(f"trace {time.strftime('%H:%M:%S')} {res.duration:6.2f}s rc={res.exited} "
                             f"{self.host}: {redact(cmd)[:110]}\n")
        return res if warn else res.check()

"""A Docker engine reached as the docker CLI reaches it (a context or DOCKER_HOST): a
swarm's manager that swarmlab did not make and has no other way into. Commands run on
this machine with the engine chosen in the environment, never on a command line."""

from __future__ import annotations

import os
import shlex
import time
from typing import Dict

from ..errors import EXIT_CONFIG, SwarmlabError
from ..grammar import DOCKER_CONTEXT, DOCKER_HOST
from ..result import CommandResult
from ..shell import sh
from .base import Command, Stdin, Stdout
from .docker_exec import run_argv


class EndpointTransport:
    def __init__(self, context: str = "", docker_host: str = ""):
        """One of: a docker context's name, or a DOCKER_HOST url."""
        problem = DOCKER_CONTEXT.problem(context) if context else DOCKER_HOST.problem(docker_host)
        if problem or bool(context) == bool(docker_host):
            raise SwarmlabError(problem or "give one of a docker context or a docker host", EXIT_CONFIG)
        self.env: Dict[str, str] = {"DOCKER_CONTEXT": context} if context else {"DOCKER_HOST": docker_host}
        self.host = context or docker_host

    def __repr__(self) -> str:
        return f"EndpointTransport({self.host!r})"

    def repeat(self, cmd: str) -> str:
        ((key, value),) = self.env.items()
        return f"{key}={shlex.quote(value)} sh -c {shlex.quote(cmd)}"

    def interactive(self) -> list:
        raise SwarmlabError("a docker endpoint has no shell to open; swarmlab only reads it")

    def run(
        self, cmd: Command, *, stdin: Stdin = None, timeout: float = 120, warn: bool = False, stdout: Stdout = None
    ) -> CommandResult:
        cmd = cmd if isinstance(cmd, str) else sh(*cmd)
        env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
        res = run_argv(["sh", "-c", cmd], stdin, timeout, {**env, **self.env}, self.host, cmd, time.monotonic(), stdout)
        return res if warn else res.check()

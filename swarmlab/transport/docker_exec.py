"""Commands inside a container of the local engine (a dind node).

When the engine runs on this machine and we are root, a command enters the node's
namespaces directly (`nsenter`, with the environment `docker exec` would give it): a
`docker exec` costs ~50 ms of CPU in the engine, containerd and runc, plus ~30 ms for the
host's docker CLI, before the command runs, and a lab's commands are mostly that (a
`lesson check` ran 25 of them; nsenter costs 3 ms). Otherwise (a remote engine, a node
paused or stopped, no nsenter) it is `docker exec`, whose CLI streams stdin (bytes or a
file, e.g. a `docker save` tar for `docker load`) with no socket juggling."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from typing import List, Optional, Tuple

from .. import enter
from ..errors import PreflightError
from ..result import CommandResult
from ..shell import redact, sh
from .base import Command, Stdin, Stdout

# SWARMLAB_TRACE=1: one line per command on stderr (when it ended, how long, where, what)
_TRACE = os.environ.get("SWARMLAB_TRACE") == "1"
# SWARMLAB_NSENTER=0: always `docker exec` (to compare, or where entering is not wanted)
_NSENTER = os.environ.get("SWARMLAB_NSENTER", "1") != "0"
_api_lock = threading.Lock()
_api: list = []  # [docker.APIClient] once made, [None] when the engine is not entered directly


def _local_api():
    """A client for the engine when its containers' processes are ours to enter: the
    engine on this machine's socket, we are root, nsenter is installed. None otherwise."""
    with _api_lock:
        if not _api:
            _api.append(_make_api())
        return _api[0]


def _make_api():
    host = os.environ.get("DOCKER_HOST", "")
    if not _NSENTER or (host and not host.startswith("unix://")) or os.geteuid() != 0 or not shutil.which("nsenter"):
        return None
    from ..engine import local_client  # here: docker-py is slow to import, and a node entered needs none

    try:
        return local_client(timeout=30).api
    except PreflightError:  # no engine answers: docker exec says why
        return None


def enter_argv(container: str) -> Optional[Tuple[List[str], dict]]:
    """nsenter's argv and the environment `docker exec` would give, for a running, unpaused
    container whose process this machine's kernel shows (its cgroup names the container:
    not another machine's pid, not a pid reused since). None: use `docker exec`."""
    api = _local_api()
    if api is None:
        return None
    try:
        info = api.inspect_container(container)
        state, pid = info["State"], int(info["State"]["Pid"])
        if not state.get("Running") or state.get("Paused") or pid <= 0:
            return None
        with open(f"/proc/{pid}/cgroup") as f:
            if info["Id"] not in f.read():
                return None
    except Exception:  # noqa: BLE001  (gone, or not ours to see: docker exec decides)
        return None
    env = dict(e.split("=", 1) for e in info["Config"].get("Env") or [] if "=" in e)
    env.setdefault("HOSTNAME", info["Config"].get("Hostname", ""))
    env.setdefault("HOME", "/root")
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    return enter.whole_process_argv(pid), env


class DockerExecTransport:
    def __init__(
        self,
        container: str,
        host: Optional[str] = None,
        docker: str = "docker",
        enter: bool = True,
        docker_host: Optional[str] = None,
    ):
        """enter: False for `docker exec` always (to compare the two ways); docker_host: the
        engine holding the container when not this machine's (never entered then)."""
        self.container = container
        self.host = host or container
        self.docker = docker
        self.enter = enter and docker_host is None
        self.docker_host = docker_host

    def __repr__(self) -> str:
        return f"DockerExecTransport({self.container!r})"

    def repeat(self, cmd: str) -> str:
        """The command line a reader types on the controller to run `cmd` here."""
        return f"docker exec {self.container} sh -c {shlex.quote(cmd)}"

    def interactive(self) -> list:
        """The argv of a login shell on this host, for a terminal."""
        return [
            *(["env", f"DOCKER_HOST={self.docker_host}"] if self.docker_host else []),
            self.docker,
            "exec",
            "-it",
            self.container,
            "sh",
            "-c",
            "command -v bash >/dev/null && exec bash -l || exec sh -l",
        ]

    def run(
        self, cmd: Command, *, stdin: Stdin = None, timeout: float = 120, warn: bool = False, stdout: Stdout = None
    ) -> CommandResult:
        cmd = cmd if isinstance(cmd, str) else sh(*cmd)
        started = time.monotonic()
        entered = enter_argv(self.container) if self.enter else None
        res = None
        if entered is not None:
            argv, env = entered
            res = run_argv(argv + ["sh", "-c", cmd], stdin, timeout, env, self.host, cmd, started, stdout)
            if res.exited != 0 and res.stderr.startswith("nsenter: ") and enter_argv(self.container) != entered:
                # the node stopped between the look and the entering (not a failure of the
                # command's own nsenter: that node still runs as looked): docker says why
                res = None
        if res is None:
            argv = [self.docker, "exec"] + (["-i"] if stdin is not None else []) + [self.container, "sh", "-c", cmd]
            engine = {**os.environ, "DOCKER_HOST": self.docker_host} if self.docker_host else None
            res = run_argv(argv, stdin, timeout, engine, self.host, cmd, started, stdout)
        if _TRACE:
            sys.stderr.write(
                f"trace {time.strftime('%H:%M:%S')} {res.duration:6.2f}s rc={res.exited} "
                f"{self.host}: {redact(cmd)[:110]}\n"
            )
        return res if warn else res.check()


def run_argv(
    argv: List[str],
    stdin: Stdin,
    timeout: float,
    env: Optional[dict],
    host: str,
    cmd: str,
    started: float,
    stdout: Stdout = None,
) -> CommandResult:
    """argv in its own process group: on a timeout the whole group is killed (the command
    inside the node too, not only the process that entered it)."""
    proc = subprocess.Popen(
        argv,
        stdin=subprocess.PIPE if isinstance(stdin, bytes) else stdin,
        stdout=subprocess.PIPE if stdout is None else stdout,
        stderr=subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(stdin if isinstance(stdin, bytes) else None, timeout=timeout)
    except subprocess.TimeoutExpired:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        out, _ = proc.communicate()
        return CommandResult(
            host,
            cmd,
            124,
            (out or b"").decode(errors="replace"),
            f"timed out after {timeout:.0f}s",
            time.monotonic() - started,
        )
    return CommandResult(
        host,
        cmd,
        proc.returncode,
        (out or b"").decode(errors="replace"),
        err.decode(errors="replace"),
        time.monotonic() - started,
    )

"""Restart the host's Docker engine as a reboot or `systemctl restart docker` would, for the
tests of a lab that comes back (issue #17). Only the dockerd that scripts/setup.sh started
(no service manager owns it) is restarted, with the command line it was started with."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import List, Optional

import docker

PIDFILE = Path("/var/run/docker.pid")
LOG = Path("/var/log/swarmlab-dockerd.log")


def _command(pid: int) -> List[str]:
    return [a.decode() for a in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0") if a]


def why_not_restartable() -> Optional[str]:
    """None when this test may restart the engine, else the reason it may not."""
    if os.geteuid() != 0:
        return "restarting dockerd needs root"
    if Path("/run/systemd/system").exists():
        return "dockerd belongs to systemd here; this test restarts only the one scripts/setup.sh started"
    try:
        pid = int(PIDFILE.read_text().strip())
        cmd = _command(pid)
    except (OSError, ValueError):
        return f"no running dockerd named by {PIDFILE}"
    if not cmd or Path(cmd[0]).name != "dockerd":
        return f"{PIDFILE} names pid {pid}, which is not dockerd"
    return None


GRACE = 45


def _gone(pid: int, until: float) -> bool:
    """The process has exited (a zombie its parent has not reaped yet counts as exited)."""
    while True:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
        except (OSError, IndexError):
            return True
        if state in ("Z", "X"):
            return True
        if time.monotonic() > until:
            return False
        time.sleep(0.2)


def restart_engine(timeout: float = 120) -> float:
    """Stop dockerd (SIGTERM: it stops its containers as on a shutdown), start it again;
    the seconds until it answers again."""
    pid = int(PIDFILE.read_text().strip())
    cmd = _command(pid)
    started = time.monotonic()
    os.kill(pid, signal.SIGTERM)
    deadline = started + timeout
    # its containers are stopped by then (stop_timeout 30 s); a dockerd hung past GRACE is
    # killed, as a reboot would
    if not _gone(pid, started + GRACE):
        os.kill(pid, signal.SIGKILL)
        if not _gone(pid, time.monotonic() + 15):
            raise AssertionError(f"dockerd (pid {pid}) did not stop, even killed")
    with LOG.open("ab") as log:
        # setsid --fork: the new dockerd is nobody's child here, as setup.sh leaves it
        subprocess.run(["setsid", "--fork", *cmd], stdout=log, stderr=subprocess.STDOUT,
                       stdin=subprocess.DEVNULL, check=True, timeout=30)
    while True:
        try:
            docker.from_env(timeout=10).ping()   # the client asks the engine's version as it is made
            return time.monotonic() - started
        except Exception:
            if time.monotonic() > deadline:
                raise AssertionError(f"dockerd did not answer within {timeout:.0f}s of the restart; see {LOG}")
            time.sleep(0.2)

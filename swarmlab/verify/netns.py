"""Run a probe inside a task's network namespace from its node (nsenter), with the
node's own tools: nothing is ever installed into a service container."""
from __future__ import annotations

import shlex
import threading
from typing import Dict

from ..result import CommandResult
from .topology import Task, Topology


# How much longer than on dind nodes every command may take: `verify --timeout` raises it
# for slow hosts (a VM under emulation takes seconds to exec anything). 1 = the defaults.
SCALE = 1.0

# What each check last did, so a check that times out can say what it last saw.
LAST_SEEN: Dict[str, str] = {}
_current = threading.local()


def working_on(check: str) -> None:
    """Mark the calling thread as running `check` (see LAST_SEEN)."""
    _current.check = check


def carry(fn):
    """fn, marked with the calling thread's check when it runs in a worker thread."""
    check = getattr(_current, "check", None)

    def wrapped(*args):
        _current.check = check
        return fn(*args)

    return wrapped


def saw(text: str) -> None:
    check = getattr(_current, "check", None)
    if check:
        LAST_SEEN[check] = text[-300:]


def in_task(topo: Topology, task: Task, cmd: str, timeout: float = 20) -> CommandResult:
    timeout *= SCALE
    host = topo.hosts[task.node]
    name = shlex.quote(task.name)
    saw(f"running `{cmd}` in {task.name} on {task.node}")
    r = host.transport.run(
        f"pid=$(docker inspect --format '{{{{.State.Pid}}}}' {name}) && nsenter -n -t \"$pid\" sh -c {shlex.quote(cmd)}",
        timeout=timeout, warn=True)
    saw(f"`{cmd}` in {task.name} on {task.node} exited {r.exited}: {(r.stdout + r.stderr).strip()[-120:]}")
    return r


def underlay_dev(host) -> str:
    """A shell expression: the host's interface holding its data-path address (VXLAN goes out there)."""
    return (f"$(ip -o -4 addr show | awk '$4 ~ /^{host.data_addr}\\// {{print $2; exit}}')")


def dns_cmd(name: str) -> str:
    # the task's resolver is Docker's embedded DNS at 127.0.0.11 inside its namespace
    return f"dig +short +time=2 +tries=1 @127.0.0.11 {shlex.quote(name)} A"


def connect_cmd(ip: str, port: int) -> str:
    return f"nc -z -w 2 {ip} {port}"

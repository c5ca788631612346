"""Run a probe inside a task's network namespace from its node (nsenter), with the
node's own tools: nothing is ever installed into a service container."""
from __future__ import annotations

import shlex

from ..result import CommandResult
from .topology import Task, Topology


def in_task(topo: Topology, task: Task, cmd: str, timeout: float = 20) -> CommandResult:
    host = topo.hosts[task.node]
    name = shlex.quote(task.name)
    return host.transport.run(
        f"pid=$(docker inspect --format '{{{{.State.Pid}}}}' {name}) && nsenter -n -t \"$pid\" sh -c {shlex.quote(cmd)}",
        timeout=timeout, warn=True)


def dns_cmd(name: str) -> str:
    # the task's resolver is Docker's embedded DNS at 127.0.0.11 inside its namespace
    return f"dig +short +time=2 +tries=1 @127.0.0.11 {shlex.quote(name)} A"


def connect_cmd(ip: str, port: int) -> str:
    return f"nc -z -w 2 {ip} {port}"

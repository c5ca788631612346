"""How a command enters a namespace from the host that holds it: the one place an `nsenter`
command is built. A task's (or any container's) network namespace is entered from its
node, so a probe runs with the node's own tools and nothing is installed into the task;
a dind node is entered whole by the transport (every namespace, as `docker exec` would).

Every value is quoted here (shell.sh); the pid is read on the host when the command runs,
so a task replaced meanwhile is found, or the command fails, never enters another."""

from __future__ import annotations

from typing import List

from .shell import sh


def _pid_of(container: str) -> str:
    return "$(" + sh("docker", "inspect", "--format", "{{.State.Pid}}", container) + ")"


def net_prefix(container: str) -> str:
    """A prefix that runs the command after it in the container's network namespace."""
    return f"nsenter -n -t {_pid_of(container)}"


def in_net(container: str, cmd: str) -> str:
    """cmd (a shell line) in the container's network namespace; fails, without running it,
    when the container is gone."""
    return f'pid={_pid_of(container)} && nsenter -n -t "$pid" sh -c {sh(cmd)}'


def in_netns_file(path: str, cmd: str) -> str:
    """cmd in the network namespace a file names (Docker's /var/run/docker/netns/*). path is
    a shell word: a variable of a loop over those files ($ns) is left to the shell."""
    return f"nsenter --net={path} {cmd}"


def whole_process_argv(pid: int) -> List[str]:
    """Every namespace of a process, and its root and working folder: a dind node entered
    as `docker exec` enters it."""
    return ["nsenter", "-t", str(pid), "-m", "-u", "-i", "-n", "-p", "-C", "-r", "-w"]

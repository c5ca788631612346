"""Run a probe inside a task's network namespace from its node (nsenter), with the
node's own tools: nothing is ever installed into a service container."""

from __future__ import annotations

import ipaddress
import re
import shlex
import threading
from dataclasses import dataclass, field
from typing import Callable, Dict, Optional, Tuple

from .. import enter
from ..result import CommandResult
from ..shell import sh
from ..transport import reach
from .topology import Task, Topology


@dataclass
class Run:
    """One verify run, as its checks' threads see it: how much longer than on dind nodes
    every command may take (`verify --timeout` raises it for slow hosts: a VM under
    emulation takes seconds to exec anything), and what each check last did, so a check
    that times out can say what it last saw. Two runs at once (the live page and a
    lesson's check) each have their own."""

    scale: float = 1.0
    last_seen: Dict[str, str] = field(default_factory=dict)


_current = threading.local()  # .check and .run: what the calling thread works on, for which run


def working_on(check: str, run: Run) -> None:
    """Mark the calling thread as running `check` of `run`."""
    _current.check, _current.run = check, run


def carry(fn):
    """fn, marked with the calling thread's check and run when it runs in a worker thread."""
    check, run = getattr(_current, "check", None), getattr(_current, "run", None)

    def wrapped(*args):
        _current.check, _current.run = check, run
        return fn(*args)

    return wrapped


def scale() -> float:
    """How much longer than the defaults this thread's commands may take (1 outside verify)."""
    run = getattr(_current, "run", None)
    return run.scale if run else 1.0


def saw(text: str) -> None:
    check, run = getattr(_current, "check", None), getattr(_current, "run", None)
    if check and run:
        run.last_seen[check] = text[-300:]


def in_task(topo: Topology, task: Task, cmd: str, timeout: float = 20) -> CommandResult:
    timeout *= scale()
    host = topo.hosts[task.node]
    saw(f"running `{cmd}` in {task.name} on {task.node}")
    r = host.transport.run(enter.in_net(task.name, cmd), timeout=timeout, warn=True)
    saw(f"`{cmd}` in {task.name} on {task.node} exited {r.exited}: {(r.stdout + r.stderr).strip()[-120:]}")
    return r


def underlay_dev(host) -> str:
    """A shell expression: the host's interface holding its data-path address (VXLAN goes out there)."""
    return "$(ip -o -4 addr show | awk -v a=" + sh(f"{host.data_addr}/") + " 'index($4, a) == 1 {print $2; exit}')"


def dns_cmd(name: str) -> str:
    # the task's resolver is Docker's embedded DNS at 127.0.0.11 inside its namespace
    return f"dig +short +time=2 +tries=1 @127.0.0.11 {shlex.quote(name)} A"


def connect_cmd(ip: str, port: Optional[int]) -> str:
    """A TCP connect to ip:port; an ICMP echo when port is None (a service listening on nothing)."""
    if port is None:
        return sh("ping", "-c", 1, "-W", 2, ip)
    return sh("nc", "-z", "-w", 2, ip, port)


def is_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
        return True
    except ValueError:
        return False


def tcp_open(addr: str, port: int) -> bool:
    """A TCP connect from the controller (what someone outside the swarm gets)."""
    try:
        reach.connect(addr, port, 2).close()
        return True
    except OSError:
        return False


def shown(ip: str, port: Optional[int]) -> str:
    return f"{ip} icmp" if port is None else f"{ip}:{port}"


def parse_route(text: str) -> Optional[Tuple[Optional[str], str]]:
    """(gateway or None when on-link, device) from `ip -o -4 route get` output; None when
    there is no usable route (unreachable, blackhole, prohibit or an error)."""
    line = text.strip().splitlines()[0] if text.strip() else ""
    if not line or re.match(r"(unreachable|blackhole|prohibit|throw)\b", line):
        return None
    dev = re.search(r"\bdev (\S+)", line)
    if not dev:
        return None
    via = re.search(r"\bvia (\S+)", line)
    return (via.group(1) if via else None), dev.group(1)


def leaves_lab(topo: Topology, task: Task, ip: str) -> Optional[str]:
    """Why a packet from `task` to `ip` would leave the lab, or None when it cannot.

    It stays when the task has the address on one of its own networks (on-link), or when
    the task's node has no route for it (the kernel refuses it). Otherwise the task's
    gateway (docker_gwbridge) hands it to the node, and the node forwards it out of its
    uplink: on a real host or VM that is the outside world, where something else may
    answer for an overlay address. Such a probe is not sent: it would prove nothing about
    the lab and send traffic off the machine."""
    return forwarded_out(
        topo.hosts[task.node], lambda cmd: in_task(topo, task, cmd, timeout=10), ip, timeout=10 * scale()
    )


def forwarded_out(host, in_namespace: Callable[[str], CommandResult], ip: str, timeout: float = 10) -> Optional[str]:
    """Why a packet from a namespace on `host` (in_namespace runs a command there) to ip
    would leave the host (routed to its gateway, which the host forwards out of its
    uplink), or None when it cannot (on-link in the namespace, or no route on the host)."""
    r = in_namespace(sh("ip", "-o", "-4", "route", "get", ip))
    route = parse_route(r.stdout) if r.ok else None
    if route is None or route[0] is None:
        return None
    n = host.transport.run(["ip", "-o", "-4", "route", "get", ip], warn=True, timeout=timeout)
    out = parse_route(n.stdout) if n.ok else None
    if out is None:
        return None
    gw, dev = out
    return f"{host.name} would forward it out of {dev}" + (f" via {gw}" if gw else "")

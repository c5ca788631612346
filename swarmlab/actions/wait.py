"""up's waits: every service at its replicas (task errors said while waiting), the published port answering."""

from __future__ import annotations

import time
from typing import List, Tuple

from ..observe.http import http_get
from ..observe.running import SwarmReader
from ..observe.settle import jobs_done, settle
from ..providers.base import Host
from ..transport import reach
from ..waiting import poll
from .context import UpContext


def _reader(ctx: UpContext) -> SwarmReader:
    return SwarmReader(ctx.lab, ctx.leader, ctx.hosts)


# up's wait reads the tasks' errors (for its message) at most this often
ERRORS_EVERY = 3.0


def _task_errors(reader: SwarmReader, names: List[str]) -> str:
    """The latest error of each of these services' tasks, read in one command."""
    first: dict = {}
    for t in reader.tasks(names, running_only=False) if names else []:
        service = t.name.rsplit(".", 1)[0]
        if t.error and service not in first:
            first[service] = f"{service} on {t.node or '?'}: {t.error}"
    return "; ".join(list(first.values())[:4])


def wait_services(ctx: UpContext) -> None:
    expected = set(ctx.scenario.services)
    reader = _reader(ctx)
    errors: dict = {"at": 0.0, "said": "", "done": set()}

    def probe():
        # one command a round (every command is an exec into the manager, and the manager
        # is what starts the tasks); task errors and finished jobs every ERRORS_EVERY seconds
        counts = {k: v for k, v in reader.replicas().items() if k in expected}
        short = {k for k, (have, want) in counts.items() if have != want}
        ready = set(counts) == expected and short <= errors.get("done", set())
        seen = (
            ", ".join(
                f"{k} {have}/{want}" + (" (done: a one-shot job)" if k in errors.get("done", ()) else "")
                for k, (have, want) in sorted(counts.items())
            )
            or "no services"
        )
        if not ready and time.monotonic() - errors["at"] >= ERRORS_EVERY:
            errors.update(
                at=time.monotonic(),
                said=_task_errors(reader, sorted(counts)),
                done=jobs_done(reader, {k: counts[k][1] for k in short}),
            )
        if not ready and errors["said"]:
            seen += f" (task errors: {errors['said']})"
        return ready, seen

    seen = poll("every service to have its replicas running", probe, ctx.scenario.wait.timeout, interval=0.3)
    ctx.say(f"services ready: {seen}")


# a deployed change starts rolling a moment after `stack deploy` returns: a lab is settled
# only when it has looked settled for this long
def wait_settled(ctx: UpContext) -> None:
    """Until every service has its replicas or waits where Swarm says why (a lesson's
    checkpoint may break a service on purpose: a constraint no node meets), with no
    rolling update under way."""
    expected = set(ctx.scenario.services)
    ctx.say(f"services settled: {settle(_reader(ctx), expected, ctx.scenario.wait.timeout)}")


def serving_hosts(ctx: UpContext, service: str, host_mode: bool = False) -> List[Host]:
    """The hosts where a published port of `service` (app_web) must answer: every node
    with the routing mesh, only the nodes running one of its tasks with host-mode ports
    (which every port is without IPVS)."""
    if ctx.ipvs and not host_mode:
        return list(ctx.hosts)
    running = {t.node for t in _reader(ctx).tasks(service) if t.running}
    return [h for h in ctx.hosts if h.name in running]


def http_targets(ctx: UpContext) -> List[Tuple[str, str]]:
    """(node, url) where wait.http's port must answer."""
    w = ctx.scenario.wait
    if w.http_service is None:
        return []
    return [
        (h.name, f"http://{h.address}:{w.http_port}")
        for h in serving_hosts(ctx, f"{ctx.scenario.stack_name}_{w.http_service}")
    ]


def published_tcp(ctx: UpContext) -> List[Tuple[str, int, bool]]:
    """(service, port, host mode) for every TCP port the stacks' services publish, as Swarm
    published them (a bare container port gets one Swarm chose: the spec says 0)."""
    mine = set(ctx.scenario.services)
    return [
        (view.name, p.published, p.mode == "host")
        for view in _reader(ctx).services(with_networks=False)
        if view.name in mine
        for p in view.ports
        if p.protocol == "tcp" and p.published
    ]


def wait_ports(ctx: UpContext) -> None:
    """Every published TCP port accepts a connection on each node that serves it: what a
    user's client would do first, whatever the protocol behind it."""
    wanted = published_tcp(ctx) if ctx.scenario.wait.ports else []
    if not wanted:
        return

    def probe():
        closed = []
        for service, port, host_mode in wanted:
            hosts = serving_hosts(ctx, service, host_mode)
            closed += [f"{service}:{port} on {h.name}" for h in hosts if not _accepts(h.address, port)]
            closed += [] if hosts else [f"{service}: no running task yet"]
        return not closed, "closed: " + ", ".join(closed[:6]) if closed else "all open"

    poll("every published TCP port to accept connections", probe, ctx.scenario.wait.timeout)
    ctx.say("published ports open: " + ", ".join(f"{s}:{p}" for s, p, _ in wanted))


def _accepts(address: str, port: int) -> bool:
    try:
        with reach.connect(address, port, 2):
            return True
    except OSError:
        return False


def wait_http(ctx: UpContext) -> None:
    w = ctx.scenario.wait
    if not w.http_service:
        return

    def probe():
        targets = http_targets(ctx)
        if not targets:
            return False, f"no running task of {w.http_service} yet"
        seen = []
        ok = True
        for node, base in targets:
            try:
                status, _, raw = http_get(base + w.http_path, timeout=3)
            except OSError as exc:
                status, raw = 0, str(exc)
            ok &= status == 200
            seen.append(f"{node}: {status or raw[:80]}")
        return ok and len(targets) >= 1, "; ".join(seen)

    seen = poll(f"{w.http_service} to answer {w.http_path} on its published port", probe, w.timeout)
    ctx.say(f"{w.http_service} answers: {seen}")

"""up's waits: every service at its replicas (task errors said while waiting), the published port answering."""
from __future__ import annotations

import ipaddress
import json
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import List, Optional, Tuple

from ..handle import SwarmReader, go_time
from ..providers.base import Host
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


def jobs_done(reader: SwarmReader, wanted: dict) -> set:
    """Those services whose tasks ran to completion (exit 0) and that Swarm leaves done (a
    restart_policy of on-failure or none: no task wanted running again): a one-shot job, a
    migration, is settled at 0 running."""
    out = set()
    for name, want in wanted.items():
        tasks = reader.tasks(name, running_only=False)
        if not any(t.desired.lower() in ("running", "ready") for t in tasks) and \
                sum(t.state.startswith("Complete") for t in tasks) >= max(want, 1):
            out.add(name)
    return out


def wait_services(ctx: UpContext) -> None:
    expected = {f"{ctx.scenario.stack_name}_{s}" for s in ctx.scenario.stack["services"]}
    reader = _reader(ctx)
    errors: dict = {"at": 0.0, "said": "", "done": set()}

    def probe():
        # one command a round (every command is an exec into the manager, and the manager
        # is what starts the tasks); task errors and finished jobs every ERRORS_EVERY seconds
        counts = {k: v for k, v in reader.replicas().items() if k in expected}
        short = {k for k, (have, want) in counts.items() if have != want}
        ready = set(counts) == expected and short <= errors.get("done", set())
        seen = ", ".join(f"{k} {have}/{want}" + (" (done: a one-shot job)" if k in errors.get("done", ()) else "")
                         for k, (have, want) in sorted(counts.items())) or "no services"
        if not ready and time.monotonic() - errors["at"] >= ERRORS_EVERY:
            errors.update(at=time.monotonic(), said=_task_errors(reader, sorted(counts)),
                          done=jobs_done(reader, {k: counts[k][1] for k in short}))
        if not ready and errors["said"]:
            seen += f" (task errors: {errors['said']})"
        return ready, seen

    seen = poll("every service to have its replicas running", probe, ctx.scenario.wait.timeout, interval=0.3)
    ctx.say(f"services ready: {seen}")


# a deployed change starts rolling a moment after `stack deploy` returns: a lab is settled
# only when it has looked settled for this long
SETTLED_FOR = 1.0


def wait_settled(ctx: UpContext) -> None:
    """Until every service has its replicas or waits where Swarm says why (a lesson's
    checkpoint may break a service on purpose: a constraint no node meets), with no
    rolling update under way."""
    expected = {f"{ctx.scenario.stack_name}_{s}" for s in ctx.scenario.stack["services"]}
    ctx.say(f"services settled: {settle(_reader(ctx), expected, ctx.scenario.wait.timeout)}")


def settle(reader: SwarmReader, expected: Optional[set], timeout: float, settled_for: float = SETTLED_FOR) -> str:
    """wait_settled's wait, for the services named (None: every service of the lab).
    settled_for=0 where no change can be on its way unseen (a scale is seen at once)."""
    since = {"at": None}

    def probe():
        settled, seen = _settled(reader, expected if expected is not None else set(reader.replicas()))
        if not settled:
            since["at"] = None
            return False, seen
        since["at"] = since["at"] or time.monotonic()
        return time.monotonic() - since["at"] >= settled_for, seen

    return poll("every service to run or wait with a reason", probe, timeout, interval=0.3)


def _settled(reader: SwarmReader, expected: set) -> Tuple[bool, str]:
    counts = {k: v for k, v in reader.replicas().items() if k in expected}
    if set(counts) != expected:
        return False, f"services so far: {', '.join(sorted(counts)) or 'none'}"
    # a rolling update whose new tasks cannot be placed never completes: it waits with a reason
    rolling = reader.updating(sorted(expected))
    # a service wanted at 0 replicas is settled once asked (its tasks may still be stopping)
    short = sorted({k for k, (have, want) in counts.items() if have != want and want} |
                   {k for k in rolling if counts[k][1]})
    if not short:
        return True, "every service has its replicas"
    tasks = reader.tasks(short, running_only=True, waiting_too=True)
    # waiting: Swarm wants it running and says why it cannot place it. A replacement whose
    # predecessor still stops (stop-first) is wanted "ready" only, and may say "port in use"
    # until then: on its way, not waiting.
    stuck = {t.name.rsplit(".", 1)[0] for t in tasks if t.error and t.desired.lower() == "running"}
    moving = [f"{t.name} {t.state.lower()}" for t in tasks
              if not t.running and not (t.error and t.desired.lower() == "running")]
    done = _replaced(reader, rolling, counts, tasks) if not moving else set()
    waiting = [k for k in short if k not in stuck and k not in done]
    seen = "; ".join(f"{k} {counts[k][0]}/{counts[k][1]}" + (" rolling" if k in rolling else "") for k in short)
    return not waiting and not moving, seen + (
        f" ({', '.join(moving[:4])})" if moving else f" (starting: {', '.join(waiting)})" if waiting else "")


def _replaced(reader: SwarmReader, rolling: dict, counts: dict, tasks) -> set:
    """The rolling services whose every task is new and counted: what is left of their
    update is Swarm watching them for failures (update_config.monitor, 5 s by default)."""
    full = [k for k in rolling if counts[k][0] == counts[k][1]]
    mine = {k: [t.id for t in tasks if t.name.rsplit(".", 1)[0] == k] for k in full}
    made = reader.created([i for ids in mine.values() for i in ids])
    began = {k: go_time(rolling[k]) or 0.0 for k in mine}
    return {k for k, ids in mine.items() if ids and all((go_time(made.get(i, "")) or -1.0) >= began[k] for i in ids)}


def serving_hosts(ctx: UpContext, service: str, host_mode: bool = False) -> List[Host]:
    """The hosts where a published port of `service` (short name) must answer: every node
    with the routing mesh, only the nodes running one of its tasks with host-mode ports
    (which every port is without IPVS)."""
    if ctx.ipvs and not host_mode:
        return list(ctx.hosts)
    running = {t.node for t in _reader(ctx).tasks(f"{ctx.scenario.stack_name}_{service}") if t.running}
    return [h for h in ctx.hosts if h.name in running]


def http_targets(ctx: UpContext) -> List[Tuple[str, str]]:
    """(node, url) where wait.http's port must answer."""
    w = ctx.scenario.wait
    if w.http_service is None:
        return []
    return [(h.name, f"http://{h.address}:{w.http_port}") for h in serving_hosts(ctx, w.http_service)]


def published_tcp(ctx: UpContext) -> List[Tuple[str, int, bool]]:
    """(service, port, host mode) for every TCP port the stack's services publish, as Swarm
    published them (a bare container port gets one Swarm chose: the spec says 0)."""
    mine = set(ctx.scenario.stack.get("services") or {})
    return [(view.short, p.published, p.mode == "host") for view in _reader(ctx).services(with_networks=False)
            if view.stack == ctx.scenario.stack_name and view.short in mine
            for p in view.ports if p.protocol == "tcp" and p.published]


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
        with socket.create_connection((address, port), timeout=2):
            return True
    except OSError:
        return False


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None   # the 3xx itself is the answer: a lab service never sends the controller elsewhere


# no proxy from the environment either: a lab's address goes to the lab, nowhere else
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)
MAX_BODY = 64 * 1024   # what is kept of an answer as evidence


def http_get(url: str, timeout: float = 5.0) -> Tuple[int, Optional[dict], str]:
    """(status, JSON body or None, body) of a GET to a lab service: only an IP address (a
    lab host's, as the callers give), no redirect followed, at most MAX_BODY read."""
    parts = urllib.parse.urlsplit(url)
    try:
        ipaddress.ip_address(parts.hostname or "")
    except ValueError:
        raise OSError(f"not a lab address: {parts.hostname!r} (lab services are asked by IP address)") from None
    if parts.scheme != "http":
        raise OSError(f"not a lab URL: {parts.scheme!r} (lab services are asked over http)")
    try:
        with _OPENER.open(url, timeout=timeout) as resp:
            body, status = resp.read(MAX_BODY + 1), resp.status
    except urllib.error.HTTPError as exc:
        body, status = exc.read(MAX_BODY + 1), exc.code
        exc.close()
    raw = body[:MAX_BODY].decode(errors="replace") + (" [cut at 64 KiB]" if len(body) > MAX_BODY else "")
    try:
        return status, json.loads(raw), raw
    except ValueError:
        return status, None, raw


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

"""Waiting is a strategy: poll, tolerate the transient, and on timeout say what was last seen."""
from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import List, Optional, Tuple

from ..waiting import poll
from ..providers.base import Host
from .context import UpContext
from ..shell import label_filter


def services(leader: Host, stack: str) -> List[dict]:
    r = leader.transport.run(["docker", "service", "ls", label_filter("com.docker.stack.namespace", stack),
                              "--format", "{{json .}}"], timeout=30)
    return [json.loads(x) for x in r.stdout.splitlines() if x.strip()]


def tasks(leader: Host, service: str, running_only: bool = True, waiting_too: bool = False,
          strict: bool = False) -> List[dict]:
    """The service's tasks: those Swarm wants running (running_only), plus with waiting_too
    the replacements it wants but cannot place yet (desired "ready": their Error says why).
    A failing `docker service ps` gives [] unless strict (then CommandFailed)."""
    flt = ["--filter", "desired-state=running"] if running_only else []
    flt += ["--filter", "desired-state=ready"] if running_only and waiting_too else []
    r = leader.transport.run(["docker", "service", "ps", flt, "--no-trunc", "--format", "{{json .}}", service],
                             timeout=30, warn=not strict)
    return [json.loads(x) for x in r.stdout.splitlines() if x.strip()] if r.ok else []


def _task_errors(leader: Host, stack: str) -> str:
    out = []
    for svc in services(leader, stack):
        for t in tasks(leader, svc["Name"], running_only=False)[:3]:
            if t.get("Error"):
                out.append(f"{svc['Name']} on {t.get('Node') or '?'}: {t['Error']}")
    return "; ".join(out[:4])


def wait_services(ctx: UpContext) -> None:
    stack = ctx.scenario.stack_name
    expected = len(ctx.scenario.stack["services"])

    def probe():
        svcs = services(ctx.leader, stack)
        states = [f"{s['Name']} {s['Replicas']}" for s in svcs]
        ready = len(svcs) == expected and all(_replicas_ok(s["Replicas"]) for s in svcs)
        seen = ", ".join(states) or "no services"
        if not ready:
            errs = _task_errors(ctx.leader, stack)
            seen += f" (task errors: {errs})" if errs else ""
        return ready, seen

    seen = poll("every service to have its replicas running", probe, ctx.scenario.wait.timeout)
    ctx.say(f"services ready: {seen}")


def _replicas_ok(text: str) -> bool:
    try:
        have, want = text.split()[0].split("/")
        return int(want) > 0 and have == want
    except ValueError:
        return False


def http_targets(ctx: UpContext) -> List[Tuple[str, str]]:
    """(node, url) where the published port must answer: every node with the routing
    mesh, only the nodes running a task with host-mode ports."""
    w = ctx.scenario.wait
    svc = f"{ctx.scenario.stack_name}_{w.http_service}"
    if ctx.ipvs:
        nodes = ctx.hosts
    else:
        running = {t["Node"] for t in tasks(ctx.leader, svc) if t.get("CurrentState", "").startswith("Running")}
        nodes = [h for h in ctx.hosts if h.swarm_name in running]
    return [(h.name, f"http://{h.address}:{w.http_port}") for h in nodes]


def http_get(url: str, timeout: float = 5.0) -> Tuple[int, Optional[dict], str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:
            raw = resp.read().decode(errors="replace")
            status = resp.status
    except urllib.error.HTTPError as exc:
        raw, status = exc.read().decode(errors="replace"), exc.code
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

"""The library's entry points: up, down, status, ls. No printing, no exiting:
progress goes through `say`, results come back as values, failures as SwarmlabErrors."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Callable, Dict, List, Optional, Sequence

from .actions.steps import UP, Step
from .actions.steps import checkpoint as _checkpoint
from .actions.steps import run as run_steps
from .actions.context import UpContext
from .capabilities import endpoint_note
from .config import seal
from .config.model import Scenario
from .errors import SwarmlabError
from .observe.running import open_lab
from .providers.base import Made, Provider
from .progress import Say


def up(
    scenario: Scenario,
    provider: Provider,
    *,
    force: bool = False,
    retain: bool = False,
    pull: bool = False,
    say: Say = lambda s: None,
    step: Optional[Callable[[str], Any]] = None,
    steps: Sequence[Step] = UP,
) -> Dict[str, Any]:
    """Bring the lab up (or converge a running one) and check that the stack answers.
    steps: what `up` does, in order (actions/steps.py: a lesson's checkpoint has its own)."""
    lab = scenario.name
    ctx = UpContext(scenario=scenario, lab=lab, provider=provider, say=say, force=force, pull=pull, retain=retain)
    started = time.monotonic()
    _warn_host_access(ctx)
    try:
        run_steps(ctx, list(steps), step, then=lambda: provider.record(_made(ctx)))
    except SwarmlabError as exc:
        if ctx.created:
            kept = f"lab {lab} kept (--retain): inspect it, then swarmlab down {lab}"
            exc.hint = (exc.hint + "; " if exc.hint else "") + (kept if retain else f"lab {lab} was removed again")
        raise
    report = status(lab, provider, caps=ctx.caps)
    report["up"] = {
        "created": ctx.created,
        "resumed": ctx.resumed,
        "seconds": round(time.monotonic() - started, 1),
        "steps": ctx.timings,
        "images_loaded": ctx.transfers,
        "checks": [c.as_dict() for c in ctx.checks],
    }
    report["warnings"] = ctx.warnings
    report["notes"] = list(scenario.notes) + report.get("notes", []) + quorum_note(len(ctx.managers))
    return report


def quorum_note(managers: int) -> List[str]:
    """What an even number of managers costs: Docker takes it, so swarmlab does, and says so."""
    if managers % 2:
        return []
    keep = managers // 2 + 1
    lost = f"losing {managers - keep}" if managers > keep else "losing none"
    return [
        f"{managers} managers: a quorum needs {keep} of them, so the swarm survives {lost}, as {managers - 1} "
        f"would; {managers + 1} would survive losing {keep - 1} (Docker takes an even number, so swarmlab does)"
    ]


def checkpoint(images_for: dict) -> List[Step]:
    """The steps of a lesson's start, for `up(steps=...)`: broken on purpose, no flow check."""
    return _checkpoint(images_for)


def _made(ctx: UpContext) -> Made:
    return Made(
        ctx.lab,
        ctx.scenario,
        ctx.hosts,
        ctx.leader,
        str(ctx.plan.pool) if ctx.plan else "",
        {h: list(info.get("loaded") or []) for h, info in ctx.transfers.items()},
    )


def _warn_host_access(ctx: UpContext) -> None:
    """Host access granted: say once what it gives, and to which services by which keys."""
    if not ctx.scenario.host_access:
        return
    found = {name: seal.service_uses(svc) for name, svc in ctx.scenario.services.items()}
    uses = [f"{name} ({', '.join(what for _, what in ways)})" for name, ways in found.items() if ways]
    ctx.warn(
        f"host access granted: a task may have {ctx.provider.host_access_grants}; the lab is not sealed"
        + (f"; used by {'; '.join(uses)}" if uses else "")
    )


def down(lab: str, provider: Provider, say: Say = lambda s: None) -> Dict[str, Any]:
    """Remove everything labelled with the lab; a lab that does not exist is not an error."""
    started = time.monotonic()
    existed = provider.exists(lab)
    removed = provider.destroy(lab, say) if existed else {}
    return {"lab": lab, "existed": existed, "removed": removed, "seconds": round(time.monotonic() - started, 1)}


def status(lab: str, provider: Provider, caps=None) -> Dict[str, Any]:
    """What runs, read through the lab's handle: nodes, networks, services, URLs, notes.
    The swarm's records are read at once (nodes; networks, services and all their tasks;
    replicas), each a command into the manager: a status is read every second by `ui`."""
    handle = open_lab(lab, provider)
    caps = list(handle.caps.values()) if caps is None else caps
    plan = provider.plan(lab)
    out: Dict[str, Any] = {
        "lab": lab,
        "provider": provider.name,
        "pool": str(plan.pool) if plan else None,
        "capabilities": {c.host: c.as_dict() for c in caps},
        "nodes": [],
        "networks": [],
        "services": [],
        "urls": [],
        "notes": [],
    }
    note = endpoint_note(caps)
    if note:
        out["notes"].append(note)
    if handle.leader is None:
        _node_rows(handle, {}, out)
        out["notes"].append("no running manager: swarm state unknown")
        _whole(handle, out, {})
        return out
    with ThreadPoolExecutor(max_workers=3) as pool:
        nodes = pool.submit(_swarm_nodes, handle, out["notes"])
        replicas = pool.submit(handle.swarm.replicas)
        services = handle.swarm.services()  # reads the networks first (cached for the rows below)
        tasks = handle.swarm.tasks([s.name for s in services]) if services else []
        _node_rows(handle, nodes.result(), out)
        counts = replicas.result()
    out["networks"] = [
        {
            "name": n.name,
            "driver": n.driver,
            "subnet": n.subnet,
            "encrypted": n.encrypted,
            "requested": n.requested,
            "why": n.reason,
            "attachable": n.attachable,
            "vxlan_id": n.vni,
        }
        for n in handle.swarm.networks()
    ]
    for svc in services:
        _service_status(handle, svc, [t for t in tasks if t.name.rsplit(".", 1)[0] == svc.name], out)
    _whole(handle, out, counts)
    return out


def _swarm_nodes(handle, notes: List[str]) -> Dict[str, Any]:
    try:
        return {n.name: n for n in handle.swarm.nodes()}
    except SwarmlabError as exc:
        notes.append(str(exc))
        return {}


def _node_rows(handle, swarm_nodes: Dict[str, Any], out: Dict[str, Any]) -> None:
    for h in handle.hosts:
        sn = swarm_nodes.get(h.name)
        out["nodes"].append(
            {
                "name": h.name,
                "role": h.role,
                "address": h.address,
                "container": h.state,
                "swarm": sn.status if sn else "not in swarm",
                "availability": sn.availability if sn else "",
                "manager": sn.manager if sn else "",
            }
        )


def _whole(handle, out: Dict[str, Any], counts: Dict[str, Any]) -> None:
    """Is the lab all there (every node up and in the swarm, every service at its replicas,
    health checks passed)? A lab coming back after an engine restart says what it lacks."""
    lacking = [f"{n['name']}: container {n['container']}" for n in out["nodes"] if n["container"] != "running"]
    if handle.leader is None:
        lacking.append("no manager node running: the swarm cannot be read")
    else:
        wanted = _availability_wanted(handle)
        running = [n for n in out["nodes"] if n["container"] == "running"]
        lacking += [f"{n['name']}: swarm node {n['swarm'] or 'unknown'}" for n in running if n["swarm"] != "ready"]
        lacking += [
            f"{n['name']}: {n['availability'] or 'unknown'}, the scenario wants {want}"
            for n in running
            if n["swarm"] == "ready" and n["availability"] != (want := wanted.get(n["name"], "active"))
        ]
        lacking += [
            f"{name}: {have}/{want} tasks running and healthy"
            for name, (have, want) in sorted(counts.items())
            if have < want
        ]
    out["whole"] = not lacking
    out["lacking"] = lacking


def _availability_wanted(handle) -> Dict[str, str]:
    """Each node's availability as the scenario asks it (a copy of a lab with a paused
    node is whole with it paused); active where it says nothing."""
    scenario = getattr(handle, "scenario", None)  # None when its file moved or changed: all active
    return {n.name: n.availability for n in scenario.nodes} if scenario else {}


def _service_status(handle, svc, tasks, out: Dict[str, Any]) -> None:
    """One service's row (replicas, endpoint, ports, where its tasks run) and its URLs."""
    ts = [t for t in tasks if t.running]
    out["services"].append(
        {
            "name": svc.name,
            "replicas": f"{len(ts)}/{svc.replicas if svc.replicas is not None else 'global'}",
            "endpoint_mode": svc.endpoint_mode,
            "image": svc.image,
            "networks": list(svc.networks),
            "tasks": [{"task": t.name, "node": t.node, "state": t.state} for t in ts],
            "ports": [f"{p.published}->{p.target}/{p.protocol} ({p.mode})" for p in svc.ports],
        }
    )
    addr = {h.name: h.address for h in handle.hosts}
    for p in svc.ports:
        nodes = {t.node for t in ts} if p.mode == "host" else set(addr)
        for n in sorted(nodes):
            if n in addr:
                out["urls"].append({"service": svc.name, "node": n, "url": f"http://{addr[n]}:{p.published}/"})


def list_labs(provider: Provider) -> List[Dict[str, Any]]:
    return [vars(info) for info in provider.list_labs()]

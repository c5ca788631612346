"""The library's entry points: up, down, status, ls. No printing, no exiting:
progress goes through `say`, results come back as values, failures as SwarmlabErrors."""
from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, Callable, Dict, List, Optional

from . import labels as L
from .actions import deploy, networks, smoke, swarm, wait
from .actions.context import UpContext
from .capabilities import endpoint_note
from .config.model import Scenario
from .errors import SwarmlabError
from .images import ImageBuilder
from .providers.base import Host, Provider, name_of
from .shell import label_filter

Say = Callable[[str], None]


class LabNotFound(SwarmlabError):
    pass


@contextmanager
def _step(ctx: UpContext, name: str, step: Optional[Callable[[str], Any]] = None):
    started = time.monotonic()
    if step:
        step(name)
    yield
    ctx.timings[name] = round(time.monotonic() - started, 2)


def up(scenario: Scenario, provider: Provider, *, force: bool = False, retain: bool = False,
       say: Say = lambda s: None, step: Optional[Callable[[str], Any]] = None) -> Dict[str, Any]:
    """Bring the lab up (or converge a running one) and check that the stack answers."""
    lab = scenario.name
    ctx = UpContext(scenario=scenario, lab=lab, provider=provider, say=say, force=force)
    started = time.monotonic()
    _warn_host_access(ctx)
    with _step(ctx, "images", step):
        ImageBuilder(provider.client, say=say).build()
    with _step(ctx, "preflight", step):
        provider.preflight()
        ctx.kernel = provider.probe_kernel(lab)
        # Decided on the kernel before anything is created: encrypted: true without ESP stops here.
        networks.decide(ctx, [ctx.kernel])
        ctx.plan = provider.allocate_pool(lab, scenario.pool, str(scenario.path))
        ctx.created = not provider.exists(lab)
    try:
        with _step(ctx, "nodes", step):
            ctx.hosts = provider.provision(scenario, lab, ctx.plan, say)
            _scale_down(ctx)
            swarm.probe_nodes(ctx)
            networks.decide(ctx, ctx.caps)
        # Images stream into the nodes while the swarm forms: neither waits for the other.
        with ThreadPoolExecutor(max_workers=1) as pool:
            loading = pool.submit(deploy.distribute_images, ctx, provider.client)
            try:
                with _step(ctx, "swarm", step):
                    swarm.init_and_join(ctx)
                    swarm.label_nodes(ctx)
                with _step(ctx, "networks", step):
                    networks.ensure(ctx)
                    deploy.ensure_secrets(ctx)
            finally:
                with _step(ctx, "images into nodes", step):
                    loading.result()
        with _step(ctx, "deploy", step):
            deploy.deploy_stack(ctx)
        with _step(ctx, "wait", step):
            wait.wait_services(ctx)
            wait.wait_http(ctx)
        with _step(ctx, "flow check", step):
            checks = smoke.data_flow(ctx)
        failed = [c for c in checks if not c.passed]
        if failed:
            raise SwarmlabError("the stack runs but the flow check failed:\n  " +
                                "\n  ".join(f"{c.name}: expected {c.expected}, observed {c.observed}"
                                            for c in failed))
        provider.record(ctx)
    except BaseException as exc:
        if ctx.created and not retain:
            say("up failed: removing what this run created (use --retain to keep it)")
            try:
                provider.destroy(lab, say)
            except SwarmlabError as cleanup_exc:
                say(f"cleanup failed too: {cleanup_exc}")
            if isinstance(exc, SwarmlabError):
                exc.hint = (exc.hint + "; " if exc.hint else "") + f"lab {lab} was removed again"
        elif isinstance(exc, SwarmlabError) and ctx.created:
            exc.hint = (exc.hint + "; " if exc.hint else "") + \
                f"lab {lab} kept (--retain): inspect it, then swarmlab down {lab}"
        raise
    report = status(lab, provider, caps=ctx.caps)
    report["up"] = {"created": ctx.created, "seconds": round(time.monotonic() - started, 1),
                    "steps": ctx.timings, "images_loaded": ctx.transfers,
                    "checks": [c.as_dict() for c in ctx.checks]}
    report["warnings"] = ctx.warnings
    return report


def _warn_host_access(ctx: UpContext) -> None:
    """host_access: true lets the stack reach into its host: say so, naming each way."""
    if not ctx.scenario.host_access:
        return
    from .config.stack_check import host_uses

    for name, svc in (ctx.scenario.stack.get("services") or {}).items():
        for _, what in host_uses(svc):
            ctx.warn(f"service {name}: {what} (host_access: true in {ctx.scenario.path}): the lab is not sealed "
                     "from its host")


def _scale_down(ctx: UpContext) -> None:
    """Converging to fewer nodes: the nodes the scenario no longer has leave the swarm
    (demoted first if managers) and are removed with their state."""
    wanted = {n.name for n in ctx.scenario.nodes}
    extra = [h for h in ctx.hosts if h.name not in wanted]
    if not extra:
        return
    ctx.hosts = [h for h in ctx.hosts if h.name in wanted]
    swarm.remove_nodes(ctx, extra)
    ctx.provider.remove_nodes(ctx.lab, [h.name for h in extra])
    ctx.say(f"removed {', '.join(h.name for h in extra)} (the scenario now has {len(wanted)} nodes)")


def down(lab: str, provider: Provider, say: Say = lambda s: None) -> Dict[str, Any]:
    """Remove everything labelled with the lab; a lab that does not exist is not an error."""
    started = time.monotonic()
    existed = provider.exists(lab)
    removed = provider.destroy(lab, say) if existed else {}
    return {"lab": lab, "existed": existed, "removed": removed,
            "seconds": round(time.monotonic() - started, 1)}


def _leader(hosts: List[Host]) -> Optional[Host]:
    for h in hosts:
        if h.role == "manager" and h.state == "running":
            return h
    return None


def status(lab: str, provider: Provider, caps=None) -> Dict[str, Any]:
    hosts = provider.hosts(lab)
    if not hosts or not provider.exists(lab):
        raise LabNotFound(f"no lab named {lab!r} on this engine", hint="swarmlab ls lists the labs")
    running = [h for h in hosts if h.state == "running"]
    if caps is None:
        caps = list(swarm.probe_hosts(running).values())
    plan = provider.plan(lab)
    out: Dict[str, Any] = {"lab": lab, "provider": provider.name,
                           "pool": str(plan.pool) if plan else None,
                           "capabilities": {c.host: c.as_dict() for c in caps},
                           "nodes": [], "networks": [], "services": [], "urls": [], "notes": []}
    note = endpoint_note(caps)
    if note:
        out["notes"].append(note)
    swarm_nodes = {}
    leader = _leader(hosts)
    if leader is not None:
        try:
            swarm_nodes = {n["Hostname"]: n for n in swarm.node_table(leader)}
        except SwarmlabError as exc:
            out["notes"].append(str(exc))
    for h in hosts:
        sn = swarm_nodes.get(h.swarm_name, {})
        out["nodes"].append({"name": h.name, "role": h.role, "address": h.address, "container": h.state,
                             "swarm": sn.get("Status", "not in swarm").lower(),
                             "availability": sn.get("Availability", "").lower(),
                             "manager": sn.get("ManagerStatus", "").lower()})
    if leader is None:
        out["notes"].append("no running manager: swarm state unknown")
        return out
    t = leader.transport
    names = t.run(["docker", "network", "ls", label_filter(L.LAB, lab), "--format", "{{.Name}}"]).stdout.split()
    if names:
        for info in json.loads(t.run(["docker", "network", "inspect", names]).stdout):
            opts = info.get("Options") or {}
            lbl = info.get("Labels") or {}
            subnets = [c.get("Subnet") for c in (info.get("IPAM") or {}).get("Config") or []]
            out["networks"].append({
                "name": info["Name"], "driver": info["Driver"], "subnet": ", ".join(filter(None, subnets)),
                "encrypted": "encrypted" in opts, "requested": lbl.get(L.ENCRYPTION_REQUESTED, ""),
                "why": lbl.get(L.ENCRYPTION_REASON, ""), "attachable": info.get("Attachable", False),
                "vxlan_id": opts.get("com.docker.network.driver.overlay.vxlanid_list", "")})
    addr = {h.name: h.address for h in hosts}
    svcs = t.run(["docker", "service", "ls", label_filter(L.LAB, lab), "--format", "{{.Name}}"], warn=True)
    names = svcs.stdout.split() if svcs.ok else []
    specs = json.loads(t.run(["docker", "service", "inspect", names]).stdout) if names else []
    for spec in specs:
        name = spec["Spec"]["Name"]
        mode = (spec["Spec"].get("EndpointSpec") or {}).get("Mode", "vip")
        ports = (spec["Spec"].get("EndpointSpec") or {}).get("Ports") or []
        ts = [x for x in wait.tasks(leader, name) if x.get("CurrentState", "").startswith("Running")]
        want = (spec["Spec"].get("Mode") or {}).get("Replicated", {}).get("Replicas")
        out["services"].append({
            "name": name, "replicas": f"{len(ts)}/{want if want is not None else 'global'}",
            "endpoint_mode": mode, "image": spec["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"].split("@")[0],
            "tasks": [{"task": x["Name"], "node": name_of(hosts, x["Node"]), "state": x["CurrentState"]} for x in ts],
            "ports": [f"{p.get('PublishedPort')}->{p.get('TargetPort')}/{p.get('Protocol', 'tcp')} "
                      f"({p.get('PublishMode', 'ingress')})" for p in ports]})
        for p in ports:
            nodes = ({name_of(hosts, x["Node"]) for x in ts} if p.get("PublishMode") == "host" else set(addr))
            for n in sorted(nodes):
                if n in addr:
                    out["urls"].append({"service": name, "node": n,
                                        "url": f"http://{addr[n]}:{p.get('PublishedPort')}/"})
    return out


def scenario_of(lab: str, provider: Provider) -> Optional[Scenario]:
    """The scenario the lab was made from, read again; None when it is not recorded, or
    the file moved or no longer loads (callers then go by what runs)."""
    from .config import load_scenario

    info = next((i for i in provider.list_labs() if i.name == lab), None)
    if info is None or not info.scenario:
        return None
    try:
        return load_scenario(info.scenario, name=lab)
    except SwarmlabError:
        return None


def list_labs(provider: Provider) -> List[Dict[str, Any]]:
    return [vars(info) for info in provider.list_labs()]

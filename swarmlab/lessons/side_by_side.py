"""A checkpoint replaces a service's tasks side by side, not one slot after the other.

Put back by `docker stack deploy`, a service of two replicas rolls one task after the other
(its update_config): each old task takes ~3.5 s to stop (Docker waits 2 s for gossip before
stopping a task on a network) and its successor ~3 s to be healthy, so a reset that must
change web took 12-15 s. Rolling every slot at once (update_config.parallelism: 0) was
tried: Swarm then made a successor while its predecessor still held host port 8080 and
never placed it again. So the services that will change are deployed at 0 replicas (every
old task stops at once, no successor is made), the faults change them while they have no
task, and once their old tasks are down they are scaled back: every successor starts at
once, on ports already free.

Which services will change is known from the record the previous checkpoint left: the
service as the lesson's stack defined it, as Swarm held it afterwards, and whether a
fault changed it. Without one (the lab's first lesson), the lab is taken to run the
scenario's own stack as `up` left it."""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Dict, List, Optional

from ..providers.base import Host
from ..waiting import until
from ..swarm_write import service_write
from ..observe import reads


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:16]


def live_specs(manager: Host, stack: str, services: List[str]) -> Dict[str, str]:
    """service (short name) -> digest of what makes Swarm replace its tasks: the task
    template (its force counter aside: `stack deploy` keeps it) and the endpoint (host ports)."""
    names = [f"{stack}_{s}" for s in services]
    out = {}
    for svc in reads.service_specs(manager.transport, names):
        spec = svc["Spec"]
        template = {k: v for k, v in (spec.get("TaskTemplate") or {}).items() if k != "ForceUpdate"}
        out[spec["Name"][len(stack) + 1 :]] = _digest([template, spec.get("EndpointSpec")])
    return out


def record(stack: dict, live: Dict[str, str], touched: List[str]) -> Dict[str, dict]:
    """What a checkpoint leaves for the next one to compare with."""
    return {
        name: {"defined": _digest(svc), "live": live.get(name, ""), "fault": name in touched}
        for name, svc in (stack.get("services") or {}).items()
    }


def replicas(svc: dict) -> int:
    deploy = svc.get("deploy") or {}
    if deploy.get("mode", "replicated") != "replicated":
        return 0
    try:
        return int(deploy.get("replicas", 1))
    except (TypeError, ValueError):
        return 0


def to_replace(stack: dict, before: Optional[Dict[str, dict]], live: Dict[str, str], touched: List[str]) -> List[str]:
    """The services a fault changed then or changes now (else the deploy would roll it
    back and the fault roll it again), and those of more than one replica the deploy will
    change: defined otherwise than at the previous checkpoint, or changed since (by the
    trainee). A single task rolled costs what it costs to stop it and start another."""
    if not before:
        return []
    out = []
    for name, svc in sorted((stack.get("services") or {}).items()):
        was = before.get(name)
        if replicas(svc) < 1 or name not in live or was is None:
            continue
        if was["fault"] or name in touched:
            out.append(name)
        elif replicas(svc) > 1 and (was["defined"] != _digest(svc) or was["live"] != live[name]):
            out.append(name)
    return out


def at_zero(stack: dict, names: List[str]) -> dict:
    """The stack with these services at 0 replicas: deployed so, every old task stops at once."""
    out = copy.deepcopy(stack)
    for name in names:
        out["services"][name].setdefault("deploy", {})["replicas"] = 0
    return out


def _scale(manager: Host, counts: Dict[str, int]) -> None:
    """One `docker service scale` for them all (asked again on "update out of sequence")."""
    service_write(manager.transport, ["scale", "--detach", [f"{k}={v}" for k, v in counts.items()]], timeout=60).check(
        "docker service scale"
    )


def stop_now(manager: Host, stack_name: str, names: List[str]) -> None:
    """Every task of these services asked to stop before the deploy (which keeps them at 0):
    their ~4 s of stopping runs alongside the deploy."""
    if names:
        _scale(manager, {f"{stack_name}_{n}": 0 for n in names})


def scale_back(
    manager: Host, hosts: List[Host], stack_name: str, stack: dict, names: List[str], within: float = 60
) -> str:
    """Once no old container of these services is left on any node, each at its replicas
    again. Swarm forgets a task asked away (desired "remove") the moment it stops, a
    moment before its node has freed its host port: a successor made then fails once
    ("port is already allocated"), so the nodes are asked, not Swarm."""
    full = {f"{stack_name}_{n}" for n in names}

    def down():
        on_nodes, unanswered = reads.stack_containers(hosts, stack_name)
        left = [n for n in on_nodes if n in full]
        return not left and not unanswered, f"{len(left)} old containers still on the nodes"

    done, seen, took = until(down, within, 0.2)
    _scale(manager, {f"{stack_name}_{n}": replicas(stack["services"][n]) for n in names})
    return (
        f"{', '.join(names)}: old tasks gone from the nodes after {took:.1f}s, every new one started at once"
        if done
        else f"{', '.join(names)} scaled back with old tasks still there after {took:.0f}s ({seen})"
    )

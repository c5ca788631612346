"""A running lab as one normalized model, the same shape whatever made it: its nodes
(role, availability, labels), its networks (driver, options, labels), its services (every
setting of their spec that a stack file can state) and where their tasks run. Two labs
made alike have equal models; `diff` compares two of them.

What is left out, because it differs between two copies of the same lab without meaning
anything: ids, versions, timestamps, subnets (each lab takes its own pool), a stack's name
(services are by their short name) and the labels swarmlab and Docker put on what they
make. Environment values are kept only as a digest: a model never holds a secret."""

from __future__ import annotations

import hashlib
import json
from typing import Any, Dict, List, Optional

from .. import labels as L
from ..providers.base import name_of
from .running import Lab

OURS = ("io.swarmlab.", "com.docker.stack.", "com.docker.swarm.")  # labels made for us, not by the user


def _user_labels(labels: Optional[Dict[str, str]]) -> Dict[str, str]:
    return {k: v for k, v in sorted((labels or {}).items()) if not k.startswith(OURS)}


def _digest(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:16]


def node_model(info: dict) -> Dict[str, Any]:
    """One `docker node inspect` record."""
    spec = info.get("Spec") or {}
    return {
        "role": spec.get("Role", ""),
        "availability": spec.get("Availability", ""),
        "labels": dict(sorted((spec.get("Labels") or {}).items())),
    }


def network_model(info: dict) -> Dict[str, Any]:
    """One `docker network inspect` record."""
    opts = info.get("Options") or {}
    return {
        "driver": info.get("Driver", ""),
        "encrypted": "encrypted" in opts,
        "attachable": bool(info.get("Attachable")),
        "internal": bool(info.get("Internal")),
        "labels": _user_labels(info.get("Labels")),
    }


def _ports(endpoint: dict) -> List[Dict[str, Any]]:
    ports = [
        {
            "published": int(p.get("PublishedPort", 0)),
            "target": int(p.get("TargetPort", 0)),
            "protocol": p.get("Protocol", "tcp"),
            "mode": p.get("PublishMode", "ingress"),
        }
        for p in endpoint.get("Ports") or []
    ]
    return sorted(ports, key=lambda p: (p["target"], p["published"], p["protocol"]))


def _mounts(container: dict) -> List[Dict[str, Any]]:
    out = [
        {
            "type": m.get("Type", ""),
            "source": m.get("Source", "") if m.get("Type") in ("bind", "volume") else "",
            "target": m.get("Target", ""),
            "read_only": bool(m.get("ReadOnly")),
        }
        for m in container.get("Mounts") or []
    ]
    return sorted(out, key=lambda m: m["target"])


def service_model(spec: dict, network_names: Dict[str, str]) -> Dict[str, Any]:
    """One service's `Spec` (from `docker service inspect`); network ids by name."""
    task = spec.get("TaskTemplate") or {}
    container = task.get("ContainerSpec") or {}
    placement = task.get("Placement") or {}
    mode = spec.get("Mode") or {}
    env = dict(e.split("=", 1) if "=" in e else (e, "") for e in container.get("Env") or [])
    return {
        "image": container.get("Image", "").split("@")[0],
        "mode": "global" if "Global" in mode else "replicated",
        "replicas": (mode.get("Replicated") or {}).get("Replicas"),
        "command": container.get("Command") or [],
        "args": container.get("Args") or [],
        "constraints": sorted(placement.get("Constraints") or []),
        "preferences": placement.get("Preferences") or [],
        "max_replicas_per_node": placement.get("MaxReplicas", 0),
        "ports": _ports(spec.get("EndpointSpec") or {}),
        "endpoint_mode": (spec.get("EndpointSpec") or {}).get("Mode", "vip"),
        "networks": {
            network_names.get(n.get("Target", ""), n.get("Target", "")): sorted(n.get("Aliases") or [])
            for n in task.get("Networks") or []
        },
        "healthcheck": container.get("Healthcheck") or {},
        "update_config": spec.get("UpdateConfig") or {},
        "rollback_config": spec.get("RollbackConfig") or {},
        "resources": task.get("Resources") or {},
        "restart_policy": task.get("RestartPolicy") or {},
        "labels": _user_labels(spec.get("Labels")),
        "container_labels": _user_labels(container.get("Labels")),
        "env": {k: _digest(v) for k, v in sorted(env.items())},
        "secrets": sorted(
            (s.get("SecretName", ""), (s.get("File") or {}).get("Name", "")) for s in container.get("Secrets") or []
        ),
        "configs": sorted(
            (c.get("ConfigName", ""), (c.get("File") or {}).get("Name", "")) for c in container.get("Configs") or []
        ),
        "mounts": _mounts(container),
    }


def _short(name: str, labels: Dict[str, str]) -> str:
    stack = labels.get(L.STACK, "")
    return name[len(stack) + 1 :] if stack and name.startswith(stack + "_") else name


def _inspect(t, kind: str, names: List[str]) -> List[dict]:
    if not names:
        return []
    r = t.run(["docker", kind, "inspect", names], timeout=60, warn=True)
    return json.loads(r.stdout) if r.ok and r.stdout.strip() else []


def lab_model(lab: Lab) -> Dict[str, Any]:
    """The model of a running lab, read from its manager."""
    t = lab.need_leader().transport
    swarm = lab.swarm
    nodes = _inspect(t, "node", t.run(["docker", "node", "ls", "-q"], timeout=30).stdout.split())
    nets = _inspect(t, "network", [n.name for n in swarm.networks()])
    names = swarm.service_names()
    services = _inspect(t, "service", names)
    by_id = {n.get("Id", ""): n.get("Name", "") for n in nets}
    where: Dict[str, List[str]] = {}
    for task in swarm.tasks(names) if names else []:
        where.setdefault(task.name.rsplit(".", 1)[0], []).append(task.node)
    out: Dict[str, Any] = {
        "nodes": {name_of(lab.hosts, (n.get("Description") or {}).get("Hostname", "")): node_model(n) for n in nodes},
        "networks": {n["Name"]: network_model(n) for n in nets},
        "services": {},
        "placement": {},
    }
    for s in services:
        spec = s.get("Spec") or {}
        short = _short(spec.get("Name", ""), spec.get("Labels") or {})
        out["services"][short] = service_model(spec, by_id)
        out["placement"][short] = sorted(where.get(spec.get("Name", ""), []))
    out["nodes"] = dict(sorted(out["nodes"].items()))
    return out

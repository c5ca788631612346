"""A running lab as one normalized model, the same shape whatever made it: its nodes
(role, availability, labels), its networks (driver, options, labels), its services (every
setting of their spec that a stack file can state) and where their tasks run. Two labs
made alike have equal models; `diff` compares two of them.

What is left out, because it differs between two copies of the same lab without meaning
anything: ids, versions, timestamps, subnets (each lab takes its own pool), a stack's name
(services are by their short name) and the labels swarmlab and Docker put on what they
make. Environment values are kept only as a digest: a model never holds a secret."""

from __future__ import annotations

from collections import Counter

import hashlib
from typing import Any, Dict, List, Mapping, Optional

from .. import labels as L
from .running import Lab
from .specs import Specs, network_name, read_specs, short_name

OURS = ("io.swarmlab.", "com.docker.stack.", "com.docker.swarm.")  # labels made for us, not by the user


# ContainerSpec settings of how the process runs, compared as Docker holds them
PROCESS = ("User", "Dir", "Hostname", "StopGracePeriod", "StopSignal", "TTY", "OpenStdin", "Init", "ReadOnly", "Hosts")


def is_pin(constraint: str) -> bool:
    """A constraint on swarmlab's node label: a copy keeps a task where it ran with it."""
    return constraint.replace(" ", "").startswith(f"node.labels.{L.PREFIX}.")


def user_labels(labels: Optional[Mapping[str, str]]) -> Dict[str, str]:
    return {k: v for k, v in sorted((labels or {}).items()) if not k.startswith(OURS)}


def _digest(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:16]


def node_model(info: dict) -> Dict[str, Any]:
    """One `docker node inspect` record."""
    spec = info.get("Spec") or {}
    return {
        "role": spec.get("Role", ""),
        "availability": spec.get("Availability", ""),
        "labels": user_labels(spec.get("Labels")),
    }


def network_model(info: dict) -> Dict[str, Any]:
    """One `docker network inspect` record."""
    opts = info.get("Options") or {}
    return {
        "driver": info.get("Driver", ""),
        "encrypted": "encrypted" in opts,
        "attachable": bool(info.get("Attachable")),
        "internal": bool(info.get("Internal")),
        "labels": user_labels(info.get("Labels")),
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


def content_suffix(data: bytes) -> str:
    """What swarmlab puts after a config or secret made from a file: new content, new name."""
    return "-" + hashlib.sha256(data).hexdigest()[:8]


def config_name(name: str, configs: Mapping[str, bytes]) -> str:
    """A config's name without the content suffix swarmlab adds (the same content has the
    same name whether swarmlab or a person made it)."""
    data = configs.get(name)
    return name[: -len(content_suffix(data))] if data is not None and name.endswith(content_suffix(data)) else name


def service_model(spec: dict, network_names: Dict[str, str], configs: Mapping[str, bytes] = {}) -> Dict[str, Any]:
    """One service's `Spec` (from `docker service inspect`); network ids by name; configs'
    contents by name."""
    task = spec.get("TaskTemplate") or {}
    container = task.get("ContainerSpec") or {}
    placement = task.get("Placement") or {}
    mode = spec.get("Mode") or {}
    short = short_name(spec.get("Name", ""), spec.get("Labels") or {})
    env = dict(e.split("=", 1) if "=" in e else (e, "") for e in container.get("Env") or [])
    return {
        "image": container.get("Image", "").split("@")[0],
        "mode": "global" if "Global" in mode else "replicated",
        "replicas": (mode.get("Replicated") or {}).get("Replicas"),
        "command": container.get("Command") or [],
        "args": container.get("Args") or [],
        # not those a copy keeps its tasks where they ran with (on swarmlab's node label)
        "constraints": sorted(c for c in placement.get("Constraints") or [] if not is_pin(c)),
        "preferences": placement.get("Preferences") or [],
        "max_replicas_per_node": placement.get("MaxReplicas", 0),
        "ports": _ports(spec.get("EndpointSpec") or {}),
        "endpoint_mode": (spec.get("EndpointSpec") or {}).get("Mode", "vip"),
        "networks": {
            # not the service's own short name: stack deploy gives every service that alias
            network_names.get(n.get("Target", ""), n.get("Target", "")): sorted(
                a for a in n.get("Aliases") or [] if a != short
            )
            for n in task.get("Networks") or []
        },
        "healthcheck": container.get("Healthcheck") or {},
        "update_config": spec.get("UpdateConfig") or {},
        "rollback_config": spec.get("RollbackConfig") or {},
        # `docker service create` says {"Limits": {}}, a stack says nothing: the same
        "resources": {k: v for k, v in (task.get("Resources") or {}).items() if v not in ({}, None)},
        "restart_policy": task.get("RestartPolicy") or {},
        "labels": user_labels(spec.get("Labels")),
        "container_labels": user_labels(container.get("Labels")),
        "env": {k: _digest(v) for k, v in sorted(env.items())},
        "secrets": sorted(
            (s.get("SecretName", ""), (s.get("File") or {}).get("Name", "")) for s in container.get("Secrets") or []
        ),
        "configs": sorted(
            (config_name(c.get("ConfigName", ""), configs), (c.get("File") or {}).get("Name", ""))
            for c in container.get("Configs") or []
        ),
        "mounts": _mounts(container),
        "process": {k: container[k] for k in PROCESS if container.get(k) not in (None, "", False, [])},
        "logging": task.get("LogDriver") or {},
    }


def model_of(specs: Specs) -> Dict[str, Any]:
    """The model of what a manager said of its lab (observe/specs.py)."""
    by_id = specs.network_names
    out: Dict[str, Any] = {
        "nodes": dict(sorted((n["name"], node_model(n)) for n in specs.nodes)),
        "networks": {network_name(n): network_model(n) for n in specs.networks},
        "services": {},
        "placement": {},
    }
    keys = service_keys(specs.services)
    for s in specs.services:
        spec = s.get("Spec") or {}
        key = keys[spec.get("Name", "")]
        out["services"][key] = service_model(spec, by_id, specs.configs)
        out["placement"][key] = sorted(specs.where.get(spec.get("Name", ""), []))
    return out


def service_keys(services: List[dict]) -> Dict[str, str]:
    """Each service's name in the model: its short name (a copy deploys it under a stack
    of its own), or its whole name where two stacks have a service of that short name."""
    short = {
        (s.get("Spec") or {}).get("Name", ""): short_name(
            (s.get("Spec") or {}).get("Name", ""), (s.get("Spec") or {}).get("Labels") or {}
        )
        for s in services
    }
    counts = Counter(short.values())
    return {name: (sh if counts[sh] == 1 else name) for name, sh in short.items()}


def lab_model(lab: Lab) -> Dict[str, Any]:
    """The model of a running lab, read from its manager."""
    return model_of(read_specs(lab))

"""Names: what a lab may be called and what its resources are called on the engine."""

from __future__ import annotations

import re

# A DNS label, kept short so that every derived name stays a valid hostname.
LAB_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9-]{0,22}[a-z0-9])?$")
LAB_NAME_RULE = "lowercase letters, digits and '-', 1-24 characters, not starting or ending with '-'"


def is_lab_name(name: str) -> bool:
    return bool(LAB_NAME_RE.match(name or ""))


def node_names(count: int) -> list[str]:
    return [f"node-{i}" for i in range(1, count + 1)]


def container_name(lab: str, node: str) -> str:
    return f"swarmlab-{lab}-{node}"


def state_volume(lab: str, node: str) -> str:
    return f"swarmlab-{lab}-{node}-docker"


def underlay_network(lab: str) -> str:
    return f"swarmlab-{lab}-underlay"


def short_task(name: str) -> str:
    """app_web.1.8k2j... -> app_web.1: a task's service and slot (the id is in --json)."""
    return ".".join((name or "?").split(".")[:2])


def cgroup_parent(lab: str, node: str) -> str:
    """Distinct per node on the host: inner engines share the host's cgroup tree."""
    return f"/swarmlab-{lab}-{node}"

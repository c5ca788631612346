"""The scenario that makes a copy of a lab: its nodes (managers first, as swarmlab names
them), their labels and availability, the networks with their options, and the stack.
Pure: the specs come from observe/specs.py."""

from __future__ import annotations

from typing import Any, Dict, List, Mapping, Tuple

from .. import labels as L
from ..config.stack import DOCKER_NETWORKS
from ..naming import node_names
from ..observe.specs import Specs, network_name
from ..observe.model import user_labels
from . import service as S
from .pinning import CopyNode
from .stack import Where

ENCRYPTION = {"true": True, "false": False, "auto": "auto"}


def node_plan(specs: Specs) -> Tuple[List[dict], Where]:
    """The source's nodes in the copy's order (managers first), and the copy's nodes with
    where the source's tasks ran by their names (constraints that name a host renamed)."""
    order = sorted(
        specs.nodes,
        key=lambda n: ((n.get("Spec") or {}).get("Role") != "manager", n["name"]),
    )
    names = node_names(len(order))
    hostnames = {(n.get("Description") or {}).get("Hostname", ""): new for n, new in zip(order, names)}
    renamed = {n["name"]: new for n, new in zip(order, names)}
    nodes = [
        CopyNode(new, (n.get("Spec") or {}).get("Role", "worker"), user_labels((n.get("Spec") or {}).get("Labels")))
        for n, new in zip(order, names)
    ]
    ran_on = {svc: sorted({renamed.get(x, x) for x in where if x}) for svc, where in specs.where.items()}
    return order, Where(hostnames, nodes, ran_on)


def _nodes(order: List[dict], pinned: bool) -> Dict[str, Any]:
    """pinned: a service is kept where it ran, so each node carries its name (pinning.py)."""
    managers = sum(1 for n in order if (n.get("Spec") or {}).get("Role") == "manager")
    labels: Dict[str, Dict[str, str]] = {}
    availability: Dict[str, str] = {}
    for n, new in zip(order, node_names(len(order))):
        spec = n.get("Spec") or {}
        mine = {**user_labels(spec.get("Labels")), **({L.PLACED: new} if pinned else {})}
        if mine:
            labels[new] = mine
        if spec.get("Availability", "active") != "active":
            availability[new] = spec["Availability"]
    return S._drop_empty(
        {"managers": managers, "workers": len(order) - managers, "labels": labels, "availability": availability}
    )


def network_entry(info: Mapping[str, Any], keep_subnets: bool) -> Dict[str, Any]:
    """One network as the scenario asks for it: the encryption the source's lab asked for
    (auto stays auto) where swarmlab made it, else what it is."""
    labels = info.get("Labels") or {}
    asked = ENCRYPTION.get(labels.get(L.ENCRYPTION_REQUESTED, ""), "encrypted" in (info.get("Options") or {}))
    entry: Dict[str, Any] = {"encrypted": asked, "attachable": bool(info.get("Attachable"))}
    if info.get("Internal"):
        entry["internal"] = True
    user = user_labels(labels)
    if user:
        entry["labels"] = user
    subnets = [c.get("Subnet") for c in ((info.get("IPAM") or {}).get("Config") or []) if c.get("Subnet")]
    if keep_subnets and subnets:
        entry["subnet"] = subnets[0]
    return entry


def scenario(
    source: str,
    specs: Specs,
    order: List[dict],
    stacks: List[Tuple[str, str]],
    keep_subnets: bool,
    pinned: bool = False,
) -> dict:
    """stacks: each one's file and name; pinned: see _nodes."""
    listed = [{"file": f, "name": n} for f, n in stacks]
    return {
        "apiVersion": "swarmlab/v1",
        "kind": "Scenario",
        "name": source,
        "description": f"a copy of {source}, written by swarmlab import",
        "nodes": _nodes(order, pinned),
        "networks": {
            network_name(n): network_entry(n, keep_subnets)
            for n in specs.networks
            if n.get("Name") not in DOCKER_NETWORKS
        }
        or {"default": {"encrypted": False}},  # a scenario has one network at least (its stack's default)
        **({"stack": listed[0]} if len(listed) == 1 else {"stacks": listed}),
    }

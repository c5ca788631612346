"""Nodes for a stack given alone (`up --stack FILE`): how many, which are managers, and
the labels that let every placement constraint be met.

Each distinct set of `node.labels.K == V` constraints (with its role, if any) gets nodes
of its own: as many as its replicas need under max_replicas_per_node, else one. Giving
them separate nodes is also what makes the traffic between those services cross hosts.
Whatever cannot be met this way is said here, service by service."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

from .. import naming
from .stack import _CONSTRAINT_RE, constraints_of

MIN_NODES = 3  # one manager, two workers: the smallest lab where traffic crosses hosts


@dataclass
class Group:
    role: Optional[str]  # manager | worker | None (either)
    labels: Tuple[Tuple[str, str], ...]
    count: int = 1
    services: List[str] = field(default_factory=list)


@dataclass
class NodePlan:
    managers: int
    workers: int
    labels: Dict[str, Dict[str, str]]
    problems: List[Tuple[Tuple[str, ...], str]]


def _groups(services: Mapping[str, Any]) -> Tuple[List[Group], List[Tuple[Tuple[str, ...], str]]]:
    groups: Dict[tuple, Group] = {}
    problems: List[Tuple[Tuple[str, ...], str]] = []
    for name, svc in services.items():
        if not isinstance(svc, Mapping):
            continue
        role, labels = None, {}
        for expr in constraints_of(svc):
            m = _CONSTRAINT_RE.match(str(expr))
            if not m or m.group("op") != "==":
                continue
            if m.group("attr") == "role":
                role = m.group("value")
            elif m.group("attr") == "hostname" and not re.fullmatch(r"node-[0-9]+", m.group("value")):
                problems.append(
                    (
                        ("services", str(name), "deploy", "placement", "constraints"),
                        f"{expr}: swarmlab names its nodes node-1, node-2, ...; place the service "
                        "with a label (node.labels.<key> == <value>) instead",
                    )
                )
            elif m.group("label"):
                labels[m.group("label")] = m.group("value")
        if not labels and role != "manager":
            continue
        key = (role, tuple(sorted(labels.items())))
        g = groups.setdefault(key, Group(role, key[1]))
        g.services.append(str(name))
        g.count = max(g.count, _nodes_needed(svc))
    return list(groups.values()), problems


def _nodes_needed(svc: Mapping[str, Any]) -> int:
    deploy = svc.get("deploy")
    deploy = deploy if isinstance(deploy, Mapping) else {}
    placement = deploy.get("placement")
    placement = placement if isinstance(placement, Mapping) else {}
    per_node, replicas = placement.get("max_replicas_per_node"), deploy.get("replicas", 1)
    if (
        deploy.get("mode") == "global"
        or not isinstance(per_node, int)
        or not isinstance(replicas, int)
        or per_node <= 0
        or isinstance(per_node, bool)
    ):
        return 1
    return max(1, math.ceil(replicas / per_node))


def plan(services: Any, total: Optional[int] = None, managers: Optional[int] = None) -> NodePlan:
    """The nodes a stack needs. total/managers: what --nodes/--managers ask for."""
    services = services if isinstance(services, Mapping) else {}
    groups, problems = _groups(services)
    n_managers = managers or 1
    on_managers = [g for g in groups if g.role == "manager"]
    on_any = [g for g in groups if g.role != "manager"]
    needed_managers = sum(g.count for g in on_managers)
    if needed_managers > n_managers:
        n_managers = needed_managers + (1 - needed_managers % 2)  # managers stay odd
    needed = n_managers + sum(g.count for g in on_any)
    n_total = max(total or 0, needed, MIN_NODES if total is None else 0)
    if total is not None and total < needed:
        problems.append(
            (
                (),
                f"--nodes {total} is too few: the stack's placement constraints need {needed} "
                f"nodes ({_explain(groups)})",
            )
        )
    names = naming.node_names(n_total)
    labels: Dict[str, Dict[str, str]] = {}
    free_managers = list(names[:n_managers])
    free_workers = list(names[n_managers:])
    for g in on_managers + on_any:
        pool = free_managers if g.role == "manager" else free_workers or free_managers
        for _ in range(g.count):
            if not pool:
                break
            labels[pool.pop(0)] = dict(g.labels)
    return NodePlan(n_managers, n_total - n_managers, labels, problems)


def _explain(groups: List[Group]) -> str:
    return (
        "; ".join(
            f"{g.count} for {', '.join(g.services)}"
            + (f" ({', '.join(f'{k}={v}' for k, v in g.labels)})" if g.labels else "")
            for g in groups
        )
        or "none"
    )

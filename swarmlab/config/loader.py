"""Scenario file -> validated Scenario. Every problem of the file (and its stack
file) is collected and reported at once, each with its file, line and path."""
from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .. import naming
from ..addressing import parse_pool
from ..errors import ConfigError, Problem
from . import schema, stack as stackmod, yamlfile
from .model import NetworkSpec, NodeSpec, Scenario, WaitSpec

MAX_NODES = 9  # what a 2-core machine runs comfortably


def _encrypted(value: Any) -> str:
    if value is True:
        return "true"
    if value is False or value is None:
        return "false"
    return str(value)


def load_scenario(path: str | Path, *, name: Optional[str] = None, nodes: Optional[int] = None,
                  managers: Optional[int] = None, pool: Optional[str] = None,
                  own_nodes: bool = True) -> Scenario:
    """Load and check a scenario. Flags (name, nodes, managers, pool) override the file.
    own_nodes=False: the lab's nodes come from elsewhere (an inventory, Vagrant), so the
    stack's placement is checked against those later (config.inventory.apply_nodes)."""
    path = Path(path)
    shown = str(path)
    data, lines = yamlfile.load(path, "scenario file")
    problems: List[Problem] = []

    def add(p: Tuple[str, ...], msg: str, file: str = shown, where=lines) -> None:
        problems.append(Problem(file, ".".join(p), msg, yamlfile.line_of(where, p)))

    if not isinstance(data, dict):
        raise ConfigError([Problem(shown, "", "must be a mapping with apiVersion, kind, nodes, networks, stack")])
    data = copy.deepcopy(data)
    flagged: Dict[Tuple[str, ...], str] = {}
    if managers is not None:
        data.setdefault("nodes", {})["managers"] = managers
        flagged[("nodes", "managers")] = "--managers"
    if nodes is not None:
        m = data.get("nodes", {}).get("managers", 1)
        data.setdefault("nodes", {})["workers"] = nodes - m if isinstance(m, int) else nodes
        flagged[("nodes", "workers")] = "--nodes"
    for p, msg in schema.validate(data):
        add(p, msg + (f" (set by {flagged[p]})" if p in flagged else ""))
    if problems:  # the shape is wrong: deeper checks would only repeat it
        raise ConfigError(sorted(problems, key=lambda p: p.line or 0))

    lab_name = name or data.get("name") or path.stem
    if not naming.is_lab_name(lab_name):
        src = ("--name",) if name else ("name",)
        add(("name",) if not name else (), f"lab name {lab_name!r} is not a DNS label: use {naming.LAB_NAME_RULE}"
            + (" (set by --name)" if src == ("--name",) else ""))

    n_managers = data["nodes"]["managers"]
    n_workers = data["nodes"].get("workers", 0)
    via = lambda p: f" (set by {flagged[p]})" if p in flagged else ""  # noqa: E731
    if n_managers < 1 or n_managers % 2 == 0:
        add(("nodes", "managers"), f"must be odd (1, 3, 5), got {n_managers}{via(('nodes', 'managers'))}")
    if n_workers < 0:
        add(("nodes", "workers"), f"must be 0 or more, got {n_workers}{via(('nodes', 'workers'))}")
    total = n_managers + n_workers
    if total > MAX_NODES:
        add(("nodes",), f"{total} nodes is more than this tool runs on one machine ({MAX_NODES})")
    names = naming.node_names(max(total, 0))
    node_labels = data["nodes"].get("labels") or {}
    for node in node_labels:
        if node not in names:
            add(("nodes", "labels", node), f"no such node (the lab has {', '.join(names) or 'none'})")
    node_specs = tuple(
        NodeSpec(n, i + 1, "manager" if i < n_managers else "worker",
                 tuple(sorted((str(k), _lbl(v)) for k, v in (node_labels.get(n) or {}).items())))
        for i, n in enumerate(names))

    nets = data["networks"]
    net_specs = []
    for net, spec in nets.items():
        spec = spec or {}
        if not naming.is_lab_name(net):
            add(("networks", net), f"network name is not a DNS label: use {naming.LAB_NAME_RULE}")
        net_specs.append(NetworkSpec(net, _encrypted(spec.get("encrypted", False)), spec.get("attachable", True)))

    pool_text = pool or (data.get("network") or {}).get("pool", "auto")
    if pool_text != "auto":
        try:
            parse_pool(pool_text)
        except ValueError as exc:
            add(("network", "pool"), f"{exc}{' (set by --pool)' if pool else ''}; or write 'auto'")

    stack_rel = data["stack"]["file"]
    stack_path = (path.parent / stack_rel)
    stack_name = data["stack"].get("name", "app")
    if not naming.is_lab_name(stack_name):
        add(("stack", "name"), f"stack name is not a DNS label: use {naming.LAB_NAME_RULE}")
    stack_data: Any = None
    try:
        stack_data, stack_lines = yamlfile.load(stack_path, "stack file")
    except ConfigError as exc:
        add(("stack", "file"), f"{exc.problems[0].message}: {stack_path}"
            + ("" if stack_path.exists() else "; the path is relative to the scenario file"))
    else:
        node_view = [(n.name, n.role, dict(n.labels)) for n in node_specs] if own_nodes else None
        for p, msg in stackmod.check(stack_data, [n.name for n in net_specs], node_view):
            add(p, msg, file=str(stack_path), where=stack_lines)

    wait = data.get("wait") or {}
    http = wait.get("http", {"service": "web", "port": 8080, "path": "/healthz"})
    services = (stack_data.get("services") or {}) if isinstance(stack_data, dict) else {}
    if http and stack_data is not None and http["service"] not in services:
        add(("wait", "http", "service"), f"no service {http['service']!r} in {stack_path}")
    elif http and isinstance(services.get(http["service"]), dict):
        try:
            published = [p.published for p in stackmod.parse_ports(services[http["service"]].get("ports") or [])]
        except (ValueError, TypeError):
            published = None  # already reported against the stack file
        if published is not None and http["port"] not in published:
            add(("wait", "http", "port"), f"service {http['service']!r} publishes "
                f"{', '.join(map(str, published)) or 'no port'}, not {http['port']}; wait on a published port")
    wait_spec = WaitSpec(timeout=float(wait.get("timeout", 240)),
                         http_service=http["service"] if http else None,
                         http_port=int(http["port"]) if http else 0,
                         http_path=http.get("path", "/") if http else "/")
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: (p.file != shown, p.file, p.line or 0)))
    return Scenario(path=path, name=lab_name, description=data.get("description", ""),
                    nodes=node_specs, networks=tuple(net_specs), stack_file=stack_path,
                    stack_name=stack_name, stack=stack_data, pool=pool_text, wait=wait_spec)


def _lbl(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)

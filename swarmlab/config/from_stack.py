"""A lab from a stack file alone (`swarmlab up --stack FILE`): the scenario is derived,
then checked exactly as a written one is.

- networks: the stack's own (encrypted where its driver_opts ask, which means IPsec where
  every node has ESP and plain, said so, where not), plus `default` when a service names
  none (stack deploy would put it there);
- nodes: --nodes/--managers, else what the placement constraints need (placement.py);
- the wait: replicas (health checks included) and every published TCP port, never a
  service the stack does not have."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Mapping, Optional

from .. import grammar
from ..errors import ConfigError, Problem
from . import placement, yamlfile
from .loader import Flags, _Reader, build, load_scenario, named_as_docker_names
from .model import Scenario
from .stack import docker_networks, service_networks

SOURCE_PREFIX = "stack:"
NO_FLAGS = Flags()  # frozen: one shared default is safe


def load_stack(path: str | Path, flags: Flags = NO_FLAGS) -> Scenario:
    path = Path(path)
    stack, lines = yamlfile.load(path, "stack file")
    r = _Reader(str(path), lines)
    if not isinstance(stack, dict) or not isinstance(stack.get("services"), dict) or not stack["services"]:
        raise ConfigError(
            [
                Problem(
                    str(path),
                    "services",
                    "a stack file is a compose mapping with at least one service (services: {web: {image: ...}})",
                    yamlfile.line_of(lines, ()),
                )
            ]
        )
    name = flags.name or path.stem
    if flags.name is None and grammar.LAB.problem(name):
        raise ConfigError(
            [
                Problem(
                    str(path),
                    "",
                    f"the lab would be named after the file ({path.stem!r}), "
                    "which is not a lab name (a DNS label): give one with --name NAME",
                )
            ]
        )
    node_plan = placement.plan(stack["services"], flags.nodes, flags.managers)
    for p, msg in node_plan.problems:
        r.add(p, msg + (" (set by --nodes)" if not p and flags.nodes else ""))
    data: Dict[str, Any] = {
        "apiVersion": "swarmlab/v1",
        "kind": "Scenario",
        "name": name,
        "description": f"the stack {path.name}, as it is",
        "nodes": {"managers": node_plan.managers, "workers": node_plan.workers, "labels": node_plan.labels},
        "networks": _networks(stack),
        "stack": {"file": path.name, "name": name},
    }
    if flags.pool:
        data["network"] = {"pool": flags.pool}
    # the flags were applied by the plan: the file has no nodes: section of its own to override
    scenario = build(
        data,
        r,
        path,
        Flags(flags.name, None, None, flags.pool, flags.own_nodes, flags.env_file, flags.ask_docker, flags.host_access),
        SOURCE_PREFIX + str(path.resolve()),
    )
    return named_as_docker_names(scenario)


def _networks(stack: Mapping[str, Any]) -> Dict[str, Optional[dict]]:
    top = stack.get("networks")
    top = top if isinstance(top, Mapping) else {}
    out: Dict[str, Optional[dict]] = {}
    own = docker_networks(stack)  # Docker's host and bridge: used as they are, not made
    for net, spec in ((k, v) for k, v in top.items() if k not in own):
        opts = (spec or {}).get("driver_opts") if isinstance(spec, Mapping) else None
        encrypted = isinstance(opts, Mapping) and "encrypted" in opts and str(opts["encrypted"]).lower() != "false"
        out[str(net)] = {"encrypted": "auto"} if encrypted else {}
    services = stack.get("services") or {}
    if any(isinstance(s, Mapping) and not service_networks(s) for s in services.values()) or not out:
        out.setdefault("default", {})
    return out


def load_source(source: str, flags: Flags = NO_FLAGS) -> Scenario:
    """The scenario a lab was made from, by what `up` recorded (a scenario or a stack file)."""
    if source.startswith(SOURCE_PREFIX):
        return load_stack(source[len(SOURCE_PREFIX) :], flags)

    return load_scenario(
        source,
        name=flags.name,
        own_nodes=flags.own_nodes,
        env_file=flags.env_file,
        ask_docker=flags.ask_docker,
        host_access=flags.host_access,
    )

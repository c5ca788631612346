"""Scenario file -> validated Scenario. Every problem of the file (and its stack
file) is collected and reported at once, each with its file, line and path."""

from __future__ import annotations

import copy
import dataclasses
import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .. import grammar, naming
from ..addressing import parse_pool
from ..errors import ConfigError, Problem
from . import compose, docker_check, schema, seal, stack as stackmod, stack_check, yamlfile
from .model import NetworkSpec, NodeSpec, Scenario, StackPart, WaitSpec
from .stack import DEFAULT_NETWORK

# What was measured on one 2-core machine (bench/RESULTS.md, bench_scale.py); memory and
# the kernel's neighbour table are checked for real when the nodes are made.
MAX_NODES = int(os.environ.get("SWARMLAB_MAX_NODES", "50"))
# Docker's own networks: a lab network of that name would shadow or clash with them
RESERVED_NETWORKS = ("ingress", "bridge", "host", "none", "docker_gwbridge")


@dataclass
class _Reader:
    """The problems of one scenario file, each placed at its file and line."""

    shown: str
    lines: yamlfile.Lines
    flagged: Dict[Tuple[str, ...], str] = field(default_factory=dict)
    problems: List[Problem] = field(default_factory=list)

    def add(self, p: Tuple[str, ...], msg: str, file: Optional[str] = None, where=None) -> None:
        file = file or self.shown
        lines = self.lines if where is None else where
        self.problems.append(Problem(file, ".".join(p), msg, yamlfile.line_of(lines, p)))

    def via(self, p: Tuple[str, ...]) -> str:
        return f" (set by {self.flagged[p]})" if p in self.flagged else ""

    def fail_if_any(self) -> None:
        if self.problems:
            raise ConfigError(sorted(self.problems, key=lambda p: (p.file != self.shown, p.file, p.line or 0)))


@dataclass(frozen=True)
class Flags:
    """What the command line says over the file."""

    name: Optional[str] = None
    nodes: Optional[int] = None
    managers: Optional[int] = None
    pool: Optional[str] = None
    own_nodes: bool = True  # False: the nodes come from an inventory or lab.yaml
    env_file: Optional[str] = None
    ask_docker: bool = True  # False: the lab exists (read again), no deploy to judge (nor seal)
    host_access: bool = False  # --host-access: as the scenario's host_access: true


def load_scenario(
    path: str | Path,
    *,
    name: Optional[str] = None,
    nodes: Optional[int] = None,
    managers: Optional[int] = None,
    pool: Optional[str] = None,
    own_nodes: bool = True,
    env_file: Optional[str] = None,
    ask_docker: bool = True,
    host_access: bool = False,
) -> Scenario:
    """Load and check a scenario. Flags (name, nodes, managers, pool) override the file.
    own_nodes=False: the lab's nodes come from elsewhere (an inventory, Vagrant), so the
    stack's placement is checked against those later (config.inventory.apply_nodes)."""
    path = Path(path)
    data, lines = yamlfile.load(path, "scenario file")
    r = _Reader(str(path), lines)
    if not isinstance(data, dict):
        raise ConfigError([Problem(r.shown, "", "must be a mapping with apiVersion, kind, nodes, networks, stack")])
    flags = Flags(name, nodes, managers, pool, own_nodes, env_file, ask_docker, host_access)
    return named_as_docker_names(build(data, r, path, flags, str(path)))


def named_as_docker_names(scenario: Scenario) -> Scenario:
    """The stack's `default` network (a scenario's, or one made for a stack file alone) on
    the engine as docker stack deploy names it, <stack>_default: Docker reserves the name
    `default` itself (creating it failed)."""
    nets = tuple(
        dataclasses.replace(n, name=f"{scenario.stack_name}_{DEFAULT_NETWORK}", stack_key=DEFAULT_NETWORK)
        if n.name == DEFAULT_NETWORK
        else n
        for n in scenario.networks
    )
    return dataclasses.replace(scenario, networks=nets)


def build(data: dict, r: _Reader, path: Path, flags: Flags, source: str) -> Scenario:
    """The scenario of `data` (a scenario file's, or one made from a stack file)."""
    name, pool = flags.name, flags.pool
    data = _apply_flags(copy.deepcopy(data), r, flags.nodes, flags.managers)
    for p, msg in schema.validate(data):
        r.add(p, msg + r.via(p))
    if r.problems:  # the shape is wrong: deeper checks would only repeat it
        raise ConfigError(sorted(r.problems, key=lambda p: p.line or 0))

    lab_name = name or data.get("name") or path.stem
    problem = grammar.LAB.problem(lab_name)
    if problem:
        r.add(("name",) if not name else (), problem + (" (set by --name)" if name else ""))
    node_specs = _nodes(data["nodes"], r)
    net_specs = _networks(data["networks"], r)
    pool_text = pool or (data.get("network") or {}).get("pool", "auto")
    if pool_text != "auto":
        try:
            parse_pool(pool_text)
        except ValueError as exc:
            r.add(("network", "pool"), f"{exc}{' (set by --pool)' if pool else ''}; or write 'auto'")
    declared_in = "the stack file's top-level networks:" if source.startswith("stack:") else "the scenario's networks"
    host_access = bool(data.get("host_access")) or flags.host_access
    how = (host_access or not flags.ask_docker, declared_in)
    parts = [_part(at, entry, path, flags, net_specs, node_specs, how, r) for at, entry in _entries(data)]
    _one_name_each(parts, r)
    _one_port_each(parts, r)
    stack_name, stack_path, prepared = parts[0]
    stack_data = prepared.stack if prepared else None
    wait_spec = _wait(data.get("wait") or {}, stack_data, stack_path, r)
    r.fail_if_any()
    assert prepared is not None  # else fail_if_any raised
    more = [(n, f, p) for n, f, p in parts[1:] if p is not None]
    return Scenario(
        path=path,
        name=lab_name,
        description=data.get("description", ""),
        nodes=node_specs,
        networks=tuple(net_specs),
        stack_file=stack_path,
        stack_name=stack_name,
        stack=prepared.stack,
        pool=pool_text,
        wait=wait_spec,
        host_access=host_access,
        builds={**prepared.builds, **{f"{n}/{k}": b for n, _, p in more for k, b in p.builds.items()}},
        notes=tuple(prepared.notes) + tuple(note for _, _, p in more for note in p.notes),
        files=tuple(prepared.files),
        source=source,
        more=tuple(StackPart(f, n, p.stack, tuple(p.files)) for n, f, p in more),
    )


Part = Tuple[str, Path, Optional[compose.Prepared]]  # a stack's name, its file, and it read


def _entries(data: dict) -> List[Tuple[Tuple[str, ...], dict]]:
    """Each stack entry with where it is in the file (stack, or stacks.N)."""
    if "stacks" in data:
        return [(("stacks", str(i)), e) for i, e in enumerate(data["stacks"])]
    return [(("stack",), data["stack"])]


def _part(
    at: Tuple[str, ...],
    entry: dict,
    path: Path,
    flags: Flags,
    nets: List[NetworkSpec],
    nodes: Tuple[NodeSpec, ...],
    how: Tuple[bool, str],
    r: _Reader,
) -> Part:
    """One stack entry: its name checked, its file read and checked (_stack)."""
    stack_name = entry.get("name", "app")
    problem = grammar.LAB.problem(stack_name)
    if problem:
        r.add(at + ("name",), problem.replace("lab name", "stack name"))
    stack_path = path.parent / entry["file"]
    env_file = flags.env_file or entry.get("env_file")
    env = _environment(stack_path, path.parent / env_file if env_file else None, r)
    own = nodes if flags.own_nodes else None
    return stack_name, stack_path, _stack(stack_path, stack_name, env, nets, own, how, r, flags.ask_docker, at)


def _one_port_each(parts: List[Part], r: _Reader) -> None:
    """A port two stacks publish: Docker refuses the second stack's service at deploy."""
    first: Dict[Tuple[int, str], Tuple[str, str]] = {}  # (port, protocol) -> (stack, service)
    for i, (name, _, prepared) in enumerate(parts):
        for svc, port, proto in stackmod.publishes(prepared.stack) if prepared else []:
            stack, other = first.setdefault((port, proto), (name, svc))
            if stack != name:  # one stack's own twice is said against its file (stack_check)
                why = f"{name}_{svc} publishes {port}/{proto}, as {stack}_{other} does; publish another port"
                r.add(("stacks", str(i), "file"), why)


def _one_name_each(parts: List[Part], r: _Reader) -> None:
    """Two stacks of one name would be one stack: the second deploy replaces the first."""
    seen: Dict[str, int] = {}
    for i, (name, _, _) in enumerate(parts):
        if name in seen:
            why = f"stack name {name!r} is given twice (also stacks.{seen[name]}); each stack needs its own"
            r.add(("stacks", str(i), "name"), why)
        seen.setdefault(name, i)


def _environment(stack_path: Path, env_file: Optional[Path], r: _Reader) -> Dict[str, str]:
    """What ${VAR} reads: this process's environment over --env-file (or the stack's .env)."""
    path = env_file or stack_path.parent / ".env"
    values: Dict[str, str] = {}
    if env_file is not None or yamlfile.is_file(path):
        try:
            values = compose.read_env_file(path)
        except ConfigError as exc:
            r.problems.extend(exc.problems)
    return {**values, **os.environ}


def _apply_flags(data: dict, r: _Reader, nodes: Optional[int], managers: Optional[int]) -> dict:
    if managers is not None:
        if not isinstance(data.get("nodes"), dict):
            data["nodes"] = {}
        data["nodes"]["managers"] = managers
        r.flagged[("nodes", "managers")] = "--managers"
    if nodes is not None:
        if not isinstance(data.get("nodes"), dict):
            data["nodes"] = {}
        m = data["nodes"].get("managers", 1)
        data["nodes"]["workers"] = nodes - m if isinstance(m, int) and not isinstance(m, bool) else nodes
        r.flagged[("nodes", "workers")] = "--nodes"
    return data


def _nodes(spec: dict, r: _Reader) -> Tuple[NodeSpec, ...]:
    n_managers = spec["managers"]
    n_workers = spec.get("workers", 0)
    if n_workers < 0:
        r.add(("nodes", "workers"), f"must be 0 or more, got {n_workers}{r.via(('nodes', 'workers'))}")
    total = n_managers + n_workers
    if total > MAX_NODES:
        r.add(
            ("nodes",),
            f"{total} nodes is more than swarmlab has been measured to run on one machine "
            f"({MAX_NODES}; SWARMLAB_MAX_NODES raises it)",
        )
        return ()
    names = naming.node_names(max(total, 0))
    node_labels = spec.get("labels") or {}
    availability = spec.get("availability") or {}
    for key in ("labels", "availability"):
        for node in spec.get(key) or {}:
            if node not in names:
                r.add(("nodes", key, node), f"no such node (the lab has {', '.join(names) or 'none'})")
    return tuple(
        NodeSpec(
            n,
            i + 1,
            "manager" if i < n_managers else "worker",
            _checked_labels(node_labels.get(n) or {}, ("nodes", "labels", n), r),
            availability.get(n, "active"),
        )
        for i, n in enumerate(names)
    )


def _networks(nets: dict, r: _Reader) -> List[NetworkSpec]:
    out = []
    for net, spec in nets.items():
        spec = spec or {}
        problem = grammar.NETWORK.problem(net)
        if problem:
            r.add(("networks", net), problem)
        elif net in RESERVED_NETWORKS:
            r.add(
                ("networks", net),
                f"{net!r} is one of Docker's own networks ({', '.join(RESERVED_NETWORKS)}); "
                "give the lab's network another name",
            )
        out.append(
            NetworkSpec(
                net,
                _encrypted(spec.get("encrypted", False)),
                spec.get("attachable", True),
                bool(spec.get("internal")),
                _checked_labels(spec.get("labels") or {}, ("networks", net, "labels"), r),
                _subnet(spec.get("subnet", ""), ("networks", net, "subnet"), r),
            )
        )
    return out


def _checked_labels(labels: dict, path: Tuple[str, ...], r: _Reader) -> Tuple[Tuple[str, str], ...]:
    for key, value in labels.items():
        msg = grammar.LABEL_KEY.problem(key) or grammar.LABEL_VALUE.problem(_lbl(value))
        if msg:
            r.add(path + (key,), msg)
    return tuple(sorted((str(k), _lbl(v)) for k, v in labels.items()))


def _subnet(text: str, path: Tuple[str, ...], r: _Reader) -> str:
    if not text:
        return ""
    try:
        net = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        r.add(path, f"must be a network in CIDR form (10.20.0.0/24): {exc}")
        return ""
    if net.version != 4 or not net.is_private:
        r.add(path, f"must be a private IPv4 network (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16), got {text}")
    return str(net)


def _stack(
    stack_path: Path,
    stack_name: str,
    env: Dict[str, str],
    nets: List[NetworkSpec],
    nodes: Optional[Tuple[NodeSpec, ...]],
    how: Tuple[bool, str],
    r: _Reader,
    ask_docker: bool = True,
    at: Tuple[str, ...] = ("stack",),
) -> Optional[compose.Prepared]:
    """The stack file, read (bounded), interpolated, its builds resolved, and checked
    against the scenario and the seal (how: host access granted, or a lab read again),
    then by Docker's own loader when asked (a stack about to be deployed); None if unreadable."""
    try:
        stack_data, stack_lines = yamlfile.load(stack_path, "stack file")
    except ConfigError as exc:
        if yamlfile.is_file(stack_path):  # what is wrong is inside it: say where
            r.problems.extend(exc.problems)
        else:
            r.add(
                at + ("file",),
                f"{exc.problems[0].message}: {stack_path}"
                + ("" if os.path.exists(stack_path) else "; the path is relative to the scenario file"),
            )
        return None
    used: Dict[str, str] = {}
    stack_data, found = compose.interpolate(stack_data, env, used=used)
    written = copy.deepcopy(stack_data)  # as written: prepare() drops keys Docker ignores, reads env files
    sealed = [] if how[0] else list(seal.check(stack_data))
    prepared, more = compose.prepare(stack_data, stack_path, stack_name)
    prepared.hidden.update(used)
    node_view = [(n.name, n.role, dict(n.labels)) for n in nodes] if nodes is not None else None
    bad = {p for p, _ in found}  # a value that could not be interpolated is reported once, as that
    ours = found + [
        (p, m)
        for p, m in sealed
        + more
        + list(stack_check.check(stack_data, [n.name for n in nets], node_view, declared_in=how[1]))
        if p not in bad
    ]
    if ask_docker:
        ours += _docker_says(written, prepared, stack_path, stack_name, [n.name for n in nets], ours)
    for p, msg in ours:  # a variable's or env file's value is never shown, its name is
        r.add(p, compose.hide(msg, prepared.hidden), file=str(stack_path), where=stack_lines)
    return prepared


def _docker_says(
    written: Any, prepared: compose.Prepared, stack_path: Path, stack_name: str, nets: List[str], ours: list
) -> list:
    """Docker's verdict: on the file as written, by the controller's client (what a user's
    `docker stack deploy` takes); then, when nothing is wrong, on what swarmlab will deploy,
    by every client version on PATH (the nodes'), whose refusal would be swarmlab's own bug.
    Docker names one problem; it is added where ours do not already say it."""
    workdir = stack_path.parent
    refused, note = docker_check.verdict(compose.for_docker(written, stack_name), workdir)
    prepared.notes += note.splitlines() if not refused else []
    said = docker_check.named_keys(note)
    prepared.notes += compose.ignored_notes(prepared, stack_path, said)
    if refused:
        covered = any(p[: len(refused[0])] == refused[0] or refused[0][: len(p)] == p for p, _ in ours if p)
        return [] if covered else [refused]
    if ours:
        return []
    rendered = stackmod.render(prepared.stack, stack_name, nets, True)
    for client, version in docker_check.clients():
        refused, note = docker_check.verdict(rendered, workdir, client)
        if refused:
            return [
                (
                    refused[0],
                    f"{refused[1]} (docker {version}, on the stack as swarmlab renders it: a swarmlab "
                    "bug, please report it with the file)",
                )
            ]
        if note.startswith(docker_check.NOT_ASKED) or docker_check.named_keys(note) - said:
            prepared.notes += [
                f"{line} (docker {version}, on the stack as swarmlab renders it)" for line in note.splitlines()
            ]
    return []


def _wait(wait: dict, stack_data: Any, stack_path: Path, r: _Reader) -> WaitSpec:
    http = wait.get("http")
    services = (stack_data.get("services") or {}) if isinstance(stack_data, dict) else {}
    if not isinstance(services, dict):
        services = {}
    if http and stack_data is not None and http["service"] not in services:
        r.add(("wait", "http", "service"), f"no service {http['service']!r} in {stack_path}")
    elif http and isinstance(services.get(http["service"]), dict):
        try:
            published = [p.published for p in stackmod.parse_ports(services[http["service"]].get("ports") or [])]
        except (ValueError, TypeError):
            published = None  # already reported against the stack file
        if published is not None and http["port"] not in published:
            r.add(
                ("wait", "http", "port"),
                f"service {http['service']!r} publishes "
                f"{', '.join(map(str, published)) or 'no port'}, not {http['port']}; wait on a published port",
            )
    return WaitSpec(
        timeout=float(wait.get("timeout", 240)),
        http_service=http["service"] if http else None,
        http_port=int(http["port"]) if http else 0,
        http_path=http.get("path", "/") if http else "/",
        ports=bool(wait.get("ports", True)),
    )


def _encrypted(value: Any) -> str:
    if value is True:
        return "true"
    if value is False or value is None:
        return "false"
    return str(value)


def _lbl(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)

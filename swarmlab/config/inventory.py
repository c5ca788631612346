"""SSH inventories (issue #5, first step): the hosts a lab runs on when they are not dind
nodes. Two shapes are read:

- swarmlab's own (`apiVersion: swarmlab/v1`, `kind: Inventory`): strict, unknown keys are
  errors (see inventories/example.yaml, which documents every field);
- an Ansible YAML inventory as ops teams already have it (`all: {hosts, vars, children}`,
  groups `managers` and `workers`): Ansible's own variables (ansible_host, ansible_port,
  ansible_user, ansible_ssh_private_key_file) and swarmlab_* ones are read, anything else
  is left alone, as Ansible would.

Every problem of a file is reported at once with its file, line and path. Host keys must
be pinned (host_key, or a known_hosts file of the inventory's own): trust on first use only
when the caller asks for it explicitly."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from .. import grammar
from ..errors import ConfigError, Problem
from . import stack_check
from .model import NodeSpec
from .schema import API_VERSION, Validator, humanise
from .yamlfile import is_file, line_of, load
from .inventory_check import check_hosts

KIND = "Inventory"
ANSIBLE_TEXT = (
    "ansible_host",
    "ansible_user",
    "ansible_ssh_private_key_file",
    "swarmlab_advertise_addr",
    "swarmlab_data_path_addr",
    "swarmlab_host_key",
)

_host_fields = {
    "address": {"type": "string"},
    "port": {"type": "integer", "minimum": 1, "maximum": 65535},
    "user": {"type": "string"},
    "key_file": {"type": "string"},
    "role": {"enum": ["manager", "worker"]},
    "labels": {"type": "object", "additionalProperties": {"type": ["string", "integer", "boolean"]}},
    "advertise_addr": {"type": "string"},
    "data_path_addr": {"type": "string"},
    "host_key": {"type": "string"},
}

SCHEMA: dict = {
    "type": "object",
    "additionalProperties": False,
    "required": ["apiVersion", "kind", "hosts"],
    "properties": {
        "apiVersion": {"const": API_VERSION},
        "kind": {"const": KIND},
        "name": {"type": "string"},
        "known_hosts": {"type": "string"},
        # where the hosts pull the lab's images from: "host:port", or {address, push}
        "registry": {
            "type": ["string", "object"],
            "additionalProperties": False,
            "required": ["address"],
            "properties": {"address": {"type": "string"}, "push": {"type": "string"}},
        },
        "defaults": {
            "type": "object",
            "additionalProperties": False,
            "properties": {k: _host_fields[k] for k in ("port", "user", "key_file")},
        },
        "hosts": {
            "type": "object",
            "minProperties": 1,
            "additionalProperties": {
                "type": "object",
                "additionalProperties": False,
                "required": ["address", "role"],
                "properties": _host_fields,
            },
        },
    },
}


@dataclass(frozen=True)
class InventoryHost:
    name: str
    address: str
    role: str
    port: int = 22
    user: str = "root"
    key_file: Optional[str] = None
    labels: Tuple[Tuple[str, str], ...] = ()
    advertise_addr: Optional[str] = None
    data_path_addr: Optional[str] = None
    host_key: Optional[str] = None  # "ssh-ed25519 AAAA..." pinned in the inventory


@dataclass(frozen=True)
class Registry:
    """Images go through a registry instead of over SSH: the controller pushes to `push`,
    the hosts pull from `address` (the same place, unless the controller reaches it
    another way: a tunnel, a published port)."""

    address: str
    push: str

    def repo(self, ref: str, at: str) -> str:
        """swarmlab.local/web:bookworm -> <at>/swarmlab/web (the tag and digest go apart)."""
        name = ref.rsplit("/", 1)[-1].split(":", 1)[0]
        return f"{at}/swarmlab/{name}"


@dataclass(frozen=True)
class Inventory:
    path: Path
    hosts: Tuple[InventoryHost, ...]
    known_hosts: Optional[str] = None  # a known_hosts file of the inventory's own
    shape: str = "swarmlab"  # swarmlab | ansible
    name: str = ""
    extra: Dict[str, Any] = field(default_factory=dict)
    registry: Optional[Registry] = None

    @property
    def managers(self) -> List[InventoryHost]:
        return [h for h in self.hosts if h.role == "manager"]


def load_inventory(path, trust_on_first_use: bool = False, engines: bool = False) -> Inventory:
    """engines: the hosts are Docker engines (`room start --engines`), not a swarm's nodes:
    a host of swarmlab's shape needs no role."""
    path = Path(path)
    data, lines = load(path, "inventory")
    if engines:
        data = _as_engines(data)
    shown = str(path)
    problems: List[Problem] = []

    def problem(p: Tuple[str, ...], msg: str) -> None:
        problems.append(Problem(shown, ".".join(p), msg, line_of(lines, p)))

    if not isinstance(data, dict):
        raise ConfigError(
            [
                Problem(
                    shown,
                    "",
                    "an inventory is a mapping: swarmlab's (apiVersion: swarmlab/v1, "
                    "kind: Inventory) or Ansible's (all: {hosts: ...})",
                )
            ],
            "the inventory",
        )
    if "all" in data and "apiVersion" not in data:
        hosts, known_hosts, where = _ansible(data, problem)
        shape = "ansible"
    else:
        for p, msg in _validate(data):
            problem(p, msg)
        if problems:
            raise ConfigError(problems, "the inventory")
        hosts, known_hosts, where = _native(data)
        shape = "swarmlab"
    if problems:  # the shape is wrong: the checks below would only repeat it
        raise ConfigError(problems, "the inventory")
    if not known_hosts and is_file(path.with_suffix(".known_hosts")):
        known_hosts = path.with_suffix(".known_hosts").name  # keys recorded on first use
    managers_at = ("all", "children", "managers") if shape == "ansible" else ("hosts",)
    check_hosts(hosts, where, known_hosts, path.parent, trust_on_first_use, problem, managers_at)
    reg_at = ("all", "vars", "swarmlab_registry") if shape == "ansible" else ("registry",)
    raw = (
        ((data.get("all") or {}).get("vars") or {}).get("swarmlab_registry")
        if shape == "ansible"
        else data.get("registry")
    )
    registry = _registry(raw, reg_at, problem)
    if problems:
        raise ConfigError(problems, "the inventory")
    return Inventory(path, tuple(hosts), known_hosts, shape, str(data.get("name") or path.stem), registry=registry)


def _registry(raw, at: Tuple[str, ...], problem) -> Optional[Registry]:
    if raw is None:
        return None
    short = isinstance(raw, str)
    if short:
        raw = {"address": raw}
    if (
        not isinstance(raw, dict)
        or not isinstance(raw.get("address"), str)
        or set(raw) - {"address", "push"}
        or not isinstance(raw.get("push", ""), str)
    ):
        problem(
            at,
            "must be host:port, or a mapping with address (the hosts pull from it) and optionally "
            "push (where the controller pushes, when it reaches the registry another way)",
        )
        return None
    bad = False
    for key in ("address", "push"):
        value = raw.get(key)
        if value is not None and not grammar.REGISTRY.ok(value):
            problem(
                at if short else at + (key,),
                f"must be a registry's host[:port], like registry.example.com:5000 (no scheme, no path), got {value!r}",
            )
            bad = True
    return None if bad else Registry(raw["address"], raw.get("push") or raw["address"])


def _as_engines(data):
    """Every host of swarmlab's shape without a role given one: an engine has no swarm role,
    and the checks of a swarm's nodes (a manager at least) then hold."""
    hosts = data.get("hosts") if isinstance(data, dict) and "apiVersion" in data else None
    if not isinstance(hosts, dict):
        return data
    given = {n: ({"role": "manager", **h} if isinstance(h, dict) else h) for n, h in hosts.items()}
    return {**data, "hosts": given}


def _validate(data):
    validator = Validator(SCHEMA)
    for err in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        yield from humanise(err)


def _labels(raw) -> Tuple[Tuple[str, str], ...]:
    return tuple(sorted((str(k), str(v).lower() if isinstance(v, bool) else str(v)) for k, v in (raw or {}).items()))


def _native(data) -> Tuple[List[InventoryHost], Optional[str], Dict[str, Tuple[str, ...]]]:
    d = data.get("defaults") or {}
    hosts: List[InventoryHost] = []
    where: Dict[str, Tuple[str, ...]] = {}
    for name, h in data["hosts"].items():
        hosts.append(
            InventoryHost(
                str(name),
                h["address"],
                h["role"],
                h.get("port", d.get("port", 22)),
                h.get("user", d.get("user", "root")),
                h.get("key_file", d.get("key_file")),
                _labels(h.get("labels")),
                h.get("advertise_addr"),
                h.get("data_path_addr"),
                h.get("host_key"),
            )
        )
        where[str(name)] = ("hosts", str(name))
    return hosts, data.get("known_hosts"), where


def _mapping(value, at: Tuple[str, ...], problem, what: str) -> dict:
    """value when it is a mapping (or empty), else {} and a problem saying what belongs there."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        problem(at, f"must be a mapping of {what}, got {type(value).__name__}")
        return {}
    return value


def _ansible(data, problem):
    """all: {vars, hosts, children: {managers: {hosts}, workers: {hosts}}}, as Ansible has it."""
    top = data.get("all")
    if not isinstance(top, dict):
        problem(("all",), "must be a mapping with hosts, vars and children (an Ansible YAML inventory)")
        return [], None, {}
    gvars = _mapping(top.get("vars"), ("all", "vars"), problem, "variables")
    children = _mapping(top.get("children"), ("all", "children"), problem, "groups")
    defs: Dict[str, Tuple[dict, Tuple[str, ...]]] = {}
    for name, hv in _mapping(top.get("hosts"), ("all", "hosts"), problem, "hosts").items():
        at = ("all", "hosts", str(name))
        defs[str(name)] = (_mapping(hv, at, problem, "host variables"), at)
    roles: Dict[str, str] = {}
    for group, role in (("managers", "manager"), ("workers", "worker")):
        g = _mapping(children.get(group), ("all", "children", group), problem, "hosts and vars")
        gv = _mapping(g.get("vars"), ("all", "children", group, "vars"), problem, "variables")
        for name, hv in _mapping(g.get("hosts"), ("all", "children", group, "hosts"), problem, "hosts").items():
            hv = _mapping(hv, ("all", "children", group, "hosts", str(name)), problem, "host variables")
            name = str(name)
            if name in roles and roles[name] != role:
                problem(("all", "children", group, "hosts", name), "is in both managers and workers; keep it in one")
            roles[name] = role
            merged = {**gv, **defs.get(name, ({}, ()))[0], **hv}
            defs[name] = (merged, defs.get(name, (None, ("all", "children", group, "hosts", name)))[1])
    if not children.get("managers"):
        problem(("all", "children"), "no 'managers' group: put the swarm managers under all.children.managers.hosts")
    hosts, where = [], {}
    for name, (hv, p) in defs.items():
        v = {**gvars, **hv}
        if name not in roles:
            problem(p, "is in neither the managers nor the workers group")
            continue
        port = v.get("ansible_port", 22)
        if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
            problem(p + ("ansible_port",), f"must be a port number (1-65535), got {port!r}")
            port = 22
        bad = [k for k in ANSIBLE_TEXT if v.get(k) is not None and not isinstance(v.get(k), str)]
        for k in bad:
            problem(p + (k,), f"must be text, got {type(v[k]).__name__}")
        labels = _mapping(v.get("swarmlab_labels"), p + ("swarmlab_labels",), problem, "labels")
        if bad:
            continue
        hosts.append(
            InventoryHost(
                name,
                v.get("ansible_host", name),
                roles[name],
                port,
                v.get("ansible_user", "root"),
                v.get("ansible_ssh_private_key_file"),
                _labels(labels),
                v.get("swarmlab_advertise_addr"),
                v.get("swarmlab_data_path_addr"),
                v.get("swarmlab_host_key"),
            )
        )
        where[name] = p
    known = gvars.get("swarmlab_known_hosts")
    if known is not None and not isinstance(known, str):
        problem(("all", "vars", "swarmlab_known_hosts"), "must be a file name")
        known = None
    return hosts, known, where


def apply_inventory(scenario, inventory: Inventory):
    """The scenario with its nodes taken from the inventory (names, roles, labels): the
    stack, networks and waits stay the scenario's. The stack's placement constraints are
    checked again against the inventory's labels."""
    return apply_nodes(scenario, [(h.name, h.role, h.labels) for h in inventory.hosts], str(inventory.path))


def apply_nodes(scenario, hosts, source: str):
    """hosts: (name, role, labels) of the machines the lab gets from `source`."""

    nodes = tuple(
        NodeSpec(name, i + 1, role, tuple(labels))
        for i, (name, role, labels) in enumerate(sorted(hosts, key=lambda h: h[1] != "manager"))
    )
    view = [(n.name, n.role, dict(n.labels)) for n in nodes]
    problems = [
        Problem(str(part.file), ".".join(p), msg.replace("the scenario's nodes.labels", f"the labels in {source}"))
        for part in scenario.stacks
        for p, msg in stack_check.check(part.stack, [n.key for n in scenario.networks], view)
    ]
    if problems:
        raise ConfigError(problems, f"the stack against {source}")
    return dataclasses.replace(scenario, nodes=nodes)

"""Every problem of a stack file against its scenario, as (path, message) pairs: the
names (grammar.py), the shapes `docker stack deploy` needs, and placement on the lab's
nodes. What a task may have of its node is seal.py's."""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Optional, Sequence, Tuple

from .. import grammar
from .stack import docker_networks, eval_constraint, parse_ports, service_networks

Found = Iterator[Tuple[Tuple[str, ...], str]]
Nodes = Optional[Sequence[Tuple[str, str, Mapping[str, str]]]]

MAX_REPLICAS = 1000


def check(stack: Any, networks: Sequence[str], nodes: Nodes, declared_in: str = "the scenario's networks") -> Found:
    """nodes: (name, role, labels) of every node the lab will have; None when they come from
    elsewhere (an inventory, Vagrant's lab.yaml) and placement is checked against those."""
    if not isinstance(stack, Mapping):
        yield (), "must be a compose mapping with 'services'"
        return
    services = stack.get("services")
    if not isinstance(services, Mapping) or not services:
        yield ("services",), "must be a mapping of at least one service by name (services: {web: {image: ...}})"
        return
    published: dict = {}
    networks = list(networks) + list(docker_networks(stack))
    for name, svc in services.items():
        base = ("services", str(name))
        msg = grammar.SERVICE.problem(name)
        if msg:
            yield base, msg
            continue
        if not isinstance(svc, Mapping):
            yield base, "must be a mapping"
            continue
        yield from _service(base, svc, networks, published, declared_in)
        yield from _placement(base, svc, nodes)
    yield from _top_level(stack, networks)


def _service(base: Tuple[str, ...], svc: Mapping, networks: Sequence[str], published: dict, declared_in: str) -> Found:
    image = svc.get("image")
    if not isinstance(image, str) or not image:
        yield base + ("image",), "missing: every service needs an image, or a build: section to make it"
    elif problem := grammar.IMAGE.problem(image):
        yield base + ("image",), problem
    nets = svc.get("networks")
    if nets is not None and not isinstance(nets, (list, Mapping)):
        yield base + ("networks",), "must be a list or mapping of network names"
    for net in service_networks(svc):
        if not isinstance(net, str) or net not in networks:
            yield (
                base + ("networks",),
                (
                    f"network {net!r} is not declared in {declared_in} "
                    f"(declared: {', '.join(networks) or 'none'}); declare it there"
                ),
            )
    ports = []
    if svc.get("ports") is not None and not isinstance(svc.get("ports"), list):
        yield base + ("ports",), 'must be a list, e.g. ["8080:8000"]'
    else:
        try:
            ports = parse_ports(svc.get("ports") or [])
        except (ValueError, TypeError) as exc:
            yield base + ("ports",), str(exc)
    for p in (p for p in ports if p.published is not None):
        key = (p.published, p.protocol)
        if key in published:
            yield (
                base + ("ports",),
                (
                    f"port {p.published}/{p.protocol} is already taken by service "
                    f"{published[key]!r}; publish another port"
                ),
            )
        else:
            published[key] = base[-1]
    for kind in ("secrets", "configs"):
        for i, ref in enumerate(_list(svc.get(kind))):
            src = ref.get("source") if isinstance(ref, Mapping) else ref
            msg = (grammar.SECRET if kind == "secrets" else grammar.CONFIG).problem(src)
            if msg:
                yield base + (kind, str(i)), msg


def _placement(base: Tuple[str, ...], svc: Mapping, nodes: Nodes) -> Found:
    deploy = svc.get("deploy") or {}
    if not isinstance(deploy, Mapping):
        yield base + ("deploy",), "must be a mapping"
        return
    replicas = deploy.get("replicas", 1)
    if isinstance(replicas, bool) or not isinstance(replicas, int) or not 0 <= replicas <= MAX_REPLICAS:
        yield base + ("deploy", "replicas"), f"must be a whole number from 0 to {MAX_REPLICAS}, got {replicas!r}"
        return
    placement = deploy.get("placement") or {}
    if not isinstance(placement, Mapping):
        yield base + ("deploy", "placement"), "must be a mapping (constraints, max_replicas_per_node, ...)"
        return
    constraints = placement.get("constraints") or []
    if not isinstance(constraints, list) or not all(isinstance(c, str) for c in constraints):
        yield (
            base + ("deploy", "placement", "constraints"),
            (f'must be a list of expressions, e.g. ["node.labels.tier == app"], got {type(constraints).__name__}'),
        )
        return
    per_node = placement.get("max_replicas_per_node")
    if per_node is not None and (isinstance(per_node, bool) or not isinstance(per_node, int) or per_node < 0):
        yield base + ("deploy", "placement", "max_replicas_per_node"), f"must be a whole number, got {per_node!r}"
        return
    if nodes is None:
        return
    eligible = [n for n in nodes if all(eval_constraint(c, n[0], n[1], n[2]) is not False for c in constraints)]
    if constraints and not eligible:
        yield (
            base + ("deploy", "placement", "constraints"),
            (
                f"no node satisfies {' and '.join(constraints)} "
                f"(nodes: {', '.join(f'{n[0]} {n[1]} {dict(n[2])}' for n in nodes)}); "
                "fix the constraint or the scenario's nodes.labels"
            ),
        )
    elif per_node and replicas > per_node * len(eligible):
        yield (
            base + ("deploy", "replicas"),
            (
                f"{replicas} replicas cannot be placed: at most {per_node} per node on "
                f"{len(eligible)} eligible node(s) ({', '.join(n[0] for n in eligible)})"
            ),
        )


def _top_level(stack: Mapping, networks: Sequence[str]) -> Found:
    top = stack.get("networks") or {}
    if not isinstance(top, Mapping):
        yield ("networks",), "must be a mapping of network names"
    else:
        for net in top:
            if net not in networks:
                yield (
                    ("networks", str(net)),
                    (
                        f"network {net!r} is not declared in the scenario's networks; "
                        "the scenario creates the lab's networks"
                    ),
                )
    for key, rule in (("volumes", grammar.VOLUME), ("secrets", grammar.SECRET), ("configs", grammar.CONFIG)):
        section = stack.get(key) or {}
        if not isinstance(section, Mapping):
            yield (key,), f"must be a mapping of {key} by name"
            continue
        for name, spec in section.items():
            msg = rule.problem(name)
            if not msg and isinstance(spec, Mapping) and spec.get("name") is not None:
                msg = rule.problem(spec.get("name"))
            if msg:
                yield (key, str(name)), msg
            elif spec is not None and not isinstance(spec, Mapping):
                yield (key, str(name)), "must be a mapping (or empty)"


def _list(value: Any) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]

"""The stack file: a normal compose v3 file. Checked against the scenario, and
rendered for the lab (labels, external networks, dnsrr/host ports without IPVS)."""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Tuple

from .. import labels as L

_CONSTRAINT_RE = re.compile(
    r"^\s*node\.(?P<attr>role|hostname|labels\.(?P<label>[^=!\s]+))\s*(?P<op>==|!=)\s*(?P<value>\S+)\s*$")


@dataclass(frozen=True)
class Port:
    published: int
    target: int
    protocol: str = "tcp"
    mode: Optional[str] = None


def parse_ports(entries: Sequence[Any]) -> List[Port]:
    """Compose short ("8080:8000", "8080:8000/udp") and long syntax; raises ValueError."""
    out = []
    for e in entries or []:
        if isinstance(e, Mapping):
            if "target" not in e:
                raise ValueError("a long-syntax port needs 'target'")
            out.append(Port(int(e.get("published", e["target"])), int(e["target"]),
                            str(e.get("protocol", "tcp")), e.get("mode")))
            continue
        text = str(e)
        proto = "tcp"
        if "/" in text:
            text, proto = text.split("/", 1)
        parts = text.split(":")
        if len(parts) == 1:
            raise ValueError(f"port {e!r} publishes nothing; write 'published:target'")
        if len(parts) > 2:
            raise ValueError(f"port {e!r}: host IPs are not supported in a stack; write 'published:target'")
        try:
            out.append(Port(int(parts[0]), int(parts[1]), proto))
        except ValueError:
            raise ValueError(f"port {e!r} is not 'published:target' with numbers") from None
    return out


def service_networks(svc: Mapping[str, Any]) -> List[str]:
    nets = svc.get("networks") or []
    return list(nets) if isinstance(nets, (list, Mapping)) else []


def eval_constraint(expr: str, node_name: str, role: str, node_labels: Mapping[str, str]) -> Optional[bool]:
    """True/False for node.role/hostname/labels constraints; None when it cannot be judged."""
    m = _CONSTRAINT_RE.match(expr)
    if not m:
        return None
    attr, op, value = m.group("attr"), m.group("op"), m.group("value")
    if attr == "role":
        actual: Optional[str] = role
    elif attr == "hostname":
        actual = node_name
    else:
        actual = node_labels.get(m.group("label"))
    equal = actual is not None and str(actual) == value
    return equal if op == "==" else not equal


def is_qualified(image: str) -> bool:
    """True when the name names its registry (so no node looks on a public one)."""
    first = image.split("/", 1)[0]
    return "/" in image and ("." in first or ":" in first or first == "localhost")


def check(stack: Any, networks: Sequence[str],
          nodes: Optional[Sequence[Tuple[str, str, Mapping[str, str]]]]) -> Iterator[Tuple[Tuple[str, ...], str]]:
    """(path, message) for every problem of the stack against the scenario.

    nodes: (name, role, labels) of every node the lab will have; None when they come from
    elsewhere (an inventory, Vagrant's lab.yaml) and placement is checked against those."""
    if not isinstance(stack, Mapping):
        yield (), "must be a compose mapping with 'services'"
        return
    services = stack.get("services")
    if not isinstance(services, Mapping) or not services:
        yield ("services",), "must declare at least one service"
        return
    published: Dict[Tuple[int, str], str] = {}
    for name, svc in services.items():
        base = ("services", str(name))
        if not isinstance(svc, Mapping):
            yield base, "must be a mapping"
            continue
        image = svc.get("image")
        if not isinstance(image, str) or not image:
            yield base + ("image",), "missing: every service needs an image (build: is not supported by stacks)"
        elif not is_qualified(image):
            yield base + ("image",), (f"{image!r} is not fully qualified, so nodes would look for it on a public "
                                      "registry; name its registry, e.g. swarmlab.local/<name>:<tag>")
        nets = svc.get("networks")
        if nets is not None and not isinstance(nets, (list, Mapping)):
            yield base + ("networks",), "must be a list or mapping of network names"
        for net in service_networks(svc):
            if net not in networks:
                yield base + ("networks",), (f"network {net!r} is not declared in the scenario's networks "
                                             f"(declared: {', '.join(networks) or 'none'}); declare it there")
        try:
            ports = parse_ports(svc.get("ports") or [])
        except (ValueError, TypeError) as exc:
            yield base + ("ports",), str(exc)
            ports = []
        for p in ports:
            key = (p.published, p.protocol)
            if key in published:
                yield base + ("ports",), (f"port {p.published}/{p.protocol} is already taken by service "
                                          f"{published[key]!r}; publish another port")
            else:
                published[key] = str(name)
        deploy = svc.get("deploy") or {}
        if not isinstance(deploy, Mapping):
            yield base + ("deploy",), "must be a mapping"
            continue
        placement = deploy.get("placement") or {}
        constraints = placement.get("constraints") or [] if isinstance(placement, Mapping) else []
        if nodes is None:
            continue
        eligible = [n for n in nodes
                    if all(eval_constraint(c, n[0], n[1], n[2]) is not False for c in constraints)]
        if constraints and not eligible:
            yield base + ("deploy", "placement", "constraints"), (
                f"no node satisfies {' and '.join(map(str, constraints))} "
                f"(nodes: {', '.join(f'{n[0]} {n[1]} {dict(n[2])}' for n in nodes)}); "
                "fix the constraint or the scenario's nodes.labels")
            continue
        replicas = deploy.get("replicas", 1)
        if not isinstance(replicas, int) or replicas < 0:
            yield base + ("deploy", "replicas"), f"must be a whole number, got {replicas!r}"
            continue
        per_node = placement.get("max_replicas_per_node") if isinstance(placement, Mapping) else None
        if isinstance(per_node, int) and per_node > 0 and replicas > per_node * len(eligible):
            yield base + ("deploy", "replicas"), (
                f"{replicas} replicas cannot be placed: at most {per_node} per node on "
                f"{len(eligible)} eligible node(s) ({', '.join(n[0] for n in eligible)})")
    top = stack.get("networks") or {}
    if isinstance(top, Mapping):
        for net in top:
            if net not in networks:
                yield ("networks", str(net)), (f"network {net!r} is not declared in the scenario's networks; "
                                                "the scenario creates the lab's networks")


def constraints_of(svc: Mapping[str, Any]) -> List[str]:
    deploy = svc.get("deploy") or {}
    placement = deploy.get("placement") or {} if isinstance(deploy, Mapping) else {}
    return list(placement.get("constraints") or []) if isinstance(placement, Mapping) else []


def images_for_node(stack: Mapping[str, Any], node: str, role: str, node_labels: Mapping[str, str]) -> List[str]:
    """The images of every service that may run on this node (its constraints allow it)."""
    out = set()
    for svc in (stack.get("services") or {}).values():
        if all(eval_constraint(c, node, role, node_labels) is not False for c in constraints_of(svc)):
            out.add(svc["image"])
    return sorted(out)


def external_secrets(stack: Mapping[str, Any]) -> List[str]:
    """Names of the external secrets the stack expects (swarmlab generates them)."""
    out = []
    for key, spec in (stack.get("secrets") or {}).items():
        if isinstance(spec, Mapping) and spec.get("external"):
            out.append(str(spec.get("name") or key))
    return out


def render(stack: Mapping[str, Any], lab: str, networks: Sequence[str], ipvs: bool) -> Dict[str, Any]:
    """The stack as deployed in the lab.

    - every service, network reference and volume carries the lab label;
    - the scenario's networks are made external (swarmlab creates them, with encryption);
    - without IPVS: endpoint_mode dnsrr and host-mode ports (no VIP, no routing mesh).
    """
    out = copy.deepcopy(dict(stack))
    out.setdefault("version", "3.8")
    stamp = {L.LAB: lab, L.ROLE: "service"}
    for svc in (out.get("services") or {}).values():
        deploy = svc.setdefault("deploy", {})
        deploy["labels"] = {**_as_map(deploy.get("labels")), **stamp}
        svc["labels"] = {**_as_map(svc.get("labels")), **stamp}
        if not ipvs:
            deploy["endpoint_mode"] = "dnsrr"
            if svc.get("ports"):
                svc["ports"] = [
                    {"target": p.target, "published": p.published, "protocol": p.protocol, "mode": "host"}
                    for p in parse_ports(svc["ports"])]
    out["networks"] = {n: {"external": True, "name": n} for n in networks
                       if any(n in service_networks(s) for s in (out.get("services") or {}).values())}
    vols = out.get("volumes") or {}
    for name in list(vols):
        spec = dict(vols[name] or {})
        if not spec.get("external"):
            spec["labels"] = {**_as_map(spec.get("labels")), L.LAB: lab, L.ROLE: "volume"}
        vols[name] = spec
    if vols:
        out["volumes"] = vols
    return out


def _as_map(value: Any) -> Dict[str, str]:
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list):
        return dict(str(x).split("=", 1) if "=" in str(x) else (str(x), "") for x in value)
    return {}

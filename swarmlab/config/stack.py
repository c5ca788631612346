"""The stack file: a normal compose v3 file. Checked against the scenario, and
rendered for the lab (labels, external networks, dnsrr/host ports without IPVS)."""
from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional, Sequence

from .. import labels as L

_CONSTRAINT_RE = re.compile(
    r"^\s*node\.(?P<attr>role|hostname|labels\.(?P<label>[^=!\s]+))\s*(?P<op>==|!=)\s*(?P<value>\S+)\s*$")


PROTOCOLS = ("tcp", "udp", "sctp")


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
            out.append(_port(e.get("published", e["target"]), e["target"], e.get("protocol", "tcp"),
                             e.get("mode"), e))
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
        if not (parts[0].isdigit() and parts[1].isdigit()):
            raise ValueError(f"port {e!r} is not 'published:target' with numbers")
        out.append(_port(int(parts[0]), int(parts[1]), proto, None, e))
    return out


def _port(published: Any, target: Any, proto: Any, mode: Any, shown: Any) -> Port:
    published, target = (int(v) if isinstance(v, str) and v.isdigit() and len(v) <= 5 else v
                         for v in (published, target))
    for value in (published, target):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
            raise ValueError(f"port {shown!r}: {value!r} is not a port number (1-65535)")
    if proto not in PROTOCOLS:
        raise ValueError(f"port {shown!r}: protocol must be one of {', '.join(PROTOCOLS)}, got {proto!r}")
    if mode not in (None, "host", "ingress"):
        raise ValueError(f"port {shown!r}: mode must be host or ingress, got {mode!r}")
    return Port(published, target, proto, mode)


DEFAULT_NETWORK = "default"   # where stack deploy puts a service that names no network


def service_networks(svc: Mapping[str, Any], lab_networks: Sequence[str] = ()) -> List[str]:
    """The networks a service is on; a service naming none is on the lab's `default`
    network, if the lab has one (a lab made from a stack file alone does)."""
    nets = svc.get("networks") or []
    nets = list(nets) if isinstance(nets, (list, Mapping)) else []
    return nets or ([DEFAULT_NETWORK] if DEFAULT_NETWORK in lab_networks else [])


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
        deploy = svc["deploy"] = dict(svc.get("deploy") or {})   # `deploy:` with nothing under it is null
        deploy["labels"] = {**_as_map(deploy.get("labels")), **stamp}
        svc["labels"] = {**_as_map(svc.get("labels")), **stamp}
        if not ipvs:
            deploy["endpoint_mode"] = "dnsrr"
        if svc.get("ports"):   # long syntax with numbers: what every stack deploy version reads
            svc["ports"] = [{"target": p.target, "published": p.published, "protocol": p.protocol,
                             "mode": p.mode or "ingress" if ipvs else "host"}
                            for p in parse_ports(svc["ports"])]
    out["networks"] = {n: {"external": True, "name": n} for n in networks
                       if any(n in service_networks(s, networks) for s in (out.get("services") or {}).values())}
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

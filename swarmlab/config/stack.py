"""The stack file: a normal compose v3 file. Checked against the scenario, and
rendered for the lab (labels, external networks, dnsrr/host ports without IPVS)."""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from .. import labels as L

_CONSTRAINT_RE = re.compile(
    r"^\s*node\.(?P<attr>role|hostname|labels\.(?P<label>[^=!\s]+))\s*(?P<op>==|!=)\s*(?P<value>\S+)\s*$"
)


PROTOCOLS = ("tcp", "udp", "sctp")


@dataclass(frozen=True)
class Port:
    published: Optional[int]  # None: Swarm chooses one (30000-32767), as for a bare container port
    target: int
    protocol: str = "tcp"
    mode: Optional[str] = None
    host_ip: str = ""  # written in the file; Swarm publishes on every address, so it is dropped


_SHORT = re.compile(
    r"^(?:(?P<ip>\[[0-9A-Fa-f:.]+\]|[0-9.]+):)??(?:(?P<published>[0-9]*(?:-[0-9]+)?):)?"
    r"(?P<target>[0-9]+(?:-[0-9]+)?)$"
)


def parse_ports(entries: Sequence[Any]) -> List[Port]:
    """Compose short syntax as Docker reads it ("80", "8080:80", "127.0.0.1:8080:80",
    "9000-9001:9000-9001", with /udp or /sctp) and long syntax; raises ValueError."""
    out: List[Port] = []
    for e in entries or []:
        if isinstance(e, Mapping):
            if "target" not in e:
                raise ValueError("a long-syntax port needs 'target'")
            out.append(_port(e.get("published"), e["target"], e.get("protocol", "tcp"), e.get("mode"), e))
            continue
        text, _, proto = str(e).partition("/")
        m = _SHORT.match(text)
        if not m or not m.group("target"):
            raise ValueError(f"port {e!r} is not [ip:][published:]target with numbers (ranges a-b allowed)")
        targets = _range(m.group("target"), e)
        published = _range(m.group("published"), e) if m.group("published") else [None] * len(targets)
        if len(published) != len(targets):
            raise ValueError(f"port {e!r}: the published and target ranges differ in length")
        ip = (m.group("ip") or "").strip("[]")
        out += [_port(p, t, proto or "tcp", None, e, ip) for p, t in zip(published, targets)]
    return out


def _range(text: str, shown: Any) -> List[int]:
    first, _, last = text.partition("-")
    lo, hi = int(first[:6] or 0), int((last or first)[:6] or 0)
    if hi < lo or hi - lo > 1000:
        raise ValueError(f"port {shown!r}: {text!r} is not a range of at most 1000 ports")
    return list(range(lo, hi + 1))


def _port(published: Any, target: Any, proto: Any, mode: Any, shown: Any, host_ip: str = "") -> Port:
    published, target = (
        int(v) if isinstance(v, str) and v.isdigit() and len(v) <= 5 else v for v in (published, target)
    )
    for value in (target,) if published is None else (published, target):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 65535:
            raise ValueError(f"port {shown!r}: {value!r} is not a port number (1-65535)")
    if proto not in PROTOCOLS:
        raise ValueError(f"port {shown!r}: protocol must be one of {', '.join(PROTOCOLS)}, got {proto!r}")
    if mode not in (None, "host", "ingress"):
        raise ValueError(f"port {shown!r}: mode must be host or ingress, got {mode!r}")
    return Port(published, target, proto, mode, host_ip)


DEFAULT_NETWORK = "default"  # where stack deploy puts a service that names no network


def service_networks(svc: Mapping[str, Any], lab_networks: Sequence[str] = ()) -> List[str]:
    """The networks a service is on; a service naming none is on the lab's `default`
    network, if the lab has one (a lab made from a stack file alone does)."""
    nets = svc.get("networks") or []
    nets = list(nets) if isinstance(nets, (list, Mapping)) else []
    return nets or ([DEFAULT_NETWORK] if DEFAULT_NETWORK in lab_networks else [])


DOCKER_NETWORKS = ("host", "bridge")  # Docker's own, which a stack may name as external networks


def docker_networks(stack: Mapping[str, Any]) -> Dict[str, str]:
    """The stack's external networks that are Docker's own (`host`, `bridge`): its name for
    each -> Docker's. They are used as they are, never made by the lab."""
    top = stack.get("networks") if isinstance(stack, Mapping) else None
    out = {}
    for key, spec in top.items() if isinstance(top, Mapping) else ():
        ext = spec.get("external") if isinstance(spec, Mapping) else None
        if not ext:
            continue
        name = spec.get("name") or (ext.get("name") if isinstance(ext, Mapping) else None) or key
        if name in DOCKER_NETWORKS:
            out[str(key)] = str(name)
    return out


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


def rename_host(constraint: str, names: Mapping[str, str]) -> str:
    """A `node.hostname ==/!= X` constraint with X renamed as `names` says (a copy of a
    lab names its nodes anew); any other constraint as it is."""
    m = _CONSTRAINT_RE.match(constraint)
    if not m or m.group("attr") != "hostname" or m.group("value") not in names:
        return constraint
    return constraint[: m.start("value")] + names[m.group("value")] + constraint[m.end("value") :]


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


def render(
    stack: Mapping[str, Any],
    lab: str,
    networks: Union[Sequence[str], Mapping[str, str]],
    ipvs: bool,
    taken: Iterable[int] = (),
) -> Dict[str, Any]:
    """The stack as deployed in the lab.

    - every service, network reference and volume carries the lab label;
    - the scenario's networks are made external (swarmlab creates them, with encryption),
      networks: the stack's name of each -> its name on the engine (or names, the same);
    - without IPVS: endpoint_mode dnsrr and host-mode ports (no VIP, no routing mesh);
      taken: ports the lab's other stacks publish, never chosen for a bare port here.
    """
    names = dict(networks) if isinstance(networks, Mapping) else {n: n for n in networks}
    out = copy.deepcopy(dict(stack))
    out["version"] = file_version(out.get("version"))
    stamp = {L.LAB: lab, L.ROLE: "service"}
    chosen = _port_chooser(out.get("services") or {}, taken)
    for svc in (out.get("services") or {}).values():
        deploy = svc["deploy"] = dict(svc.get("deploy") or {})  # `deploy:` with nothing under it is null
        deploy["labels"] = {**_as_map(deploy.get("labels")), **stamp}
        svc["labels"] = {**_as_map(svc.get("labels")), **stamp}
        if not ipvs:
            deploy["endpoint_mode"] = "dnsrr"
        if svc.get("ports"):  # long syntax with numbers: what every stack deploy version reads
            svc["ports"] = [
                {
                    "target": p.target,
                    **({"published": p.published or chosen(p)} if p.published or not ipvs else {}),
                    "protocol": p.protocol,
                    "mode": p.mode or "ingress" if ipvs else "host",
                }
                for p in parse_ports(svc["ports"])
            ]
    names.update(docker_networks(stack))
    out["networks"] = {
        key: {"external": True, "name": name}
        for key, name in names.items()
        if any(key in service_networks(s, list(names)) for s in (out.get("services") or {}).values())
    }
    vols = out.get("volumes") or {}
    for name in list(vols):
        spec = dict(vols[name] or {})
        if not spec.get("external"):
            spec["labels"] = {**_as_map(spec.get("labels")), L.LAB: lab, L.ROLE: "volume"}
        vols[name] = spec
    if vols:
        out["volumes"] = vols
    return out


SWARM_PORTS = range(30000, 32768)  # where Swarm's ingress publishes a port the file leaves to it


def publishes(stack: Mapping[str, Any]) -> List[Tuple[str, int, str]]:
    """(service, port, protocol) of every port a stack publishes on a number it states."""
    out: List[Tuple[str, int, str]] = []
    services = stack.get("services") if isinstance(stack, Mapping) else None
    for name, svc in services.items() if isinstance(services, Mapping) else ():
        if not isinstance(svc, Mapping):
            continue  # reported against the stack file
        try:
            out += [(str(name), p.published, p.protocol) for p in parse_ports(svc.get("ports") or []) if p.published]
        except (ValueError, TypeError):
            pass  # reported against the stack file
    return out


def published_ports(stack: Mapping[str, Any]) -> List[int]:
    return [port for _, port, _ in publishes(stack)]


def _port_chooser(services: Mapping[str, Any], taken: Iterable[int] = ()):
    """A bare container port without IPVS: host mode, where Swarm would give each task an
    ephemeral port of its node; the port is chosen here instead, as Swarm's ingress would
    choose it (the lowest free one of 30000-32767), so every task, check and URL agrees."""
    used = set(taken) | set(published_ports({"services": services}))
    free = (p for p in SWARM_PORTS if p not in used)
    return lambda port: next(free)


RENDERED_VERSION = (3, 8)  # long-form ports (3.2), endpoint_mode (3.3), network and volume name: (3.5)


def file_version(written: Any) -> str:
    """The version the rendered file declares: the one written when it holds what swarmlab
    writes (3.8 and up: 20.10 reads up to 3.9), else 3.8; a file with none (compose-spec)
    gets 3.8 too, since the nodes' 20.10 refuses a file without one."""
    m = re.fullmatch(r"3(?:\.(\d+))?", str(written).strip()) if written is not None else None
    if m and (3, int(m.group(1) or 0)) >= RENDERED_VERSION:
        return str(written).strip()
    return "%d.%d" % RENDERED_VERSION


def _key_value(text: str) -> Tuple[str, str]:
    key, _, value = text.partition("=")
    return key, value


def _as_map(value: Any) -> Dict[str, str]:
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list):
        return dict(_key_value(str(x)) for x in value)
    return {}

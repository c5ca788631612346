"""Everything a lab's manager knows of it, as Docker's own inspect records: the nodes, the
networks its services use (the lab's and any made by hand), the services, their configs
with their content, and where each service's tasks run. `model` normalizes these for
`diff`; `imports` writes a lab from them. Secrets are read by name only: Docker never
gives a secret's value back, and nothing here asks for it."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional

from .. import labels as L
from ..errors import SwarmlabError
from ..providers.base import Host, name_of
from .running import Lab, SwarmReader


@dataclass
class Specs:
    nodes: List[dict]  # `docker node inspect`, each with "name": the lab's name for it
    networks: List[dict]  # `docker network inspect`
    services: List[dict]  # `docker service inspect`
    configs: Dict[str, bytes] = field(default_factory=dict)  # config name -> its content
    where: Dict[str, List[str]] = field(default_factory=dict)  # service name -> the nodes of its tasks

    @property
    def network_names(self) -> Dict[str, str]:
        """Network id -> name (a stack's network by its name in the stack)."""
        return {n.get("Id", ""): network_name(n) for n in self.networks}


def short_name(name: str, labels: Optional[Mapping[str, str]]) -> str:
    """A service's or network's name without the stack's prefix where a stack made it
    (`shop_front` is `front` of the stack shop): a copy's stack makes it again under its own."""
    stack = (labels or {}).get(L.STACK, "")
    return name[len(stack) + 1 :] if stack and name.startswith(stack + "_") else name


def network_name(info: Mapping[str, Any]) -> str:
    return short_name(info.get("Name", ""), info.get("Labels"))


def _inspect(t, kind: str, names: List[str]) -> List[dict]:
    if not names:
        return []
    r = t.run(["docker", kind, "inspect", names], timeout=60, warn=True)
    return json.loads(r.stdout) if r.ok and r.stdout.strip() else []


def _service_network_ids(services: List[dict]) -> List[str]:
    out: List[str] = []
    for s in services:
        for n in ((s.get("Spec") or {}).get("TaskTemplate") or {}).get("Networks") or []:
            if n.get("Target") and n["Target"] not in out:
                out.append(n["Target"])
    return out


def _config_names(services: List[dict]) -> List[str]:
    names = set()
    for s in services:
        container = ((s.get("Spec") or {}).get("TaskTemplate") or {}).get("ContainerSpec") or {}
        names |= {c.get("ConfigName", "") for c in container.get("Configs") or []}
    return sorted(n for n in names if n)


def _read(t, swarm: SwarmReader, hosts: List[Host], services: List[str], lab_networks: List[str]) -> Specs:
    nodes = _inspect(t, "node", t.run(["docker", "node", "ls", "-q"], timeout=30).stdout.split())
    for n in nodes:
        n["name"] = name_of(hosts, (n.get("Description") or {}).get("Hostname", ""))
    specs = _inspect(t, "service", services)
    seen: Dict[str, dict] = {}
    for n in _inspect(t, "network", lab_networks + _service_network_ids(specs)):
        if n.get("Name") != "ingress":  # Docker's own routing mesh, in every swarm
            seen.setdefault(n.get("Id", ""), n)
    configs = {
        c["Spec"]["Name"]: base64.b64decode((c.get("Spec") or {}).get("Data") or "")
        for c in _inspect(t, "config", _config_names(specs))
        if (c.get("Spec") or {}).get("Name")
    }
    where: Dict[str, List[str]] = {}
    for task in swarm.tasks(services) if services else []:
        where.setdefault(task.name.rsplit(".", 1)[0], []).append(task.node)
    networks = sorted(seen.values(), key=lambda n: n.get("Name", ""))  # the same files however read
    return Specs(nodes, networks, specs, configs, where)


def read_specs(lab: Lab) -> Specs:
    """The lab as its leader sees it now: its services and the networks they use. Where
    the swarm is the lab's own (its nodes were made for it), every service in it, those
    made by hand too (a stack deployed, a `docker service create`); on hosts a lab shares
    (an inventory's), the services swarmlab made."""
    t = lab.need_leader().transport
    services = (
        t.run(["docker", "service", "ls", "--format", "{{.Name}}"], timeout=30).stdout.split()
        if lab.provider.supports("own_swarm")
        else lab.swarm.service_names()
    )
    return _read(t, lab.swarm, lab.hosts, services, [n.name for n in lab.swarm.networks()])


def read_swarm(t) -> Specs:
    """A whole swarm as the manager behind transport t sees it (one swarmlab did not make:
    every service, the networks they use; nodes by their hostnames)."""
    info = t.run(["docker", "info", "--format", "{{json .Swarm}}"], timeout=30, warn=True)
    swarm = json.loads(info.stdout) if info.ok and info.stdout.strip().startswith("{") else None
    if not info.ok:
        raise SwarmlabError(f"the docker engine at {t.host} does not answer: {info.stderr.strip()[:300]}")
    if not swarm or swarm.get("LocalNodeState") != "active":
        raise SwarmlabError(f"the docker engine at {t.host} is not in a swarm")
    if not swarm.get("ControlAvailable"):
        raise SwarmlabError(f"the docker engine at {t.host} is a worker: give a manager's")
    manager = Host("manager", "", "manager", t)
    services = t.run(["docker", "service", "ls", "--format", "{{.Name}}"], timeout=30).stdout.split()
    return _read(t, SwarmReader("", manager, []), [], services, [])

"""What a running lab looks like, read from its swarm: services, their tasks and the
addresses each task has on each network, the networks (VXLAN id, encryption), the nodes.
Checks are derived from this, never hard-coded to a particular stack."""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Dict, List, Optional, Set, Tuple

from .. import enter
from .settle import jobs_done
from ..providers.base import Host

if TYPE_CHECKING:
    from .running import Lab, NodeView


@dataclass
class Task:
    name: str  # app_web.1.<id> (also its container's name)
    service: str
    node: str  # node-1
    ips: Dict[str, str] = field(default_factory=dict)  # network -> address


@dataclass
class Service:
    name: str  # app_web
    short: str  # web (the name other services use)
    networks: List[str]
    endpoint_mode: str
    published: List[dict]  # {"published", "target", "protocol", "mode"}
    ports: List[int]  # every TCP port it listens on (read from a task; else targets + EXPOSE)
    replicas: Optional[int]
    tasks: List[Task] = field(default_factory=list)
    image: str = ""
    own_command: bool = False  # the stack overrides the image's command or entrypoint
    udp_ports: List[int] = field(default_factory=list)
    ports_from: str = "the stack file and the image"
    completed: int = 0  # its tasks that ran to the end (exit 0) and stay done: a one-shot job

    @property
    def on_host_network(self) -> bool:
        """On Docker's host network: its tasks have their node's network, resolver and ports."""
        return self.docker_network == "host"

    @property
    def docker_network(self) -> str:
        """The Docker network of its own it is on (host, bridge), whose tasks get no Swarm names."""
        return next((n for n in ("host", "bridge") if n in self.networks), "")


@dataclass
class Network:
    name: str
    vni: int
    encrypted: bool
    requested: str
    reason: str
    subnet: str


@dataclass
class Topology:
    lab: str
    stack: str
    hosts: Dict[str, Host]
    services: Dict[str, Service]
    networks: Dict[str, Network]
    nodes: List["NodeView"]

    def leader(self) -> Host:
        return next(h for h in self.hosts.values() if h.role == "manager" and h.state == "running")

    def pair_across_hosts(
        self, net: str, client: Optional[str] = None, server: Optional[str] = None
    ) -> Optional[Tuple[Task, Task]]:
        """Two tasks on `net` on different nodes (of the services with these short names, if given)."""

        def on(short):
            return [t for s in self.services.values() if short in (None, s.short) for t in s.tasks if net in t.ips]

        for a, b in itertools.product(on(client), on(server)):
            if a.node != b.node:
                return a, b
        return None


def read(handle: "Lab", intended: Optional[Dict[str, List[str]]] = None, stacks: Tuple[str, ...] = ()) -> Topology:
    """intended: service (app_web) -> the networks its stack file gives it. Checks expect
    what the stack file says, so a service moved off a network is caught. stacks: stacks
    a trainee deployed by hand, read beside the lab's own services and networks.

    Task addresses come from the swarm's task records, which every manager holds: a
    network's own view (`network inspect --verbose`) lists only the tasks the inspecting
    node has learnt of by gossip, none on a network it has no task on."""
    swarm, hosts = (handle.reader(stacks=stacks) if stacks else handle.swarm), handle.running
    by_name = {h.name: h for h in hosts}
    networks = {
        n.name: Network(
            n.name, int((n.vni or "0").split(",")[0]), n.encrypted, n.requested, n.reason, n.subnet.split(", ")[0]
        )
        for n in swarm.networks()
    }
    services: Dict[str, Service] = {}
    views = swarm.services()
    shared = {v.short for v in views if sum(w.short == v.short for w in views) > 1}
    for view in views:
        nets = list(intended[view.name]) if intended and view.name in intended else list(view.networks)
        published = [
            {"published": p.published, "target": p.target, "protocol": p.protocol, "mode": p.mode} for p in view.ports
        ]
        services[view.name] = Service(
            view.name,
            view.name if view.short in shared else view.short,  # two stacks' web: shop_web, tools_web
            nets,
            view.endpoint_mode,
            published,
            sorted({p.target for p in view.ports if p.protocol == "tcp"}),
            view.replicas,
            image=view.image,
            own_command=view.own_command,
        )
    # every running task, attached to a network or not (a service moved off its networks
    # still has tasks; they just have no address there): every service's in one command
    tasks = swarm.tasks(list(services)) if services else []
    if services and not tasks:  # one service gone since it was listed fails the whole command
        tasks = [t for name in services for t in swarm.tasks(name)]
    running = [t for t in tasks if t.running]
    addresses = swarm.task_addresses([t.id for t in running])
    for t in running:
        svc = services.get(t.name.rsplit(".", 1)[0])
        if svc is not None:
            ips = {net: ip for net, ip in addresses.get(t.id, {}).items() if net in networks}
            svc.tasks.append(Task(f"{t.name}.{t.id}", svc.name, t.node, ips))
    waiting = {s.name: s.replicas for s in services.values() if not s.tasks and s.replicas}
    for name in jobs_done(swarm, waiting) if waiting else ():  # a one-shot job, done: as up judged it
        services[name].completed = waiting[name]
    _listening_ports(services, by_name)
    stack = next((v.stack for v in views if v.stack and v.stack not in stacks), "")
    return Topology(handle.name, stack, by_name, services, networks, swarm.nodes())


def parse_listening(text: str) -> Dict[str, Set[int]]:
    """{"tcp": ports, "udp": ports} from `ss -Hltnu`, without sockets bound to loopback
    only (Docker's DNS listens on 127.0.0.11 in every task; nothing else can reach those)."""
    out: Dict[str, Set[int]] = {"tcp": set(), "udp": set()}
    for line in text.splitlines():
        cols = line.split()
        if len(cols) < 5 or cols[0] not in out:
            continue
        addr, _, port = cols[4].rpartition(":")
        addr = addr.strip("[]").split("%")[0]
        if not port.isdigit() or addr.startswith("127.") or addr == "::1":
            continue
        out[cols[0]].add(int(port))
    return out


def _listening_ports(services: Dict[str, Service], hosts: Dict[str, Host]) -> None:
    """What each service really listens on, read from one of its tasks' network namespace
    on its node (ss via nsenter, the node's own tools): ports nobody declared are probed
    too. A task whose sockets cannot be read keeps what the file and image declare."""

    def read_one(svc: Service) -> None:
        host = hosts.get(svc.tasks[0].node)
        if host is None:
            return
        r = host.transport.run(enter.in_net(svc.tasks[0].name, "ss -Hltnu"), warn=True, timeout=20)
        if r.ok:
            found = parse_listening(r.stdout)
            svc.ports, svc.udp_ports = sorted(found["tcp"]), sorted(found["udp"])
            svc.ports_from = "listening sockets"
        else:
            _exposed_ports(svc, host)

    with ThreadPoolExecutor(max_workers=max(1, len(services))) as pool:
        list(pool.map(read_one, [s for s in services.values() if s.tasks]))


def _exposed_ports(svc: Service, host: Host) -> None:
    """Add the service image's EXPOSE'd TCP ports (internal ports the stack does not publish)."""
    r = host.transport.run(
        ["docker", "inspect", "--format", "{{json .Config.ExposedPorts}}", svc.tasks[0].name], warn=True
    )
    if r.ok and r.stdout.strip() not in ("", "null"):
        for key in json.loads(r.stdout):
            port, _, proto = key.partition("/")
            if proto == "tcp":
                svc.ports = sorted(set(svc.ports) | {int(port)})

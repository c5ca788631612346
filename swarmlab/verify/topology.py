"""What a running lab looks like, read from its swarm: services, their tasks and the
addresses each task has on each network, the networks (VXLAN id, encryption), the nodes.
Checks are derived from this, never hard-coded to a particular stack."""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Optional, Set, Tuple

from .. import labels as L
from ..providers.base import Host, name_of
from ..shell import label_filter, sh


@dataclass
class Task:
    name: str                 # app_web.1.<id> (also its container's name)
    service: str
    node: str                 # node-1
    ips: Dict[str, str] = field(default_factory=dict)   # network -> address


@dataclass
class Service:
    name: str                 # app_web
    short: str                # web (the name other services use)
    networks: List[str]
    endpoint_mode: str
    published: List[dict]     # {"published", "target", "protocol", "mode"}
    ports: List[int]          # every TCP port it listens on (read from a task; else targets + EXPOSE)
    replicas: Optional[int]
    tasks: List[Task] = field(default_factory=list)
    image: str = ""
    own_command: bool = False  # the stack overrides the image's command or entrypoint
    udp_ports: List[int] = field(default_factory=list)
    ports_from: str = "the stack file and the image"


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
    nodes: List[dict]

    def leader(self) -> Host:
        return next(h for h in self.hosts.values() if h.role == "manager" and h.state == "running")

    def pair_across_hosts(self, net: str, client: Optional[str] = None,
                          server: Optional[str] = None) -> Optional[Tuple[Task, Task]]:
        """Two tasks on `net` on different nodes (of the services with these short names, if given)."""
        def on(short):
            return [t for s in self.services.values() if short in (None, s.short) for t in s.tasks if net in t.ips]
        for a, b in itertools.product(on(client), on(server)):
            if a.node != b.node:
                return a, b
        return None


def read(lab: str, hosts: List[Host], intended: Optional[Dict[str, List[str]]] = None) -> Topology:
    """intended: service short name -> the networks its stack file gives it. Checks expect
    what the stack file says, so a service moved off a network is caught."""
    by_name = {h.name: h for h in hosts}
    leader = next(h for h in hosts if h.role == "manager" and h.state == "running")
    t = leader.transport
    nodes = [json.loads(x) for x in t.run("docker node ls --format '{{json .}}'").stdout.splitlines() if x.strip()]
    net_names = t.run(["docker", "network", "ls", label_filter(L.LAB, lab), "--format", "{{.Name}}"]).stdout.split()
    networks: Dict[str, Network] = {}
    net_by_id: Dict[str, str] = {}
    tasks: Dict[str, Task] = {}
    for name in net_names:
        info = json.loads(t.run(["docker", "network", "inspect", "--verbose", name]).stdout)[0]
        net_by_id[info["Id"]] = name
        opts, lbl = info.get("Options") or {}, info.get("Labels") or {}
        cfg = (info.get("IPAM") or {}).get("Config") or [{}]
        networks[name] = Network(name, int(opts.get("com.docker.network.driver.overlay.vxlanid_list", "0").split(",")[0]),
                                 "encrypted" in opts, lbl.get(L.ENCRYPTION_REQUESTED, ""),
                                 lbl.get(L.ENCRYPTION_REASON, ""), cfg[0].get("Subnet", ""))
        for svc, data in (info.get("Services") or {}).items():
            for tk in data.get("Tasks") or []:
                node = next((h.name for h in hosts if tk.get("Info", {}).get("Host IP") in (h.data_addr, h.swarm_addr)), "?")
                task = tasks.setdefault(tk["Name"], Task(tk["Name"], svc, node))
                task.ips[name] = tk["EndpointIP"]
    svc_names = t.run(["docker", "service", "ls", label_filter(L.LAB, lab), "--format", "{{.Name}}"]).stdout.split()
    specs = json.loads(t.run(["docker", "service", "inspect", svc_names]).stdout) if svc_names else []
    services: Dict[str, Service] = {}
    stack = ""
    for spec in specs:
        s = spec["Spec"]
        stack = s.get("Labels", {}).get("com.docker.stack.namespace", stack)
        ns = s.get("Labels", {}).get("com.docker.stack.namespace", "")
        short = s["Name"][len(ns) + 1:] if ns and s["Name"].startswith(ns + "_") else s["Name"]
        # service specs name networks by id
        nets = [net_by_id.get(n.get("Target"), n.get("Target")) for n in (s["TaskTemplate"].get("Networks") or [])]
        endpoint = s.get("EndpointSpec") or {}
        container = s["TaskTemplate"].get("ContainerSpec") or {}
        published = [{"published": p.get("PublishedPort"), "target": p.get("TargetPort"),
                      "protocol": p.get("Protocol", "tcp"), "mode": p.get("PublishMode", "ingress")}
                     for p in endpoint.get("Ports") or []]
        ports = sorted({p["target"] for p in published if p["protocol"] == "tcp"})
        if intended and short in intended:
            nets = intended[short]
        services[s["Name"]] = Service(s["Name"], short, nets, endpoint.get("Mode", "vip"),
                                      published, ports,
                                      (s.get("Mode") or {}).get("Replicated", {}).get("Replicas"),
                                      image=container.get("Image", "").split("@")[0],
                                      own_command=bool(container.get("Command") or container.get("Args")))
    for svc in services.values():
        # every running task, attached to a network or not (a service moved off its
        # networks still has tasks; they just have no address there)
        r = t.run(["docker", "service", "ps", "--no-trunc", "--filter", "desired-state=running",
                   "--format", "{{.Name}}.{{.ID}} {{.Node}} {{.CurrentState}}", svc.name], warn=True)
        for line in r.stdout.splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[2] == "Running":
                svc.tasks.append(tasks.get(parts[0]) or Task(parts[0], svc.name, name_of(hosts, parts[1])))
    _listening_ports(services, by_name)
    return Topology(lab, stack, by_name, services, networks, nodes)


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
        r = host.transport.run(
            "pid=$(docker inspect --format '{{.State.Pid}}' " + sh(svc.tasks[0].name) + ") && "
            "nsenter -n -t \"$pid\" ss -Hltnu", warn=True, timeout=20)
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
    r = host.transport.run(["docker", "inspect", "--format", "{{json .Config.ExposedPorts}}", svc.tasks[0].name],
                           warn=True)
    if r.ok and r.stdout.strip() not in ("", "null"):
        for key in json.loads(r.stdout):
            port, _, proto = key.partition("/")
            if proto == "tcp":
                svc.ports = sorted(set(svc.ports) | {int(port)})

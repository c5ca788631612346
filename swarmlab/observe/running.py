"""One read side (issue #13): a command gets its lab from `open_lab` and reads the running
swarm through one reader that returns typed snapshots. status, verify, compare and drill
start here; every "no such lab" is the same LabNotFound.

What a handle learns is cached for the command (hosts, the leader, the scenario, the
kernel's capabilities): a command is short, and a lab that changes under it is read
again by the next one."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Dict, List, Optional, Tuple, Union

from .. import labels as L
from ..capabilities import probe_hosts
from ..config.from_stack import load_source
from ..config.loader import Flags
from ..errors import LabNotFound, SwarmlabError
from ..providers.base import Host, Provider, name_of
from ..shell import label_filter


@dataclass(frozen=True)
class NodeView:
    name: str  # the lab's name for it (node-1, or the inventory's)
    hostname: str  # the swarm's
    status: str  # ready / down
    availability: str  # active / drain / pause
    manager: str = ""  # leader / reachable / unreachable, "" for a worker


@dataclass(frozen=True)
class NetworkView:
    name: str
    driver: str
    subnet: str
    encrypted: bool
    requested: str  # what the scenario asked: auto / true / false
    reason: str  # why it is (not) encrypted
    attachable: bool
    vni: str  # VXLAN id(s)
    id: str = ""


@dataclass(frozen=True)
class PortView:
    published: int
    target: int
    protocol: str = "tcp"
    mode: str = "ingress"  # ingress (routing mesh) / host


@dataclass(frozen=True)
class ServiceView:
    name: str  # app_web
    short: str  # web
    stack: str
    image: str  # without its @digest
    replicas: Optional[int]  # None: global
    endpoint_mode: str
    ports: Tuple[PortView, ...] = ()
    networks: Tuple[str, ...] = ()  # names
    own_command: bool = False  # the stack overrides the image's command or entrypoint


@dataclass(frozen=True)
class TaskView:
    name: str  # app_web.1
    id: str
    node: str  # the lab's name for the node
    state: str  # "Running 5 seconds ago"
    desired: str
    error: str = ""

    @property
    def running(self) -> bool:
        return self.state.startswith("Running")


class SwarmReader:
    """The running swarm as one manager sees it."""

    def __init__(self, lab: str, manager: Host, hosts: List[Host], stacks: Tuple[str, ...] = ()):
        """stacks: stacks a trainee deployed by hand (no lab label), read beside the lab's own."""
        self.lab, self.manager, self.hosts, self.stacks = lab, manager, hosts, tuple(stacks)
        self._networks: Optional[List[NetworkView]] = None

    def _names(self, kind: str, strict: bool = True) -> List[str]:
        """The names of the lab's networks or services, and of the stacks' (a label filter
        per source: Docker ANDs the filters of one command)."""
        filters = [label_filter(L.LAB, self.lab)] + [label_filter(L.STACK, s) for s in self.stacks]
        names: List[str] = []
        for flt in filters:
            r = self._run(["docker", kind, "ls", flt, "--format", "{{.Name}}"], strict=strict)
            names += [n for n in (r.stdout.split() if r.ok else []) if n not in names]
        return names

    def service_names(self) -> List[str]:
        """The lab's services (and the stacks'), by name; none when the manager does not answer."""
        return self._names("service", strict=False)

    def _run(self, args, strict: bool = True):
        return self.manager.transport.run(args, timeout=30, warn=not strict)

    def nodes(self) -> List[NodeView]:
        r = self._run(["docker", "node", "ls", "--format", "{{json .}}"], strict=False)
        if not r.ok:
            raise SwarmlabError(f"cannot list swarm nodes on {self.manager.name}: {r.stderr.strip()}")
        rows = [json.loads(x) for x in r.stdout.splitlines() if x.strip()]
        return [
            NodeView(
                name_of(self.hosts, n["Hostname"]),
                n["Hostname"],
                n["Status"].lower(),
                n["Availability"].lower(),
                n.get("ManagerStatus", "").lower(),
            )
            for n in rows
        ]

    def networks(self) -> List[NetworkView]:
        """The lab's networks (read once: a lab's networks do not change under a command)."""
        if self._networks is None:
            self._networks = self._read_networks()
        return self._networks

    def _read_networks(self) -> List[NetworkView]:
        names = self._names("network")
        if not names:
            return []
        out = []
        for info in json.loads(self._run(["docker", "network", "inspect", names]).stdout):
            opts, lbl = info.get("Options") or {}, info.get("Labels") or {}
            subnets = [c.get("Subnet") for c in (info.get("IPAM") or {}).get("Config") or []]
            out.append(
                NetworkView(
                    info["Name"],
                    info["Driver"],
                    ", ".join(filter(None, subnets)),
                    "encrypted" in opts,
                    lbl.get(L.ENCRYPTION_REQUESTED, ""),
                    lbl.get(L.ENCRYPTION_REASON, ""),
                    info.get("Attachable", False),
                    opts.get("com.docker.network.driver.overlay.vxlanid_list", ""),
                    info.get("Id", ""),
                )
            )
        return out

    def services(self, names: Optional[List[str]] = None, with_networks: bool = True) -> List[ServiceView]:
        """The lab's services (or those named), with their spec'd ports and networks (by
        id only, when with_networks is False: one command less for a watcher polling)."""
        if names is None:
            names = self._names("service", strict=False)
        if not names:
            return []
        r = self._run(["docker", "service", "inspect", names], strict=False)
        specs = json.loads(r.stdout) if r.ok and r.stdout.strip() else []
        by_id = {n.id: n.name for n in self.networks()} if specs and with_networks else {}
        return [_service(s["Spec"], by_id, (s.get("Endpoint") or {}).get("Ports")) for s in specs]

    def replicas(self) -> Dict[str, Tuple[int, int]]:
        """service -> (running, wanted) tasks, as `docker service ls` counts them (a task
        with a health check counts once it is healthy)."""
        r = self._run(["docker", "service", "ls", label_filter(L.LAB, self.lab), "--format", "{{json .}}"])
        out = {}
        for row in (json.loads(x) for x in r.stdout.splitlines() if x.strip()):
            have, _, want = row["Replicas"].split()[0].partition("/")
            if have.isdigit() and want.isdigit():
                out[row["Name"]] = (int(have), int(want))
        return out

    def updating(self, names: List[str]) -> Dict[str, str]:
        """service -> when its rolling update (or rollback) began, for those of the named
        services whose update is under way."""
        r = self._run(
            [
                "docker",
                "service",
                "inspect",
                "--format",
                "{{.Spec.Name}} {{if .UpdateStatus}}{{.UpdateStatus.State}} {{.UpdateStatus.StartedAt}}{{end}}",
                names,
            ],
            strict=False,
        )
        rows = [line.split(" ", 2) for line in r.stdout.splitlines()]
        return {row[0]: row[2] for row in rows if len(row) == 3 and row[1] in ("updating", "rollback_started")}

    def created(self, ids: List[str]) -> Dict[str, str]:
        """task id -> when the swarm made it."""
        r = (
            self._run(["docker", "inspect", "--type", "task", "--format", "{{.ID}} {{.CreatedAt}}", ids], strict=False)
            if ids
            else None
        )
        return dict(line.split(" ", 1) for line in r.stdout.splitlines() if " " in line) if r and r.ok else {}

    def service(self, name: str) -> Optional[ServiceView]:
        found = self.services([name])
        return found[0] if found else None

    def tasks(
        self, service: Union[str, List[str]], running_only: bool = True, waiting_too: bool = False, strict: bool = False
    ) -> List[TaskView]:
        """Those Swarm wants running (running_only), plus with waiting_too the replacements
        it wants but cannot place yet (desired "ready": their error says why). Several
        services are read in one command."""
        flt = ["--filter", "desired-state=running"] if running_only else []
        flt += ["--filter", "desired-state=ready"] if running_only and waiting_too else []
        r = self._run(["docker", "service", "ps", flt, "--no-trunc", "--format", "{{json .}}", service], strict=strict)
        rows = [json.loads(x) for x in r.stdout.splitlines() if x.strip()] if r.ok else []
        return [
            TaskView(
                t["Name"],
                t.get("ID", ""),
                name_of(self.hosts, t["Node"]) if t.get("Node") else "",
                t.get("CurrentState", ""),
                t.get("DesiredState", ""),
                (t.get("Error") or "").strip('"'),
            )
            for t in rows
        ]

    def task_addresses(self, ids: List[str]) -> Dict[str, Dict[str, str]]:
        """task id -> {network name: address}, from the swarm's task records."""
        if not ids:
            return {}
        r = self._run(["docker", "inspect", "--type", "task", ids], strict=False)
        if not r.ok or not r.stdout.strip():
            return {}  # a task gone since it was listed
        out: Dict[str, Dict[str, str]] = {}
        for task in json.loads(r.stdout):
            out[task["ID"]] = {
                a["Network"]["Spec"]["Name"]: a["Addresses"][0].split("/")[0]
                for a in task.get("NetworksAttachments") or []
                if a.get("Addresses")
            }
        return out


def go_time(stamp: str) -> Optional[float]:
    """Docker's Go time ("2026-12-04 08:36:52.884561234 +0000 UTC") as epoch seconds."""

    parts = stamp.split()
    if len(parts) < 2:
        return None
    whole, _, frac = parts[1].partition(".")
    zone = parts[2] if len(parts) > 2 and parts[2][:1] in "+-" else "+0000"
    try:
        at = datetime.strptime(f"{parts[0]} {whole} {zone}", "%Y-%m-%d %H:%M:%S %z")
    except ValueError:
        return None
    return at.timestamp() + (float("0." + frac) if frac.isdigit() else 0.0)


def _service(spec: dict, networks: Dict[str, str], live_ports: Optional[list] = None) -> ServiceView:
    """live_ports: the service's Endpoint.Ports, where Swarm says which port it published
    for a port the spec leaves to it (a bare container port: PublishedPort 0 in the spec)."""
    labels = spec.get("Labels") or {}
    stack = labels.get(L.STACK, "")
    name = spec["Name"]
    short = name[len(stack) + 1 :] if stack and name.startswith(stack + "_") else name
    endpoint = spec.get("EndpointSpec") or {}
    ports = tuple(
        PortView(
            int(p.get("PublishedPort", 0)),
            int(p.get("TargetPort", 0)),
            p.get("Protocol", "tcp"),
            p.get("PublishMode", "ingress"),
        )
        for p in live_ports or endpoint.get("Ports") or []
    )
    nets = tuple(networks.get(n.get("Target"), n.get("Target", "")) for n in spec["TaskTemplate"].get("Networks") or [])
    replicas = (spec.get("Mode") or {}).get("Replicated", {}).get("Replicas")
    container = spec["TaskTemplate"]["ContainerSpec"]
    return ServiceView(
        name,
        short,
        stack,
        container["Image"].split("@")[0],
        replicas,
        endpoint.get("Mode", "vip"),
        ports,
        nets,
        bool(container.get("Command") or container.get("Args")),
    )


@dataclass
class Lab:
    """A lab that exists: its hosts, and what is read of it once per command."""

    name: str
    provider: Provider
    hosts: List[Host] = field(default_factory=list)

    @property
    def running(self) -> List[Host]:
        return [h for h in self.hosts if h.state == "running"]

    @property
    def leader(self) -> Optional[Host]:
        """A running manager (the first), or None when no manager runs."""
        return next((h for h in self.running if h.role == "manager"), None)

    def need_leader(self) -> Host:
        if self.leader is None:
            raise SwarmlabError(f"lab {self.name}: no manager node is running", hint="swarmlab up to bring it back")
        return self.leader

    def node(self, name: str) -> Host:
        """A running node of the lab by its name, or an error naming the lab's nodes."""
        host = next((h for h in self.hosts if h.name == name), None)
        if host is None:
            raise SwarmlabError(
                f"lab {self.name} has no node {name}: one of {', '.join(h.name for h in self.hosts)}", exit_code=2
            )
        if host.state != "running":
            raise SwarmlabError(f"node {name} of lab {self.name} is {host.state}", hint=f"swarmlab up {self.name}")
        return host

    @cached_property
    def swarm(self) -> SwarmReader:
        return SwarmReader(self.name, self.need_leader(), self.hosts)

    def reader(self, manager: Optional[Host] = None, stacks: Tuple[str, ...] = ()) -> SwarmReader:
        """The swarm as another manager sees it (a drill watches from one it leaves alone),
        or with stacks a trainee deployed by hand read too."""
        return SwarmReader(self.name, manager or self.need_leader(), self.hosts, stacks)

    @cached_property
    def caps(self) -> dict:
        """node -> Capabilities, probed for real on every running host."""
        return probe_hosts(self.running)

    @cached_property
    def scenario(self):
        """The scenario the lab was made from, read again; None when not recorded or no
        longer loadable (callers then go by what runs)."""

        info = next((i for i in self.provider.list_labs() if i.name == self.name), None)
        if info is None or not info.scenario:
            return None
        try:
            return load_source(
                info.scenario, Flags(name=self.name, own_nodes=self.provider.sized_by_flags, ask_docker=False)
            )
        except SwarmlabError:
            return None


def open_lab(name: str, provider: Provider) -> Lab:
    """The lab called `name` on this provider, or LabNotFound."""
    hosts = provider.hosts(name)
    if not hosts or not provider.exists(name):
        raise LabNotFound(name)
    return Lab(name, provider, hosts)

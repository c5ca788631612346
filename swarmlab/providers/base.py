from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Dict, FrozenSet, List, Optional

from ..addressing import AddressPlan
from ..capabilities import Capabilities
from ..config.model import Scenario
from ..errors import PreflightError
from ..waiting import poll
from ..transport.base import Transport

if TYPE_CHECKING:
    import docker


@dataclass
class Host:
    name: str  # node-1
    address: str  # the advertise / data-path address
    role: str  # manager / worker
    transport: Transport
    state: str = "running"
    labels: Dict[str, str] = field(default_factory=dict)
    hostname: str = ""  # its name in the swarm (`docker node ls`) when not `name`
    advertise: str = ""  # the address Swarm advertises, when not `address` (which the controller reaches)
    data_path: str = ""  # the address VXLAN traffic uses, when not the advertised one

    @property
    def swarm_addr(self) -> str:
        return self.advertise or self.address

    @property
    def data_addr(self) -> str:
        return self.data_path or self.swarm_addr

    @property
    def swarm_name(self) -> str:
        return self.hostname or self.name


def name_of(hosts, swarm_name: str) -> str:
    """The lab's name for the host the swarm calls `swarm_name` (tasks name their node so)."""
    return next((h.name for h in hosts if h.swarm_name == swarm_name), swarm_name)


@dataclass
class LabInfo:
    name: str
    provider: str
    pool: str
    nodes: int
    running: int
    scenario: str = ""


class Unsupported(PreflightError):
    """An optional ability the chosen provider does not have (exit 3)."""


@dataclass(frozen=True)
class Made:
    """What a good `up` made, as a provider writes it down (Provider.record)."""

    lab: str
    scenario: Scenario
    hosts: List[Host]
    leader: Host
    pool: str  # the lab's address range ("" when none was chosen)
    loaded: Dict[str, List[str]] = field(default_factory=dict)  # host -> the images loaded into it


class Provider(ABC):
    """Where a lab's hosts come from. Every provider registers in providers/__init__.py
    and declares what it can do beyond the common interface, so no caller asks a
    provider's name or probes it with hasattr.

    features: optional abilities, e.g. "kill_node" (stop and start a host), "compare"
    (run `swarmlab compare`'s bridge and overlay variants), "own_swarm" (the lab's swarm
    is its own: every service in it is the lab's, those made by hand too)."""

    name = ""
    features: FrozenSet[str] = frozenset()
    sized_by_flags = False  # nodes from the scenario and --nodes/--managers (else an inventory, lab.yaml)
    registry = None  # a registry images go through instead of `docker save | load` streams
    # what a task given host access gets, said once by `up` (each provider knows its own nodes)
    host_access_grants = "the node's engine and files, which is root on that host"
    _client: Optional[docker.DockerClient] = None

    @property
    def client(self) -> docker.DockerClient:
        """This machine's engine, whatever the hosts are: images are built and kept there.
        Made when first asked (`swarmlab --help` needs no engine)."""
        if self._client is None:
            from ..engine import local_client  # here: docker-py is slow to import

            self._client = local_client()
        return self._client

    @classmethod
    def from_options(cls, **options) -> "Provider":
        """Made from what the command line gives (each provider takes its own options)."""
        return cls(**options)

    def supports(self, feature: str) -> bool:
        return feature in self.features

    def unsupported(self, what: str, hint: str = "") -> Unsupported:
        return Unsupported(f"{what} is not supported by the {self.name} provider", hint=hint)

    def nodes_for(self, scenario: Scenario) -> Scenario:
        """The scenario with the nodes this provider gives it (the scenario's own by default)."""
        return scenario

    def remove_command(self, lab: str) -> str:
        """What a user types to remove the lab."""
        return f"swarmlab down {lab}"

    def warnings(self) -> List[str]:
        return []

    def close(self) -> None:  # noqa: B027 (a default: most providers hold no connection)
        """Let go of connections (SSH); nothing by default."""

    def kill_node(self, lab: str, node: str) -> None:
        raise self.unsupported("stopping a host", hint="drain or cut-link work on every provider")

    def start_node(self, lab: str, node: str, timeout: float = 90) -> None:
        raise self.unsupported("starting a host")

    # what every provider implements
    @abstractmethod
    def probe_kernel(self, lab: str = "") -> Capabilities:
        """What each host's kernel offers the lab (IPVS, ESP, link impairment)."""

    @abstractmethod
    def allocate_pool(self, lab: str, wanted: str, source: str = "", avoid: tuple = ()) -> AddressPlan:
        """avoid: pools another lab took a moment ago (PoolTaken from provision)."""

    @abstractmethod
    def provision(self, scenario: Scenario, lab: str, plan: AddressPlan, say) -> List[Host]: ...
    @abstractmethod
    def exists(self, lab: str) -> bool: ...
    @abstractmethod
    def hosts(self, lab: str) -> List[Host]: ...
    @abstractmethod
    def plan(self, lab: str) -> Optional[AddressPlan]: ...
    @abstractmethod
    def list_labs(self) -> List[LabInfo]: ...
    @abstractmethod
    def remove_nodes(self, lab: str, nodes: List[str]) -> None: ...
    @abstractmethod
    def record(self, made: Made) -> None: ...
    @abstractmethod
    def destroy(self, lab: str, say) -> Dict[str, int]: ...
    @abstractmethod
    def collect_logs(self, lab: str, dest: Path) -> List[Path]: ...
    @abstractmethod
    def preflight(self) -> None: ...


def wait_engines(transports: List[Transport], what: str, timeout: float = 90) -> None:
    """Until `docker info` answers on every host (a starting engine refuses at first)."""
    pending = list(transports)
    last = [""]

    def answered():
        for t in list(pending):
            r = t.run("docker info --format '{{.ServerVersion}}'", warn=True, timeout=20)
            if r.ok:
                pending.remove(t)
            else:
                last[0] = f"{t.host}: {(r.stderr or r.stdout).strip()[-200:]}"
        return not pending, last[0]

    poll(what + " to answer", answered, timeout, interval=0.3)

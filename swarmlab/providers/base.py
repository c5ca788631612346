from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Protocol

from ..addressing import AddressPlan
from ..capabilities import Capabilities
from ..config.model import Scenario
from ..errors import WaitTimeout
from ..transport.base import Transport


@dataclass
class Host:
    name: str            # node-1
    address: str         # the advertise / data-path address
    role: str            # manager / worker
    transport: Transport
    state: str = "running"
    labels: Dict[str, str] = field(default_factory=dict)
    hostname: str = ""   # its name in the swarm (`docker node ls`) when not `name`
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


class Provider(Protocol):
    name: str

    def preflight(self) -> None: ...
    def probe_kernel(self) -> Capabilities: ...
    def allocate_pool(self, lab: str, wanted: str) -> AddressPlan: ...
    def provision(self, scenario: Scenario, lab: str, plan: AddressPlan, say) -> List[Host]: ...
    def exists(self, lab: str) -> bool: ...
    def hosts(self, lab: str) -> List[Host]: ...
    def plan(self, lab: str) -> Optional[AddressPlan]: ...
    def list_labs(self) -> List[LabInfo]: ...
    def remove_nodes(self, lab: str, nodes: List[str]) -> None: ...
    def record(self, ctx) -> None: ...
    def destroy(self, lab: str, say) -> Dict[str, int]: ...
    def collect_logs(self, lab: str, dest: Path) -> List[Path]: ...


def wait_engines(transports: List[Transport], what: str, timeout: float = 90) -> None:
    """Until `docker info` answers on every host (a starting engine refuses at first)."""
    deadline = time.monotonic() + timeout
    pending = list(transports)
    last = ""
    while pending:
        for t in list(pending):
            r = t.run("docker info --format '{{.ServerVersion}}'", warn=True, timeout=20)
            if r.ok:
                pending.remove(t)
            else:
                last = f"{t.host}: {(r.stderr or r.stdout).strip()[-200:]}"
        if pending and time.monotonic() > deadline:
            raise WaitTimeout(what + " to answer", timeout, last)
        if pending:
            time.sleep(0.3)

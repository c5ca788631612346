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

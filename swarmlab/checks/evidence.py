"""What a lesson's checks are shown, read once for one `lesson check`: the lab's handle,
its topology as `verify` reads it, and when the lab was last at the lesson's checkpoint;
where a probe of a service (every running task) or a container runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from .. import enter, grammar
from ..observe.running import Lab
from ..naming import short_task
from ..providers.base import Host
from ..result import CommandResult
from ..observe.topology import Service, Topology
from ..observe import reads


def source_problem(ref: Any) -> Optional[str]:
    """A source is a service's short name, or NODE/CONTAINER (a container on a node)."""
    if isinstance(ref, str) and "/" in ref:
        node, _, name = ref.partition("/")
        return grammar.NODE.problem(node) or grammar.VOLUME.problem(name)
    return grammar.SERVICE.problem(ref)


@dataclass
class Source:
    label: str  # "web.1 on node-2", "a on node-1"
    host: Host
    container: str


@dataclass
class Evidence:
    """The lab as one `lesson check` sees it, read once."""

    handle: Lab
    topo: Topology
    since: float = 0.0  # when the lab was last at the lesson's checkpoint (epoch seconds)
    error: str = ""  # read once: a manager that did not answer is an error of the read itself

    def node_state(self, name: str) -> Optional[Tuple[str, str, str]]:
        node = next((n for n in self.topo.nodes if n.name == name), None)
        return None if node is None else (node.status, node.availability, node.manager or "none")

    def service_state(self, short: str) -> Optional[Dict[str, Any]]:
        svc = self.service(short)
        if svc is None:
            return None
        waiting = [t for t in self.handle.swarm.tasks(svc.name, waiting_too=True) if not t.running]
        return {
            "want": svc.replicas,
            "running": sorted(t.node for t in svc.tasks),
            "pending": [t.state.split(" ")[0].lower() + (f": {t.error}" if t.error else "") for t in waiting],
        }

    def service(self, short: str) -> Optional[Service]:
        return next((s for s in self.topo.services.values() if s.short == short), None)

    def host(self, name: str) -> Optional[Host]:
        return next((h for h in self.handle.running if h.name == name), None)

    def sources(self, ref: str) -> Tuple[List[Source], str]:
        """Where a probe of `ref` runs: every running task of a service, or the one
        container; with what is missing when there is none."""
        if "/" in ref:
            node, _, name = ref.partition("/")
            host = self.host(node)
            if host is None:
                return [], f"no running node {node}"
            if not reads.container(host, name).running:
                return [], f"no running container {name} on {node}"
            return [Source(f"{name} on {node}", host, name)], ""
        svc, why = self.running(ref)
        if svc is None:
            return [], why
        return [
            Source(f"{short_task(t.name).split('_', 1)[-1]} on {t.node}", self.topo.hosts[t.node], t.name)
            for t in svc.tasks
        ], ""

    def running(self, short: str) -> Tuple[Optional[Service], str]:
        """The service when it has a running task, else None and what is missing."""
        svc = self.service(short)
        if svc is None or not svc.tasks:
            return None, f"no running task of {short}" if svc else f"no service {short}"
        return svc, ""

    def run_in(self, src: Source, cmd: str, timeout: float = 20) -> CommandResult:
        """cmd inside the source's network namespace, with the node's tools."""
        return src.host.transport.run(enter.in_net(src.container, cmd), timeout=timeout, warn=True)

    def container_ips(self, host: Host, name: str) -> Dict[str, str]:
        return {n: ip for n, ip in reads.container(host, name).networks.items() if ip}

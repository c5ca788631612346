"""dind nodes on another machine's engine, reached over SSH (transport/tunnel.py): the
engines `room start --engines` spreads its labs over. Everything of DindProvider holds;
what differs: the engine's memory is read on its machine, its labs' addresses are reached
from there (transport/reach.py), their pools are chosen apart from every other engine's
labs (one address, one lab, wherever it runs), and swarmlab's images are copied there from
this machine's engine (an engine elsewhere may have no way to the apt mirror to build them)."""

from __future__ import annotations

import ipaddress
from typing import Callable, Dict, List

import docker
from docker.errors import NotFound

from .. import naming
from ..addressing import AddressPlan
from ..config.inventory import InventoryHost
from ..config.inventory_check import resolve
from ..config.model import Scenario
from ..errors import PreflightError
from ..images import image_ref
from ..transport import reach
from ..transport.ssh import SSHTransport
from ..transport.tunnel import EngineTunnel
from .dind import DindProvider
from .host_limits import HEADROOM_MIB, NODE_BUDGET_MIB

Pools = Callable[[], List[ipaddress.IPv4Network]]


class RemoteDindProvider(DindProvider):
    host_access_grants = "the node's engine and files; a dind node's engine is root on the engine's machine"

    def __init__(self, engine: str, tunnel: EngineTunnel, client: docker.DockerClient, others: Pools):
        """others: the pools of every other engine's labs (this one's avoid them)."""
        super().__init__(client)
        self.engine, self.tunnel, self.others = engine, tunnel, others
        self.docker_host = tunnel.url

    def _lab_pools(self) -> Dict[str, ipaddress.IPv4Network]:
        pools = super()._lab_pools()
        for pool in pools.values():
            reach.through(pool, self.tunnel.connect)
        return pools

    def allocate_pool(self, lab: str, wanted: str = "auto", source: str = "", avoid: tuple = ()) -> AddressPlan:
        plan = super().allocate_pool(lab, wanted, source, tuple(avoid) + tuple(self.others()))
        reach.through(plan.pool, self.tunnel.connect)
        return plan

    def pools(self) -> List[ipaddress.IPv4Network]:
        return list(super()._lab_pools().values())

    def available_mib(self) -> int:
        """MemAvailable of the engine's machine, read there in a throwaway container."""
        out = self.throwaway(["cat", "/proc/meminfo"], self.client.api.create_host_config(network_mode="none"))
        info = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
        return int(info["MemAvailable"].split()[0]) // 1024

    def _host_limits(self, scenario: Scenario, lab: str, say) -> None:
        new = [n for n in scenario.nodes if not self._exists(naming.container_name(lab, n.name))]
        available = self.available_mib() if new else 0
        need = len(new) * NODE_BUDGET_MIB
        if new and need + HEADROOM_MIB > available:
            raise PreflightError(
                f"engine {self.engine}: {len(new)} new nodes need about {need} MiB plus {HEADROOM_MIB} MiB "
                f"for its machine, and it has {available} MiB available",
                hint="list another engine, or make fewer labs there",
            )


def ship_images(local: docker.DockerClient, remote: docker.DockerClient, say) -> List[str]:
    """Every swarmlab image of this machine's engine that the remote engine lacks (or holds
    another build of), copied there as `docker save | docker load` does; the refs copied."""
    copied = []
    registry = image_ref("base").split("/", 1)[0]  # swarmlab.local
    for img in local.images.list(name=f"{registry}/*"):
        for ref in img.tags:
            try:
                if remote.images.get(ref).id == img.id:
                    continue
            except NotFound:
                pass
            say(f"copying {ref} to the engine")
            remote.api.load_image(local.api.get_image(ref, chunk_size=1 << 20), quiet=True)
            copied.append(ref)
    return copied


def ssh_link(host: InventoryHost, base, known_hosts) -> Callable[[], SSHTransport]:
    """A new pinned SSH connection to an inventory host, each time it is called."""
    key = str(resolve(base, host.key_file)) if host.key_file else None
    return lambda: SSHTransport(
        host.name,
        host.address,
        port=host.port,
        user=host.user,
        key_file=key,
        host_key=host.host_key,
        known_hosts=known_hosts,
    )

"""The lab's private address range and how it is cut up.

Each lab gets one /16. Everything the lab uses comes from it, so two labs side by
side never overlap and the node's sealing rules can name the lab's own ranges:

    x.y.0.0/24      underlay: the network the nodes share on the host engine
    x.y.1.0/24      docker0 inside each node (--bip)
    x.y.4.0/22      other local networks of the inner engines (docker_gwbridge, ...)
    x.y.128.0/17    overlay networks (swarm init --default-addr-pool), ingress included
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Iterable, Optional

DEFAULT_PARENT = "10.96.0.0/12"  # 16 labs of a /16 each
PRIVATE = tuple(ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))


@dataclass(frozen=True)
class AddressPlan:
    pool: ipaddress.IPv4Network

    def _sub(self, offset: int, prefix: int) -> ipaddress.IPv4Network:
        base = int(self.pool.network_address) + offset
        return ipaddress.IPv4Network((base, prefix))

    @property
    def underlay(self) -> ipaddress.IPv4Network:
        return self._sub(0, 24)

    @property
    def gateway(self) -> str:
        return str(self.underlay.network_address + 1)

    @property
    def bip(self) -> str:
        net = self._sub(1 << 8, 24)
        return f"{net.network_address + 1}/24"

    @property
    def local_pool(self) -> ipaddress.IPv4Network:
        return self._sub(4 << 8, 22)

    @property
    def overlay_pool(self) -> ipaddress.IPv4Network:
        return self._sub(128 << 8, 17)

    def node_ip(self, index: int) -> str:
        """Address of the index-th node (1-based): .11, .12, ..."""
        if not 1 <= index <= 200:
            raise ValueError(f"node index {index} out of range")
        return str(self.underlay.network_address + 10 + index)


def parse_pool(text: str) -> ipaddress.IPv4Network:
    """A lab pool: a private IPv4 /16. Raises ValueError with a readable reason."""
    try:
        net = ipaddress.IPv4Network(text, strict=True)
    except ValueError as exc:
        raise ValueError(f"not an IPv4 network in CIDR form ({exc})") from None
    if net.prefixlen != 16:
        raise ValueError(f"must be a /16, got /{net.prefixlen}")
    # is_private alone would let loopback, link-local, 0/8 and 240/4 through
    if not any(net.subnet_of(p) for p in PRIVATE):
        raise ValueError(f"{net} is not in a private range (10/8, 172.16/12, 192.168/16)")
    return net


def choose_pool(
    used: Iterable[ipaddress.IPv4Network], parent: str = DEFAULT_PARENT, avoid: Iterable[ipaddress.IPv4Network] = ()
) -> Optional[ipaddress.IPv4Network]:
    """The first /16 of `parent` that overlaps nothing in `used` or `avoid`."""
    taken = list(used) + list(avoid)
    for cand in ipaddress.IPv4Network(parent).subnets(new_prefix=16):
        if not any(cand.overlaps(t) for t in taken):
            return cand
    return None

"""The checks of `swarmlab verify`, in the order they run. Each takes the lab's Topology and
returns CheckResults; each is derived from the lab's own services and networks."""

from __future__ import annotations

from .context import VerifyContext
from .names import capabilities, dns, swarm_health
from .path import data_flow, mtu, on_the_wire
from .reach import ports, reachability

ALL = [capabilities, swarm_health, dns, reachability, ports, data_flow, on_the_wire, mtu]

__all__ = ["ALL", "VerifyContext"]

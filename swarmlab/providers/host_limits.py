"""What one machine's kernel caps for dind labs, where every node shares that kernel:
its memory, and its neighbour (ARP) table.

The neighbour table is one table for every network namespace of the kernel. Each node
learns every other node on the underlay, and the overlay driver adds an entry for each
remote endpoint on each network: about n*(n-1)*(1 + networks) entries for n nodes. Past
gc_thresh3 (1024 by default) the kernel refuses new ones ("neighbour: arp_cache:
neighbor table overflow!"), and the packets that needed them are dropped: a 40-node lab
formed its swarm, then its published port never answered. Kubernetes' large-cluster
guides raise the same three sysctls for the same reason."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from ..errors import PreflightError

# What a new node may take while it starts (an idle worker settles at ~33-40 MiB, a
# manager and the tasks more; bench/RESULTS.md), and what the machine keeps for itself.
NODE_BUDGET_MIB = 96
HEADROOM_MIB = 1024
NEIGH = Path("/proc/sys/net/ipv4/neigh/default")
NEIGH_HEADROOM = 256  # the host's own neighbours, and other containers'


def check_memory(new_nodes: list) -> None:
    """Enough memory for the new nodes, or one error with how much and how many fit."""
    try:
        info = dict(line.split(":", 1) for line in open("/proc/meminfo").read().splitlines() if ":" in line)
        available = int(info["MemAvailable"].split()[0]) // 1024
    except (OSError, KeyError, ValueError):
        return  # not Linux's /proc: the engine will say when it runs out
    need = len(new_nodes) * NODE_BUDGET_MIB
    if new_nodes and need + HEADROOM_MIB > available:
        raise PreflightError(
            f"{len(new_nodes)} new nodes need about {need} MiB ({NODE_BUDGET_MIB} MiB each while they start) "
            f"plus {HEADROOM_MIB} MiB for this machine, and it has {available} MiB available",
            hint=f"at most {max(0, (available - HEADROOM_MIB) // NODE_BUDGET_MIB)} new nodes fit now; "
            "use fewer nodes, or free memory",
        )


def neighbours_needed(nodes: int, networks: int) -> int:
    return nodes * (nodes - 1) * (1 + networks) + NEIGH_HEADROOM


def ensure_neighbours(nodes: int, networks: int, say: Callable[[str], None]) -> None:
    """Raise the kernel's neighbour table limits when the labs' nodes would overflow it."""
    need = neighbours_needed(nodes, networks)
    try:
        current = int((NEIGH / "gc_thresh3").read_text())
    except (OSError, ValueError):
        return  # the engine's kernel is not this one (a remote DOCKER_HOST): nothing to read
    if current >= need:
        return
    wanted = {"gc_thresh1": need // 4, "gc_thresh2": need // 2, "gc_thresh3": need}
    fix = "sysctl -w " + " ".join(f"net.ipv4.neigh.default.{k}={v}" for k, v in wanted.items())
    if os.geteuid() != 0 or not os.access(NEIGH / "gc_thresh3", os.W_OK):
        raise PreflightError(
            f"{nodes} dind nodes need about {need} neighbour (ARP) entries, and this kernel "
            f"keeps at most {current} (net.ipv4.neigh.default.gc_thresh3)",
            hint=f"as root: {fix}",
        )
    for key, value in wanted.items():
        path = NEIGH / key
        if int(path.read_text()) < value:
            path.write_text(str(value))
    say(
        f"raised this kernel's neighbour table to {need} entries ({fix}): {nodes} nodes that share it "
        f"need about that many, past {current} it drops packets"
    )

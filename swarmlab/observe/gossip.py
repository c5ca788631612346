"""What the nodes' gossip says: the probes a gossip fault waits on, as it cuts a node off
(forgotten) and once it is healed (known again, with its tasks), and the one a lesson's
start waits on (every node knows the tasks just replaced)."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Dict, List, Set, Tuple

from ..providers.base import Host
from ..shell import sh
from ..waiting import until

RESYNC_WITHIN = 60.0  # s: a node back in the gossip has its tasks' records back in about 30 s here


def _every_overlay(watcher: Host, fmt: str):
    """`docker network inspect -v --format FMT` of every overlay the watcher has (verbose:
    what its gossip knows), a line each; a failed read is a result that is not ok."""
    return watcher.transport.run(
        "for n in $(docker network ls -q --filter driver=overlay); do "
        f'docker network inspect -v --format {sh(fmt)} "$n"; done',
        warn=True,
        timeout=30,
    )


def resynced_probe(watcher: Host, node: Host):
    """A probe: does `watcher` list `node` as a peer on an overlay and, on that overlay, its
    tasks (their names and addresses, what DNS answers from)? A node back in the gossip is
    listed as a peer seconds before its tasks' records come back (about 30 s here)."""
    addrs = {node.address, node.swarm_addr, node.data_addr}

    def probe():
        r = _every_overlay(watcher, "{{json .Peers}}|{{json .Services}}")
        for line in r.stdout.splitlines() if r.ok else []:
            peers, _, services = line.partition("|")
            try:
                listed = {p.get("IP") for p in json.loads(peers) or []}
                hosts = {
                    t.get("Info", {}).get("Host IP")
                    for svc in (json.loads(services) or {}).values()
                    for t in svc.get("Tasks") or []
                }
            except (ValueError, AttributeError):
                continue
            if listed & addrs and hosts & addrs:
                return True, f"{watcher.name} lists {node.name} and its tasks"
        return False, f"{watcher.name} does not list {node.name}'s tasks yet"

    return probe


def wait_resynced(pairs: List[Tuple[Host, Host]], within: float = RESYNC_WITHIN) -> Tuple[bool, str, float]:
    """Until each (watcher, node) pair holds resynced_probe, each node resyncing on its own;
    bounded, and not an error: (done, what is still missing, seconds it took)."""
    probes = [resynced_probe(watcher, node) for watcher, node in pairs]

    def resynced():
        seen = [p() for p in probes]
        return all(ok for ok, _ in seen), "; ".join(why for ok, why in seen if not ok)

    return until(resynced, within, 1.0)


def listed_probe(watcher: Host, node: Host):
    """A probe: does `watcher` list `node` as a peer on any overlay (gossip between them)?"""

    def probe():
        r = _every_overlay(watcher, "{{range .Peers}}{{.IP}} {{end}}")
        seen = r.ok and bool(set(r.stdout.split()) & {node.address, node.swarm_addr, node.data_addr})
        return seen, f"{watcher.name} does not list {node.name} as a peer"

    return probe


def names_known_probe(reader, services: List[str], skip: Set[str]):
    """A probe: on every node with a task on one of these services' networks, does that
    network's gossip view list each service's running tasks, exactly (the addresses the
    embedded DNS answers there)? Swarm has a replaced task running before the other nodes
    learn its address, about a second later, sometimes more. The nodes in `skip` (cut off
    on purpose) are not asked, and their tasks are not looked for."""
    tasks = [t for t in reader.tasks(reader.service_names()) if t.running]
    addresses = reader.task_addresses([t.id for t in tasks])
    lab_networks = {n.name for n in reader.networks()}
    want: Dict[str, Dict[str, Set[str]]] = {}  # network -> service -> addresses
    nodes: Dict[str, Set[str]] = {}  # network -> the nodes with a task on it
    unsure: Set[str] = set()  # the addresses of the tasks on skipped nodes
    for t in tasks:
        service = t.name.rsplit(".", 1)[0]
        for net, ip in addresses.get(t.id, {}).items():
            if net not in lab_networks:  # ingress: the routing mesh's, not the names'
                continue
            if t.node in skip:
                unsure.add(ip)
                continue
            nodes.setdefault(net, set()).add(t.node)
            if service in services:
                want.setdefault(net, {}).setdefault(service, set()).add(ip)
    hosts = {h.name: h for h in reader.hosts}
    pairs = [(hosts[n], net) for net in want for n in sorted(nodes.get(net, ())) if n in hosts]

    def one(pair) -> str:
        host, net = pair
        r = host.transport.run(
            ["docker", "network", "inspect", "-v", "--format", "{{json .Services}}", net], warn=True, timeout=30
        )
        listed = json.loads(r.stdout or "null") if r.ok else None
        seen = {
            name: {x.get("EndpointIP") for x in (svc or {}).get("Tasks") or []} - unsure
            for name, svc in (listed or {}).items()
        }
        wrong = [s for s, ips in want[net].items() if seen.get(s, set()) != ips]
        return f"{host.name} on {net}: {', '.join(wrong)}" if wrong else ""

    def probe():
        with ThreadPoolExecutor(max_workers=max(1, len(pairs))) as pool:
            behind = [x for x in pool.map(one, pairs) if x]
        return not behind, "not yet listed as running: " + "; ".join(behind) if behind else "listed everywhere"

    return probe

"""What one node's gossip peers say of another: the probes a gossip fault waits on, as it
cuts a node off (forgotten) and once it is healed (known again, with its tasks)."""

from __future__ import annotations

import json

from ..providers.base import Host
from ..shell import sh


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


def listed_probe(watcher: Host, node: Host):
    """A probe: does `watcher` list `node` as a peer on any overlay (gossip between them)?"""

    def probe():
        r = _every_overlay(watcher, "{{range .Peers}}{{.IP}} {{end}}")
        seen = r.ok and bool(set(r.stdout.split()) & {node.address, node.swarm_addr, node.data_addr})
        return seen, f"{watcher.name} does not list {node.name} as a peer"

    return probe

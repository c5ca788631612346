"""The controller host's networks as a lab's pool must avoid them, and removing a lab's
network once its nodes are gone."""

from __future__ import annotations

import ipaddress
import time
from pathlib import Path
from typing import List, Optional

from docker.errors import APIError, NotFound


def host_routes() -> List[ipaddress.IPv4Network]:
    """Networks the controller's host routes to (so a lab pool never shadows them)."""
    out: List[ipaddress.IPv4Network] = []
    try:
        lines = Path("/proc/net/route").read_text().splitlines()[1:]
    except OSError:
        return out
    for line in lines:
        f = line.split()
        if len(f) < 8 or f[1] == "00000000":
            continue
        dest = ipaddress.IPv4Address(int(f[1], 16).to_bytes(4, "little"))
        mask = bin(int(f[7], 16)).count("1")
        out.append(ipaddress.IPv4Network(f"{dest}/{mask}", strict=False))
    return out


def remove_network(net, within: float = 30.0, sleep=time.sleep) -> Optional[str]:
    """Remove a lab network; None when gone, else why not. Its nodes were just removed, and
    the engine may release their endpoints a moment later (seen once in five downs of a
    50-node lab): "has active endpoints" is waited out, leftover endpoints disconnected."""
    deadline = time.monotonic() + within
    while True:
        try:
            net.remove()
            return None
        except NotFound:
            return None
        except APIError as exc:
            if "active endpoints" not in str(exc.explanation):
                return f"network {net.name}: {exc.explanation}"
            why = exc.explanation
        try:
            net.reload()
            attached = list(net.attrs.get("Containers") or {})
            for endpoint in attached:
                net.disconnect(endpoint, force=True)
        except (NotFound, APIError):
            attached = ["?"]
        if time.monotonic() > deadline:
            return (
                f"network {net.name}: {why}"
                if attached
                else f"network {net.name}: the engine still counts an endpoint on it, though no container is "
                "attached (a stale endpoint, moby/moby#17217): restarting the engine clears it"
            )
        sleep(0.5)

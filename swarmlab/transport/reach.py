"""How this machine opens a TCP connection to a lab address: directly, or from the machine
whose engine holds that lab (transport/tunnel.py) when its nodes sit on that machine's
bridges, which only it reaches. Probes "from outside the swarm" (a published port, an
HTTP answer) all connect here, so they stand where a user of that lab would."""

from __future__ import annotations

import ipaddress
import socket
import threading
from typing import Callable, Dict

Connect = Callable[[str, int, float], socket.socket]

_lock = threading.Lock()
_routes: Dict[ipaddress.IPv4Network, Connect] = {}


def through(network: ipaddress.IPv4Network, connect: Connect) -> None:
    """Addresses of `network` are reached with `connect` (a lab's pool on another engine)."""
    with _lock:
        _routes[network] = connect


def connect(address: str, port: int, timeout: float) -> socket.socket:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        ip = None
    with _lock:
        way = next((c for n, c in _routes.items() if ip is not None and ip in n), None)
    if way is None:
        return socket.create_connection((address, port), timeout=timeout)
    return way(address, port, timeout)

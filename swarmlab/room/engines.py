"""The engines a room's labs are spread over: this machine's alone, or those an inventory
lists (`--engines FILE`, each reached over SSH). Each lab stays whole on one engine, placed
where memory is free; a lab of the room already on an engine stays there."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from ..errors import PreflightError, SwarmlabError
from ..progress import Say
from ..providers.host_limits import HEADROOM_MIB

LOCAL = "local"


@dataclass
class Engine:
    name: str
    provider: Any
    free_mib: Optional[int] = None  # None: not read (this machine's: `up` checks it itself)
    tunnel: Any = None

    def close(self) -> None:
        if self.tunnel is not None:
            self.tunnel.close()


class Engines:
    def __init__(self, engines: List[Engine]):
        self.all = engines
        self.placed: Dict[str, str] = {}  # lab -> engine

    def by_name(self, name: str) -> Engine:
        return next(e for e in self.all if e.name == name)

    def of(self, lab: str) -> Any:
        """The provider of the engine holding `lab` (the first engine before it is placed)."""
        return self.by_name(self.engine_of(lab)).provider

    def engine_of(self, lab: str) -> str:
        return self.placed.get(lab, self.all[0].name)

    def find(self) -> None:
        """Where each lab of any room already is."""
        for e in self.all:
            for info in e.provider.list_labs():
                self.placed[info.name] = e.name

    def close(self) -> None:
        for e in self.all:
            e.close()


def place(
    labs: Sequence[str], free: Dict[str, Optional[int]], placed: Dict[str, str], per_lab_mib: int
) -> Dict[str, str]:
    """lab -> engine. A lab already on a listed engine stays there. Each other one is placed
    as Swarm's own scheduler spreads tasks: among the engines with memory free for one more
    lab (what was read, less the labs placed there since, above per_lab_mib + HEADROOM_MIB),
    the one holding the fewest labs; ties go to the most memory free, then to the order
    given. When none has room, the one with the most memory free (`up` then says what is
    missing there). An engine whose memory is not read (None) has room."""
    left = {e: (m if m is not None else 1 << 40) for e, m in free.items()}
    count = Counter(e for e in placed.values() if e in left)
    order = list(left)
    out = {}
    for lab in labs:
        if placed.get(lab) in left:
            out[lab] = placed[lab]
            continue
        room = [e for e in order if left[e] >= per_lab_mib + HEADROOM_MIB] or [max(order, key=lambda e: left[e])]
        best = min(room, key=lambda e: (count[e], -left[e], order.index(e)))
        out[lab] = best
        left[best] -= per_lab_mib
        count[best] += 1
    return out


def local(provider: Any) -> Engines:
    return Engines([Engine(LOCAL, provider)])


def from_inventory(path: Path, here: Any, say: Say, ship: bool = True) -> Engines:
    """Every host of the inventory as an engine: its tunnel open, swarmlab's images copied
    there from this machine's engine (`here`'s, asked only then) and its free memory read
    (ship). One that cannot be used is an error before any lab."""
    import docker  # here: docker-py and paramiko are slow to import, and a room on this machine needs neither

    from ..config.inventory import load_inventory
    from ..config.inventory_check import resolve
    from ..providers.dind_remote import RemoteDindProvider, ship_images, ssh_link
    from ..transport.tunnel import EngineTunnel

    inv = load_inventory(path, engines=True)
    source = here.client if ship else None  # the images' engine: a room's status or stop needs none
    known = str(resolve(inv.path.parent, inv.known_hosts)) if inv.known_hosts else None
    engines: List[Engine] = []
    made = Engines(engines)

    def others(name: str):
        return lambda: [p for e in engines if e.name != name for p in e.provider.pools()]

    def one(host) -> Any:
        tunnel = EngineTunnel(ssh_link(host, inv.path.parent, known), host.name)
        try:
            tunnel.start()
            client = docker.DockerClient(base_url=tunnel.url, timeout=120, max_pool_size=4)
            engine = Engine(host.name, RemoteDindProvider(host.name, tunnel, client, others(host.name)), None, tunnel)
            copied = ship_images(source, client, lambda s: say(f"engine {host.name}: {s}")) if ship else []
            engine.free_mib = engine.provider.available_mib() if ship else None
        except (SwarmlabError, OSError, docker.errors.DockerException) as exc:
            tunnel.close()
            return exc
        if ship:
            say(
                f"engine {host.name}: {engine.free_mib} MiB free"
                + (f", {len(copied)} image(s) copied" if copied else "")
            )
        return engine

    with ThreadPoolExecutor(max_workers=4) as pool:
        got = list(pool.map(one, inv.hosts))
    engines += [e for e in got if isinstance(e, Engine)]
    failed = [(h, e) for h, e in zip(inv.hosts, got) if not isinstance(e, Engine)]
    if failed:
        made.close()
        host, exc = failed[0]
        if isinstance(exc, SwarmlabError):
            raise exc
        raise PreflightError(f"engine {host.name} of {path} could not be used: {exc}") from None
    return made

"""What a drill watches (swarmlab drill): snapshots of the lab through a manager it
leaves alone, and the data path through each published endpoint, on a thread of its own
so it is seen even while the managers are silent (an election)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

from .http import http_get
from ..errors import SwarmlabError
from .running import SwarmReader
from ..providers.base import Host

POLL = 1.0  # seconds between snapshots


# -- what the lab looks like at one moment ------------------------------------------
@dataclass
class Snapshot:
    nodes: Dict[str, Tuple[str, str]] = field(default_factory=dict)  # node -> (status, availability)
    services: Dict[str, dict] = field(default_factory=dict)  # web -> {want, running: [nodes], pending: [why]}
    flow: Dict[str, str] = field(default_factory=dict)  # node -> what a request through it got
    flow_ok: Dict[str, bool] = field(default_factory=dict)
    managers: Dict[str, str] = field(default_factory=dict)  # node -> leader / reachable / unreachable
    error: str = ""  # the watching manager did not answer: the swarm's part is the last one seen

    def lines(self) -> Dict[str, str]:
        """Flat, comparable: what the timeline records when it changes."""
        return {**self.swarm_lines(), **flow_lines(self.flow)}

    def swarm_lines(self) -> Dict[str, str]:
        out = {
            f"node {n}": f"{s}, {a}" + (f", {self.managers[n]}" if n in self.managers else "")
            for n, (s, a) in self.nodes.items()
        }
        for name, s in self.services.items():
            where = f" on {', '.join(s['running'])}" if s["running"] else ""
            text = f"{len(s['running'])}/{s['want']} running{where}"
            for why in s["pending"]:
                text += f"; a task {why}"
            out[f"service {name}"] = text
        out["managers"] = f"no answer: {self.error}" if self.error else "answering"
        return out

    @staticmethod
    def gone(key: str) -> str:
        """What a line that disappeared means."""
        return "no endpoint there now" if key.startswith("flow via") else "gone"

    def node_state(self, name: str) -> Optional[Tuple[str, str, str]]:
        """(status, availability, manager status or "none"), None when not listed."""
        if name not in self.nodes:
            return None
        return (*self.nodes[name], self.managers.get(name, "none"))

    def service_state(self, short: str) -> Optional[dict]:
        return self.services.get(short)

    def tasks_on(self, node: str) -> List[str]:
        return [name for name, s in self.services.items() if node in s["running"]]

    def whole(self, data_path: bool = True) -> Tuple[bool, str]:
        """Every node ready and active, every manager reachable, every service at its
        replicas, every flow answered (data_path=False: the lab publishes no endpoint)."""
        if self.error:
            return False, f"no answer from the managers: {self.error}"
        bad = [f"{n} {s}/{a}" for n, (s, a) in self.nodes.items() if (s, a) != ("ready", "active")]
        bad += [f"manager {n} {m}" for n, m in self.managers.items() if m not in ("leader", "reachable")]
        bad += [
            f"{n} {len(s['running'])}/{s['want']}"
            for n, s in self.services.items()
            if s["want"] is not None and len(s["running"]) != s["want"]
        ]
        bad += [f"flow via {n}: {v}" for n, v in self.flow.items() if not self.flow_ok[n]]
        if data_path and not self.flow:
            bad.append("no endpoint answers yet")
        return not bad, "; ".join(bad) or "every node ready and active, every service whole, the flow answers"


def flow_lines(flow: Dict[str, str]) -> Dict[str, str]:
    return {f"flow via {n}": v for n, v in flow.items()}


@dataclass
class Endpoint:
    service: str  # app_web
    port: int
    mode: str  # ingress / host


class Observer:
    """Snapshots of a lab through one manager that the drill leaves alone."""

    def __init__(self, lab: str, hosts: List[Host], leader: Host, stack: str, endpoint: Optional[Endpoint]):
        self.lab, self.hosts, self.leader, self.stack, self.endpoint = lab, hosts, leader, stack, endpoint
        self.reader = SwarmReader(lab, leader, hosts)
        self.down: set = set()  # hosts the controller must not try to reach (killed)
        self.last: Optional[Snapshot] = None

    def snapshot(self) -> Snapshot:
        """The swarm's view, then the data path's."""
        snap = self.swarm()
        snap.flow, snap.flow_ok = self.data_path()
        return snap

    def swarm(self) -> Snapshot:
        """What the watching manager says; when it does not answer (an election), the last
        view it gave, marked with the error."""
        snap = Snapshot()
        try:
            self._swarm_view(snap)
            self.last = snap
        except SwarmlabError as exc:
            snap.error = str(exc).splitlines()[0][-160:]
            if self.last is not None:
                snap.nodes, snap.managers, snap.services = self.last.nodes, self.last.managers, self.last.services
        return snap

    def data_path(self) -> Tuple[Dict[str, str], Dict[str, bool]]:
        """A request through each published endpoint that should answer (by the last swarm view)."""
        flow: Dict[str, str] = {}
        ok: Dict[str, bool] = {}
        targets = self.targets(self.last or Snapshot())
        if targets:
            with ThreadPoolExecutor(max_workers=max(1, len(targets))) as pool:  # one slow endpoint at a time is enough
                for (node, _), (text, good) in zip(targets, pool.map(lambda t: _flow(t[1]), targets)):
                    flow[node], ok[node] = text, good
        return flow, ok

    def _swarm_view(self, snap: Snapshot) -> None:
        for n in self.reader.nodes():
            snap.nodes[n.name] = (n.status, n.availability)
            if n.manager:
                snap.managers[n.name] = n.manager
        for svc in self.reader.services(with_networks=False):
            running, pending = [], []
            for t in self.reader.tasks(svc.name, waiting_too=True, strict=True):
                if t.running and t.node:
                    running.append(t.node)
                else:
                    pending.append(t.state.split(" ")[0].lower() + (f": {t.error}" if t.error else ""))
            snap.services[svc.short] = {"want": svc.replicas, "running": sorted(running), "pending": pending}

    def targets(self, snap: Snapshot) -> List[Tuple[str, str]]:
        """Where the published port should answer: every live node with the routing mesh,
        only the nodes running a task with host-mode ports."""
        ep = self.endpoint
        if ep is None:
            return []
        short = ep.service[len(self.stack) + 1 :]
        running = set(snap.services.get(short, {}).get("running", []))
        live = [h for h in self.hosts if h.name not in self.down]
        chosen = live if ep.mode == "ingress" else [h for h in live if h.name in running]
        return [(h.name, f"http://{h.address}:{ep.port}") for h in chosen]


class DataPathWatcher(threading.Thread):
    """Requests through the published endpoints every POLL seconds, on their own: the
    data path is seen even while the managers are silent for many seconds (an election)."""

    def __init__(self, obs: Observer, report: Callable[[Dict[str, str], Dict[str, bool]], None]):
        super().__init__(name="drill-data-path", daemon=True)
        self.obs, self.report, self.stop = obs, report, threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self.report(*self.obs.data_path())
            except Exception:  # a request error is in its text; anything else: try again next round
                pass
            self.stop.wait(POLL)


def _flow(url: str) -> Tuple[str, bool]:
    """One request that must reach db (a forced cache miss): who served it, or what failed."""
    try:
        status, body, raw = http_get(url + "/?cache=skip", timeout=8.0)  # web gives db and redis 3 s each
    except OSError as exc:
        return f"no answer ({getattr(exc, 'reason', exc)})", False
    if status == 200 and body and "served_by" in body:
        return (
            f"ok: web {body['served_by'].get('node')} -> db {body.get('db', {}).get('node')}, "
            f"redis {body.get('redis', {}).get('node')}"
        ), True
    detail = (body or {}).get("error") if isinstance(body, dict) else None
    return f"HTTP {status}: {str(detail or raw).strip()[:120]}", False

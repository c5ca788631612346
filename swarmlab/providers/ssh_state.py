"""What an SSH lab made, recorded on its swarm (as kind keeps state on the engine): a
swarm config `swarmlab-<lab>-state`, labelled with the lab, read by `ls` and `down`."""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, List, Optional

from .. import labels as L, records
from ..config.inventory import Inventory
from ..shell import label_filter, sh
from ..transport.base import Transport
from ..transport.ssh import SSHTransport
from .base import LabInfo, Made

ROLE_STATE = "state"


class SSHState:
    """The state half of the SSH provider (needs self.inventory, self._leader)."""

    name: str
    inventory: Inventory
    _swarm_before: Optional[bool]
    _leader: Callable[[], Optional[SSHTransport]]

    def _records(self, leader: SSHTransport, lab: Optional[str] = None) -> List[records.Record]:
        return records.read_all(leader, ROLE_STATE, lab)

    def _state(self, lab: str, leader: Optional[Transport] = None) -> dict:
        leader = leader or self._leader()
        found = records.read_one(leader, ROLE_STATE, lab) if leader else None
        return _state_of(found) if found else {}

    def record(self, made: Made) -> None:
        """After a good `up`: what the lab made on these hosts, merged with earlier runs."""
        leader = made.leader.transport
        old = self._state(made.lab, leader)
        loaded = {k: set(v) for k, v in (old.get("loaded") or {}).items()}
        for name, refs in made.loaded.items():
            loaded.setdefault(name, set()).update(refs)
        labels = {k: set(v) for k, v in (old.get("node_labels") or {}).items()}
        for spec in made.scenario.nodes:
            host = next((h for h in made.hosts if h.name == spec.name), None)
            if host and spec.labels:
                labels.setdefault(host.swarm_name, set()).update(k for k, _ in spec.labels)
        source = made.scenario.source or str(made.scenario.path)
        state: Dict[str, Any] = {
            "lab": made.lab,
            "inventory": str(self.inventory.path),
            "scenario": source,
            "stack": made.scenario.stack_name,
            "stacks": [part.name for part in made.scenario.stacks],
            "pool": made.pool,
            "created_swarm": bool(old.get("created_swarm")) or self._swarm_before is False,
            "loaded": {k: sorted(v) for k, v in loaded.items()},
            "node_labels": {k: sorted(v) for k, v in labels.items()},
        }
        records.write(
            leader,
            state_config(made.lab),
            made.lab,
            ROLE_STATE,
            json.dumps(state).encode(),
            {L.SCENARIO: source, L.POOL: made.pool},
        )

    def exists(self, lab: str) -> bool:
        leader = self._leader()
        if leader is None:
            return False
        sel = label_filter(L.LAB, lab)
        r = leader.run(
            "; ".join(sh("docker", kind, "ls", "-q", sel) for kind in ("config", "network", "service")), warn=True
        )
        return bool(r.stdout.split())

    def list_labs(self) -> List[LabInfo]:
        leader = self._leader()
        if leader is None:
            return []
        out = []
        for rec in self._records(leader):
            state = _state_of(rec)
            out.append(
                LabInfo(
                    rec.lab,
                    self.name,
                    state.get("pool", ""),
                    len(self.inventory.hosts),
                    len(self.inventory.hosts),
                    state.get("scenario", ""),
                )
            )
        return sorted(out, key=lambda i: i.name)


def state_config(lab: str) -> str:
    return f"swarmlab-{lab}-state"


def _state_of(rec: records.Record) -> dict:
    """What a lab's state record holds ({} when it is empty)."""
    return json.loads(rec.data or b"{}")


def _loaded_by(rec: records.Record) -> Dict[str, List[str]]:
    try:
        return _state_of(rec).get("loaded") or {}
    except ValueError:
        return {}

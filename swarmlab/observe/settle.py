"""Whether a lab's services have settled: each at its replicas or waiting where Swarm says
why, no rolling update under way; and which one-shot jobs ran to completion. Read through
the lab's SwarmReader (observe/running.py)."""

from __future__ import annotations

import time
from typing import Optional, Tuple

from ..waiting import poll
from .running import SwarmReader, go_time


def jobs_done(reader: SwarmReader, wanted: dict) -> set:
    """Those services whose tasks ran to completion (exit 0) and that Swarm leaves done (a
    restart_policy of on-failure or none: no task wanted running again): a one-shot job, a
    migration, is settled at 0 running."""
    out = set()
    for name, want in wanted.items():
        tasks = reader.tasks(name, running_only=False)
        if not any(t.desired.lower() in ("running", "ready") for t in tasks) and sum(
            t.state.startswith("Complete") for t in tasks
        ) >= max(want, 1):
            out.add(name)
    return out


SETTLED_FOR = 1.0


def settle(reader: SwarmReader, expected: Optional[set], timeout: float, settled_for: float = SETTLED_FOR) -> str:
    """wait_settled's wait, for the services named (None: every service of the lab).
    settled_for=0 where no change can be on its way unseen (a scale is seen at once)."""
    since = {"at": None}

    def probe():
        settled, seen = _settled(reader, expected if expected is not None else set(reader.replicas()))
        if not settled:
            since["at"] = None
            return False, seen
        since["at"] = since["at"] or time.monotonic()
        return time.monotonic() - since["at"] >= settled_for, seen

    return poll("every service to run or wait with a reason", probe, timeout, interval=0.3)


def _settled(reader: SwarmReader, expected: set) -> Tuple[bool, str]:
    counts = {k: v for k, v in reader.replicas().items() if k in expected}
    if set(counts) != expected:
        return False, f"services so far: {', '.join(sorted(counts)) or 'none'}"
    # a rolling update whose new tasks cannot be placed never completes: it waits with a reason
    rolling = reader.updating(sorted(expected))
    # a service wanted at 0 replicas is settled once asked (its tasks may still be stopping)
    short = sorted(
        {k for k, (have, want) in counts.items() if have != want and want} | {k for k in rolling if counts[k][1]}
    )
    if not short:
        return True, "every service has its replicas"
    tasks = reader.tasks(short, running_only=True, waiting_too=True)
    # waiting: Swarm wants it running and says why it cannot place it. A replacement whose
    # predecessor still stops (stop-first) is wanted "ready" only, and may say "port in use"
    # until then: on its way, not waiting.
    stuck = {t.name.rsplit(".", 1)[0] for t in tasks if t.error and t.desired.lower() == "running"}
    moving = [
        f"{t.name} {t.state.lower()}"
        for t in tasks
        if not t.running and not (t.error and t.desired.lower() == "running")
    ]
    done = _replaced(reader, rolling, counts, tasks) if not moving else set()
    waiting = [k for k in short if k not in stuck and k not in done]
    seen = "; ".join(f"{k} {counts[k][0]}/{counts[k][1]}" + (" rolling" if k in rolling else "") for k in short)
    return not waiting and not moving, seen + (
        f" ({', '.join(moving[:4])})" if moving else f" (starting: {', '.join(waiting)})" if waiting else ""
    )


def _replaced(reader: SwarmReader, rolling: dict, counts: dict, tasks) -> set:
    """The rolling services whose every task is new and counted: what is left of their
    update is Swarm watching them for failures (update_config.monitor, 5 s by default)."""
    full = [k for k in rolling if counts[k][0] == counts[k][1]]
    mine = {k: [t.id for t in tasks if t.name.rsplit(".", 1)[0] == k] for k in full}
    made = reader.created([i for ids in mine.values() for i in ids])
    began = {k: go_time(rolling[k]) or 0.0 for k in mine}
    return {k for k, ids in mine.items() if ids and all((go_time(made.get(i, "")) or -1.0) >= began[k] for i in ids)}

"""`swarmlab verify`: prove the cross-host traffic of a running lab, with evidence."""

from __future__ import annotations

import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any, Dict, Optional

from .. import safefs
from ..config.stack import docker_networks, service_networks
from ..errors import ConfigError, Problem
from ..observe.running import Lab, open_lab
from ..providers.base import Provider
from ..result import CheckResult
from ..observe import netns, topology
from . import checks

CHECK_TIMEOUT = 60.0


def _capture_folder(folder: Path) -> None:
    """--capture DIR: a folder of ours (made 0700 when new) holding no link: the captures
    are written as root, and a planted link would take them elsewhere."""
    links = safefs.links_in(folder)
    if links:
        raise ConfigError(
            [
                Problem(
                    str(folder),
                    "",
                    f"holds links ({', '.join(links[:5])}): captures are written "
                    "as root and never through a link; give a new or empty folder",
                )
            ],
            "the capture folder",
        )
    safefs.private_dir(folder)


def run(
    lab: str,
    provider: Provider,
    capture_dir: Optional[str] = None,
    timeout: float = CHECK_TIMEOUT,
    only: Optional[list] = None,
) -> Dict[str, Any]:
    """Run every check (or those named in `only`) and gather their results."""
    started = time.monotonic()
    if capture_dir is not None:
        _capture_folder(Path(capture_dir))
    # each command may take as much longer as the checks are given (slow hosts)
    run_state = netns.Run(scale=max(1.0, timeout / CHECK_TIMEOUT))
    handle = open_lab(lab, provider)
    handle.need_leader()
    caps = handle.caps
    topo = topology.read(handle, _intended_networks(handle))
    keep = capture_dir is not None
    ctx = checks.VerifyContext(topo, caps, Path(capture_dir or tempfile.mkdtemp(prefix=f"swarmlab-{lab}-pcap-")))
    results: list[CheckResult] = []
    # independent checks run side by side; one failing or hanging does not stop the others
    pool = ThreadPoolExecutor(max_workers=len(checks.ALL))
    try:
        t0 = time.monotonic()
        chosen = [fn for fn in checks.ALL if not only or fn.__name__ in only]
        futures = [(fn, pool.submit(_timed, fn, ctx, run_state)) for fn in chosen]
        deadline = t0 + timeout
        for fn, fut in futures:
            name = fn.__name__.replace("_", " ")
            try:
                got, spent = fut.result(timeout=max(0.1, deadline - time.monotonic()))
                results += [
                    CheckResult(c.name, c.passed, c.expected, c.observed, c.evidence, c.status, spent) for c in got
                ]
            except FutureTimeout:
                last = run_state.last_seen.get(fn.__name__, "nothing recorded")
                results.append(
                    CheckResult(
                        name, False, f"done within {timeout:.0f}s", f"timed out; last seen: {last}", duration=timeout
                    )
                )
            except Exception as exc:
                results.append(
                    CheckResult(
                        name,
                        False,
                        "the check runs",
                        f"{exc.__class__.__name__}: {exc}",
                        duration=time.monotonic() - t0,
                    )
                )
    finally:
        # a check past its time is not waited for (its commands have their own time-outs)
        pool.shutdown(wait=False, cancel_futures=True)
    if not keep:  # captures are evidence only when asked for (--capture DIR)
        shutil.rmtree(ctx.capture_dir, ignore_errors=True)
    services = sorted({s.short for s in topo.services.values()})
    matrix = list(ctx.matrix.items())  # a snapshot: a timed-out check may still be adding to it
    sources = services + sorted({k[0] for k, _ in matrix if k[0].startswith("outsider@")})
    return {
        "lab": lab,
        "checks": [c.as_dict() for c in results],
        "matrix": {"rows": sources, "columns": services, "cells": {f"{a}->{b}": v for (a, b), v in sorted(matrix)}},
        "capture_dir": str(ctx.capture_dir) if keep else None,
        "passed": all(c.state in ("passed", "unsupported") for c in results),
        "seconds": round(time.monotonic() - started, 1),
    }


def _timed(fn, ctx, run_state: netns.Run):
    netns.working_on(fn.__name__, run_state)
    started = time.monotonic()
    return fn(ctx), time.monotonic() - started


def _intended_networks(handle: Lab) -> Optional[Dict[str, list]]:
    """The networks each service should have, from the scenario the lab was made from."""

    scenario = handle.scenario
    if scenario is None:
        return None  # unknown, or the file moved or changed: expect what runs
    out = {}
    for part in scenario.stacks:
        names = {**scenario.network_names, **docker_networks(part.stack)}
        for name, svc in (part.stack.get("services") or {}).items():
            out[f"{part.name}_{name}"] = [names.get(k, k) for k in service_networks(svc, list(names))]
    return out

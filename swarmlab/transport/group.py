"""Run on many hosts at once and keep every host's result (fabric's Group idea)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, Sequence, TypeVar, Union

from ..result import CommandResult, GroupResult
from .base import Transport

T = TypeVar("T")
R = TypeVar("R")
# How many hosts are worked on at once. All at once measured best for small labs; 40 at
# once on 2 cores only queued behind each other (and past docker-py's pools, below).
PARALLEL = int(os.environ.get("SWARMLAB_PARALLEL", "16"))


class HostGroup:
    def __init__(self, transports: Sequence[Transport]):
        self.transports = list(transports)

    def run(self, cmd: str, timeout: float = 120) -> GroupResult:
        return self.each(lambda t: t.run(cmd, timeout=timeout, warn=True))

    def each(self, fn: Callable[[Transport], CommandResult]) -> GroupResult:
        return _gather(self.transports, lambda t: t.host, fn)


def run_on(hosts: Sequence, fn: Callable) -> GroupResult:
    """fn(host) -> CommandResult on every host at once, keyed by host name; exceptions kept."""
    return _gather(hosts, lambda h: h.name, fn)


def _gather(items: Sequence, key: Callable, fn: Callable) -> GroupResult:
    """Every item's result (or exception, kept for the caller to judge), keyed by key(item)."""
    out = GroupResult()
    for i, r in parallel(list(items), fn).items():
        if isinstance(r, Exception):
            out.errors[key(items[i])] = r
        else:
            out.results[key(items[i])] = r
    return out


def parallel(items: Sequence[T], fn: Callable[[T], R]) -> Dict[int, Union[R, Exception]]:
    """Run fn over items in threads; re-raise nothing, return index -> result or exception."""
    results: Dict[int, Union[R, Exception]] = {}
    if not items:
        return results
    with ThreadPoolExecutor(max_workers=min(len(items), PARALLEL)) as pool:
        futs = [pool.submit(fn, it) for it in items]
        for i, f in enumerate(futs):
            try:
                results[i] = f.result()
            except Exception as exc:
                results[i] = exc
    return results

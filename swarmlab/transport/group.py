"""Run on many hosts at once and keep every host's result (fabric's Group idea)."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Dict, Sequence, TypeVar

from ..result import CommandResult, GroupResult
from .base import Transport

T = TypeVar("T")


class HostGroup:
    def __init__(self, transports: Sequence[Transport]):
        self.transports = list(transports)

    def run(self, cmd: str, timeout: float = 120) -> GroupResult:
        return self.each(lambda t: t.run(cmd, timeout=timeout, warn=True))

    def each(self, fn: Callable[[Transport], CommandResult]) -> GroupResult:
        out = GroupResult()
        if not self.transports:
            return out
        with ThreadPoolExecutor(max_workers=len(self.transports)) as pool:
            futures = {t.host: pool.submit(fn, t) for t in self.transports}
            for host, fut in futures.items():
                try:
                    out.results[host] = fut.result()
                except Exception as exc:  # kept per host; the caller decides
                    out.errors[host] = exc
        return out


def run_on(hosts: Sequence, fn: Callable) -> GroupResult:
    """fn(host) -> CommandResult on every host at once, keyed by host name; exceptions kept."""
    out = GroupResult()
    for i, r in parallel(list(hosts), fn).items():
        name = hosts[i].name
        if isinstance(r, Exception):
            out.errors[name] = r
        else:
            out.results[name] = r
    return out


def parallel(items: Sequence[T], fn: Callable[[T], object]) -> Dict[int, object]:
    """Run fn over items in threads; re-raise nothing, return index -> result or exception."""
    results: Dict[int, object] = {}
    if not items:
        return results
    with ThreadPoolExecutor(max_workers=len(items)) as pool:
        futs = [pool.submit(fn, it) for it in items]
        for i, f in enumerate(futs):
            try:
                results[i] = f.result()
            except Exception as exc:
                results[i] = exc
    return results

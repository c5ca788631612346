"""Waiting is a strategy: poll, tolerate the transient, and on timeout say what was last
seen (testcontainers' WaitStrategy). Below the providers, so every deadline loop of the
tool is this one."""

from __future__ import annotations

import time
from typing import Callable, Tuple

from .errors import WaitTimeout

Probe = Callable[[], Tuple[bool, str]]


def until(probe: Probe, timeout: float, interval: float = 0.5) -> Tuple[bool, str, float]:
    """Call probe() until it returns (True, seen) or `timeout` seconds pass; an exception
    is a transient "not yet". (done, what was last seen, seconds it took)."""
    started = time.monotonic()
    deadline = started + timeout
    seen = "nothing yet"
    while True:
        try:
            done, seen = probe()
        except Exception as exc:  # transient while things start
            done, seen = False, f"{exc.__class__.__name__}: {exc}"
        if done or time.monotonic() >= deadline:
            return done, seen, time.monotonic() - started
        time.sleep(interval)


def poll(what: str, probe: Probe, timeout: float, interval: float = 0.5) -> str:
    """until(), but a timeout is a WaitTimeout naming `what` and the last thing seen."""
    done, seen, _ = until(probe, timeout, interval)
    if not done:
        raise WaitTimeout(what, timeout, seen)
    return seen

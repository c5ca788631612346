"""What the steps of `up` share."""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..addressing import AddressPlan
from ..capabilities import Capabilities, EncryptionDecision
from ..config.model import Scenario
from ..providers.base import Host, Provider
from ..result import CheckResult


@dataclass
class UpContext:
    scenario: Scenario
    lab: str
    provider: Provider
    say: Callable[[str], None]
    force: bool = False
    plan: Optional[AddressPlan] = None
    hosts: List[Host] = field(default_factory=list)
    kernel: Optional[Capabilities] = None
    caps: List[Capabilities] = field(default_factory=list)
    encryption: Dict[str, EncryptionDecision] = field(default_factory=dict)
    warnings: List[str] = field(default_factory=list)
    images: Dict[str, str] = field(default_factory=dict)  # ref -> id on the controller
    pinned: Dict[str, str] = field(default_factory=dict)  # ref -> registry ref @digest (a registry's)
    transfers: Dict[str, dict] = field(default_factory=dict)  # node -> {loaded: [refs], seconds}
    checks: List[CheckResult] = field(default_factory=list)
    created: bool = False  # this `up` made the lab (so a failure removes it)
    timings: Dict[str, float] = field(default_factory=dict)
    images_for: Optional[dict] = None  # the stack deciding which images go where (else the scenario's)
    pull: bool = False  # this machine may pull the images it lacks
    retain: bool = False  # a failed `up` keeps what it made
    resumed: List[str] = field(default_factory=list)  # the nodes that were stopped and started again
    jobs: Dict[str, Tuple[ThreadPoolExecutor, Future]] = field(default_factory=dict)  # work under way

    def timed(self, name: str, fn: Callable[[], Any], announce: Optional[Callable[[str], Any]] = None) -> None:
        started = time.monotonic()
        if announce:
            announce(name)
        fn()
        self.timings[name] = round(time.monotonic() - started, 2)

    def start(self, name: str, fn: Callable[[], Any]) -> None:
        """fn in the background, until the step of that name waits for it (finish)."""
        pool = ThreadPoolExecutor(max_workers=1)
        self.jobs[name] = (pool, pool.submit(fn))

    def finish(self, name: str) -> Any:
        pool, fut = self.jobs.pop(name)
        try:
            return fut.result()
        finally:
            pool.shutdown(wait=True)

    def settle(self) -> None:
        """Every background job done (its error left to the failure being handled)."""
        for name in list(self.jobs):
            try:
                self.finish(name)
            except BaseException:  # noqa: BLE001  (the first failure is the one reported)
                pass

    def warn(self, text: str) -> None:
        if text not in self.warnings:
            self.warnings.append(text)
            self.say(f"warning: {text}")

    @property
    def managers(self) -> List[Host]:
        return [h for h in self.hosts if h.role == "manager"]

    @property
    def leader(self) -> Host:
        return self.managers[0]

    @property
    def ipvs(self) -> bool:
        return bool(self.caps) and all(c.ipvs for c in self.caps)

"""Results as values: what a command did on a host, on many hosts, or what a check saw."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Optional

from .errors import CommandFailed, SwarmlabError


@dataclass(frozen=True)
class CommandResult:
    host: str
    cmd: str
    exited: int
    # kept out of repr: a result in a log or traceback shows what ran, not all it printed
    stdout: str = field(default="", repr=False)
    stderr: str = field(default="", repr=False)
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        return self.exited == 0

    def check(self, what: str = "") -> "CommandResult":
        """Return self when the command succeeded, else raise CommandFailed."""
        if not self.ok:
            raise CommandFailed(self, what)
        return self


@dataclass
class GroupResult:
    """Every host's result, kept even when some hosts failed."""

    results: Dict[str, CommandResult] = field(default_factory=dict)
    errors: Dict[str, BaseException] = field(default_factory=dict)

    @property
    def failed(self) -> Dict[str, Any]:
        out: Dict[str, Any] = {h: r for h, r in self.results.items() if not r.ok}
        out.update(self.errors)
        return out

    @property
    def ok(self) -> bool:
        return not self.failed

    def check(self, what: str) -> "GroupResult":
        if self.ok:
            return self

        lines = [f"{what} failed on {len(self.failed)} host(s):"]
        for host, res in sorted(self.failed.items()):
            if isinstance(res, CommandResult):
                tail = (res.stderr or res.stdout).strip().splitlines()[-3:]
                lines.append(f"  {host}: `{res.cmd}` exited {res.exited}: " + " | ".join(tail))
            else:
                lines.append(f"  {host}: {res}")
        raise SwarmlabError("\n".join(lines))


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    expected: str
    observed: str
    evidence: Optional[str] = None
    status: Optional[str] = None  # passed / failed / unsupported; derived when None
    duration: float = 0.0

    @property
    def state(self) -> str:
        return self.status or ("passed" if self.passed else "failed")

    def as_dict(self) -> Dict[str, Any]:
        return {
            "name": self.name,
            "status": self.state,
            "expected": self.expected,
            "observed": self.observed,
            "evidence": self.evidence,
            "duration": round(self.duration, 2),
        }

"""One root error; every failure the tool reports is a SwarmlabError.

Library code raises these; only the CLI turns them into messages and exit codes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Sequence

from .shell import redact

# Named exit codes (the CLI is the only place that exits).
EXIT_OK = 0
EXIT_FAILURE = 1  # something went wrong while doing the work
EXIT_CONFIG = 2  # bad input: scenario, stack file, flags
EXIT_PREFLIGHT = 3  # the machine cannot do what was asked (engine, kernel)
EXIT_TIMEOUT = 4  # a wait ran out of time


class SwarmlabError(Exception):
    exit_code = EXIT_FAILURE

    def __init__(self, message: str, exit_code: Optional[int] = None, hint: str = ""):
        message = redact(message)  # a join token in a message is never shown, whoever wrote it
        super().__init__(message)
        self.message = message
        self.hint = hint
        if exit_code is not None:
            self.exit_code = exit_code

    def lines(self) -> list[str]:
        out = [self.message]
        if self.hint:
            out.append(f"hint: {self.hint}")
        return out


@dataclass(frozen=True)
class Problem:
    """One thing wrong in an input file: where it is and what to do."""

    file: str
    path: str  # dotted path inside the document, "" for the whole file
    message: str
    line: Optional[int] = None

    def __str__(self) -> str:
        where = self.file + (f":{self.line}" if self.line else "")
        return f"{where}: {self.path}: {self.message}" if self.path else f"{where}: {self.message}"


class ConfigError(SwarmlabError):
    """All the problems found in the input at once, never only the first."""

    exit_code = EXIT_CONFIG

    def __init__(self, problems: Sequence[Problem], what: str = "the lab definition"):
        self.problems = list(problems)
        n = len(self.problems)
        head = f"{n} problem{'s' if n != 1 else ''} in {what}; nothing was created"
        super().__init__(head)

    def lines(self) -> list[str]:
        return [self.message] + [f"  {p}" for p in self.problems]


class LabNotFound(SwarmlabError):
    """The one answer of every command to a lab that does not exist."""

    def __init__(self, lab: str):
        self.lab = lab
        super().__init__(
            f"no lab named {lab!r}",
            hint="swarmlab ls lists the labs (with --inventory or --provider for labs elsewhere)",
        )


class PreflightError(SwarmlabError):
    exit_code = EXIT_PREFLIGHT


class PoolTaken(SwarmlabError):
    """Another lab made at the same moment took the address pool this one chose."""

    def __init__(self, pool):
        super().__init__(f"address pool {pool} was taken by another lab made at the same moment")
        self.pool = pool


class WaitTimeout(SwarmlabError):
    """A wait ran out of time; carries what it last saw."""

    exit_code = EXIT_TIMEOUT

    def __init__(self, what: str, seconds: float, last_seen: str):
        self.what = what
        self.seconds = seconds
        self.last_seen = last_seen
        super().__init__(f"timed out after {seconds:.0f}s waiting for {what}; last seen: {last_seen}")


class CommandFailed(SwarmlabError):
    """A command on a host exited non-zero; carries its result."""

    def __init__(self, result, what: str = ""):
        self.result = result
        tail = (result.stderr or result.stdout or "").strip().splitlines()[-8:]
        msg = f"{what + ': ' if what else ''}`{result.cmd}` on {result.host} exited {result.exited}"
        if tail:
            msg += "\n    " + "\n    ".join(tail)
        super().__init__(msg)

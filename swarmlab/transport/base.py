from __future__ import annotations

from typing import IO, Optional, Protocol, Sequence, Union

from ..result import CommandResult
from ..shell import Arg

Stdin = Union[bytes, IO[bytes], None]
# where a command's output goes instead of its result (a `docker save` tar into `docker load`)
Stdout = Optional[IO[bytes]]
# An argument list (built into a quoted line by shell.sh), or a line made by shell.sh
# with literal shell structure between its commands.
Command = Union[str, Sequence[Arg]]


class Transport(Protocol):
    """Runs shell commands on one host. Results are values; `warn=False` raises
    CommandFailed on a non-zero exit, `warn=True` returns the failed result."""

    host: str

    def repeat(self, cmd: str) -> str:
        """The command line a reader types on the controller to run `cmd` on this host."""
        ...

    def interactive(self) -> list:
        """The argv that opens a login shell on this host from the controller's terminal."""
        ...

    def run(
        self, cmd: Command, *, stdin: Stdin = None, timeout: float = 120, warn: bool = False, stdout: Stdout = None
    ) -> CommandResult:
        """stdout: a binary file the command's output is written to (the result's is empty then)."""
        ...

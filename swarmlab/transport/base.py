from __future__ import annotations

from typing import IO, Protocol, Union

from ..result import CommandResult

Stdin = Union[bytes, IO[bytes], None]


class Transport(Protocol):
    """Runs shell commands on one host. Results are values; `warn=False` raises
    CommandFailed on a non-zero exit, `warn=True` returns the failed result."""

    host: str

    def run(self, cmd: str, *, stdin: Stdin = None, timeout: float = 120,
            warn: bool = False) -> CommandResult: ...

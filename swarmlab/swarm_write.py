"""A change asked of Swarm from a manager (`docker service update|scale|rollback`,
`docker node update|promote|demote`), by drills and lessons alike: one place that asks again
when Swarm answers "update out of sequence". That answer means the object's version moved
between the CLI's read and its write (the rolling update of a stack just deployed writes
its progress into the service; a node's status is rewritten as it reports in), and that
nothing was changed. Seen in CI under load. Any other error is final."""

from __future__ import annotations

import time

OUT_OF_SEQUENCE = "update out of sequence"


def swarm_write(transport, args: list, timeout: float = 240, tries: int = 5):
    """`docker ARGS` on the manager, asked again (at most `tries` times in all, a second
    apart) while Swarm answers out of sequence; the last result, unchecked."""
    r = transport.run(["docker", *args], timeout=timeout, warn=True)
    for _ in range(tries - 1):
        if r.ok or OUT_OF_SEQUENCE not in r.stderr:
            break
        time.sleep(1.0)
        r = transport.run(["docker", *args], timeout=timeout, warn=True)
    return r


def service_write(transport, args: list, timeout: float = 240, tries: int = 5):
    """`docker service ARGS` (update, scale), as swarm_write."""
    return swarm_write(transport, ["service", *args], timeout, tries)

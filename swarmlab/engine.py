"""The one place a Docker client for the controller's engine is built."""

from __future__ import annotations

import docker
from docker.errors import DockerException

from .errors import PreflightError

SETUP_HINT = (
    "run scripts/setup.sh: on Debian as root it installs docker.io and starts dockerd "
    "in the background when no engine answers"
)


def local_client(timeout: int = 120) -> docker.DockerClient:
    """A client for the engine DOCKER_HOST (or the local socket) names; fails clearly."""
    try:
        # docker-py keeps one connection pool per URL and closes the least recent past
        # num_pools (25), even while another thread uses it: with one thread per node of a
        # 40-node lab that was "'NoneType' object has no attribute 'qsize'". Pools are cheap.
        client = docker.DockerClient(timeout=timeout, num_pools=512, max_pool_size=32, **docker.utils.kwargs_from_env())
        client.ping()
    except DockerException as exc:
        reason = str(exc).split("(")[0].strip() or exc.__class__.__name__
        raise PreflightError(f"no Docker engine answers: {reason}", hint=SETUP_HINT) from None
    return client


def containers(client: docker.DockerClient, filters: dict, all: bool = True) -> list:
    """The engine's containers matching filters. docker-py inspects each container it lists:
    one removed in between (another lab's, or another session's) is left out, not a 404."""
    return client.containers.list(all=all, filters=filters, ignore_removed=True)

"""The one place a Docker client for the controller's engine is built."""
from __future__ import annotations

import docker
from docker.errors import DockerException

from .errors import PreflightError

SETUP_HINT = ("run scripts/setup.sh: on Debian as root it installs docker.io and starts dockerd "
              "in the background when no engine answers")


def local_client(timeout: int = 120) -> docker.DockerClient:
    """A client for the engine DOCKER_HOST (or the local socket) names; fails clearly."""
    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
    except DockerException as exc:
        reason = str(exc).split("(")[0].strip() or exc.__class__.__name__
        raise PreflightError(f"no Docker engine answers: {reason}", hint=SETUP_HINT) from None
    return client

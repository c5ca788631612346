"""How commands reach a host. Every provider hands out Transports; everything above
(swarm, networks, deploy, probes) speaks only to this interface."""

from .base import Transport
from .docker_exec import DockerExecTransport
from .group import HostGroup

__all__ = ["Transport", "DockerExecTransport", "HostGroup"]

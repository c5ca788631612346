"""The validated lab definition: frozen dataclasses, built only by the loader."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

from .compose import BuildSpec, FileObject

ENCRYPT_AUTO = "auto"


@dataclass(frozen=True)
class NetworkSpec:
    name: str  # on the engine
    encrypted: str = "false"  # "auto" | "true" | "false"
    attachable: bool = True
    internal: bool = False
    labels: Tuple[Tuple[str, str], ...] = ()
    subnet: str = ""
    stack_key: str = ""  # the stack's name for it, when not `name` (its `default`: <stack>_default)

    @property
    def key(self) -> str:
        return self.stack_key or self.name


@dataclass(frozen=True)
class NodeSpec:
    name: str
    index: int
    role: str  # manager | worker
    labels: Tuple[Tuple[str, str], ...] = ()
    availability: str = "active"


@dataclass(frozen=True)
class WaitSpec:
    timeout: float = 240.0
    http_service: Optional[str] = None  # wait.http: this service answers 200 on this port and path
    http_port: int = 0
    http_path: str = "/"
    ports: bool = True  # every published TCP port accepts a connection


@dataclass(frozen=True)
class StackPart:
    """One stack of the lab, deployed as its own `docker stack deploy`."""

    file: Path
    name: str
    stack: Dict[str, Any] = field(compare=False, repr=False)
    files: Tuple[FileObject, ...] = field(default=(), compare=False, repr=False)  # secrets/configs from files


@dataclass(frozen=True)
class Scenario:
    path: Path
    name: str
    description: str
    nodes: Tuple[NodeSpec, ...]
    networks: Tuple[NetworkSpec, ...]
    stack_file: Path
    stack_name: str
    stack: Dict[str, Any] = field(compare=False, repr=False)
    pool: str = "auto"
    wait: WaitSpec = WaitSpec()
    host_access: bool = False  # the stack may reach into the host (bind /, the socket, ALL caps)
    builds: Dict[str, BuildSpec] = field(default_factory=dict, compare=False, repr=False)
    notes: Tuple[str, ...] = ()  # what stack deploy would ignore, said once by `up`
    files: Tuple[FileObject, ...] = field(default=(), compare=False, repr=False)  # secrets/configs from files
    source: str = ""  # what `up` was given: the scenario file, or "stack:" + the stack file
    # every stack the lab deploys, the one above first: verify, drills and lessons name that
    # one; `up`, `wait` and the seal take them all (an imported lab had several)
    more: Tuple[StackPart, ...] = field(default=(), compare=False, repr=False)

    @property
    def stacks(self) -> Tuple[StackPart, ...]:
        return (StackPart(self.stack_file, self.stack_name, self.stack, self.files),) + self.more

    @property
    def services(self) -> Dict[str, Any]:
        """Every stack's services by their name on the engine (<stack>_<service>)."""
        return {f"{p.name}_{k}": v for p in self.stacks for k, v in (p.stack.get("services") or {}).items()}

    @property
    def managers(self) -> Tuple[NodeSpec, ...]:
        return tuple(n for n in self.nodes if n.role == "manager")

    @property
    def workers(self) -> Tuple[NodeSpec, ...]:
        return tuple(n for n in self.nodes if n.role == "worker")

    @property
    def network_names(self) -> Dict[str, str]:
        """The stack's name of each network -> its name on the engine."""
        return {n.key: n.name for n in self.networks}

    def network(self, name: str) -> NetworkSpec:
        for net in self.networks:
            if net.name == name:
                return net
        raise KeyError(name)

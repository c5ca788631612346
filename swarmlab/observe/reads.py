"""The small reads of a running lab that features and `up`'s steps need beside
SwarmReader's snapshots: one container on a node, the names or ids a label selects, a
network's VXLAN id, a service's replicas or update state, the nodes' availability. Each is
one `docker` read from a host (a manager for Swarm's objects), returned as a value; a read
that must not fail raises (CommandFailed), one that may is said as a value."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

from .. import labels as L
from ..providers.base import Host
from ..shell import sh
from ..transport.group import run_on

VXLAN_IDS = '{{index .Options "com.docker.network.driver.overlay.vxlanid_list"}}'


@dataclass(frozen=True)
class ContainerView:
    exists: bool
    running: bool
    networks: Dict[str, str] = field(default_factory=dict)  # network -> its address there ("" when none)


def container(host: Host, name: str) -> ContainerView:
    """A container on the node (a task's, or one of the node's own): is it there, does it
    run, and its address on each network."""
    r = host.transport.run(
        ["docker", "inspect", "--format", "{{.State.Running}} {{json .NetworkSettings.Networks}}", name], warn=True
    )
    state, _, raw = r.stdout.strip().partition(" ")
    try:
        nets = json.loads(raw) if raw.strip() not in ("", "null") else {}
    except ValueError:
        nets = {}
    addrs = {n: (v or {}).get("IPAddress") or "" for n, v in (nets or {}).items()}
    return ContainerView(r.ok, r.ok and state == "true", addrs)


def addresses(host: Host, name: str) -> List[str]:
    """A container's addresses, every network's (its inspect must answer)."""
    r = host.transport.run(
        ["docker", "inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", name],
        timeout=20,
    )
    return r.stdout.split()


def ids(t, kind: str, filters: Sequence = ()) -> List[str]:
    """`docker KIND ls -q` (service, network, config, ...): the ids the filters select."""
    return t.run(["docker", kind, "ls", "-q", list(filters)], warn=True).stdout.split()


def names(t, kind: str, filters: Sequence = (), strict: bool = False) -> List[str]:
    """`docker KIND ls` by name; strict: a failed read raises."""
    return t.run(["docker", kind, "ls", list(filters), "--format", "{{.Name}}"], warn=not strict).stdout.split()


def overlays(t) -> Dict[str, dict]:
    """Every overlay network the manager knows, by name: its inspect."""
    found = t.run("docker network ls --filter driver=overlay --format '{{.Name}}'").stdout.split()
    return (
        {info["Name"]: info for info in json.loads(t.run(["docker", "network", "inspect", found]).stdout)}
        if found
        else {}
    )


def network_exists(t, name: str) -> bool:
    return t.run(["docker", "network", "inspect", name], warn=True).ok


def vxlan_id(t, network: str) -> str:
    """The overlay's VXLAN id as Docker gave it (a number; else what was read)."""
    return t.run(["docker", "network", "inspect", network, "--format", VXLAN_IDS], timeout=30).stdout.strip()


def service_specs(t, services: List[str]) -> List[dict]:
    """`docker service inspect` of these services (those that exist)."""
    r = t.run(["docker", "service", "inspect", services], warn=True, timeout=30) if services else None
    return json.loads(r.stdout) if r is not None and r.stdout.strip() else []


def replicas(t, service: str) -> str:
    """A replicated service's replicas as Swarm holds them ("" for a global one); raises
    when the service cannot be read."""
    fmt = "{{if .Spec.Mode.Replicated}}{{.Spec.Mode.Replicated.Replicas}}{{end}}"
    r = t.run(["docker", "service", "inspect", "--format", fmt, service], timeout=60, warn=True)
    return r.check("read replicas").stdout


def update_state(t, service: str, with_message: bool = False) -> str:
    """The service's UpdateStatus state ("" when it has none), and its message if asked."""
    said = ": {{.UpdateStatus.Message}}" if with_message else ""
    fmt = "{{if .UpdateStatus}}{{.UpdateStatus.State}}" + said + "{{end}}"
    return t.run(["docker", "service", "inspect", "--format", fmt, service], timeout=30, warn=True).stdout.strip()


def hostnames(t) -> Optional[List[str]]:
    """The nodes the manager lists, by hostname; None when it does not answer."""
    r = t.run(["docker", "node", "ls", "--format", "{{.Hostname}}"], warn=True, timeout=30)
    return r.stdout.split() if r.ok else None


def availability(t) -> Dict[str, str]:
    """Each node's availability (Active, Pause, Drain) by hostname."""
    r = t.run(["docker", "node", "ls", "--format", "{{.Hostname}} {{.Availability}}"], warn=True)
    return {w[0]: " ".join(w[1:]) for w in (line.split() for line in r.stdout.splitlines()) if w}


def running_on(t, node: str) -> Tuple[bool, List[str]]:
    """(read, the tasks the manager counts as running on the node)."""
    r = t.run(["docker", "node", "ps", "--format", "{{.Name}} {{.CurrentState}}", node], warn=True)
    return r.ok, [line.split()[0] for line in r.stdout.splitlines() if " Running" in line]


def has_digest(host: Host, ref: str, digest: str) -> bool:
    """The node's image `ref` carries this repo digest."""
    r = host.transport.run(["docker", "image", "inspect", "--format", "{{json .RepoDigests}}", ref], warn=True)
    return r.ok and digest in r.stdout


def image_size(t, ref: str) -> Optional[int]:
    """The bytes of image `ref` on the engine behind transport t; None where it has no such image."""
    r = t.run(["docker", "image", "inspect", "--format", "{{.Size}}", ref], timeout=30, warn=True)
    return int(r.stdout.strip()) if r.ok and r.stdout.strip().isdigit() else None


def free_for_images() -> Optional[int]:
    """Bytes free on the disk that holds this machine's engine's images; None where that
    engine is elsewhere (DOCKER_HOST) or does not say."""
    try:
        r = subprocess.run(
            ["docker", "info", "--format", "{{.DockerRootDir}}"], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    root = r.stdout.strip()
    if r.returncode != 0 or not root or not os.path.isdir(root):
        return None
    return shutil.disk_usage(root).free


def stack_containers(hosts: List[Host], stack: str) -> Tuple[List[str], Dict[str, BaseException]]:
    """The service of every container of the stack still on the nodes (running or not),
    asked of the nodes themselves, and the nodes that did not answer."""
    ask = sh(
        "docker",
        "ps",
        "-a",
        "--filter",
        f"label={L.STACK}={stack}",
        "--format",
        '{{.Label "com.docker.swarm.service.name"}}',
    )
    seen = run_on(hosts, lambda h: h.transport.run(ask, timeout=20, warn=True))
    return [n for r in seen.results.values() for n in r.stdout.split()], seen.errors

"""The label names. Every container, network, volume and service the tool makes
carries LAB (and a ROLE); `down`, `ls` and the tests find everything by them."""

from __future__ import annotations

from typing import Dict, Optional

PREFIX = "io.swarmlab"
LAB = f"{PREFIX}.lab"  # the lab's name
PLACED = f"{PREFIX}.placed"  # on a copy's node: its name, so a constraint can keep a task where it ran
ROLE = f"{PREFIX}.role"  # node, underlay, node-state, probe, overlay, service, ...
STACK = "com.docker.stack.namespace"  # Docker's own, on what `docker stack deploy` makes
NODE = f"{PREFIX}.node"  # node name (node-1, ...)
SWARM_ROLE = f"{PREFIX}.swarm-role"  # manager / worker
POOL = f"{PREFIX}.pool"  # the lab's private address range
SCENARIO = f"{PREFIX}.scenario"  # scenario file the lab came from
PROVIDER = f"{PREFIX}.provider"
ENCRYPTION_REQUESTED = f"{PREFIX}.encrypted-requested"  # auto / true / false
ENCRYPTION_REASON = f"{PREFIX}.encryption-reason"
IMAGE_HASH = f"{PREFIX}.image-hash"  # content hash an image was built from
IMAGE_NAME = f"{PREFIX}.image"  # the swarmlab image name (node, web, ...)
IMAGE_ID = f"{PREFIX}.image-id"  # on a task: the id of the image it must run

ROLE_NODE = "node"
ROLE_UNDERLAY = "underlay"
ROLE_NODE_STATE = "node-state"
ROLE_PROBE = "probe"


def stamp(lab: str, role: str, **extra: Optional[str]) -> Dict[str, str]:
    """Labels for one resource of `lab` with `role`; extra keys are label suffixes."""
    out = {LAB: lab, ROLE: role}
    for key, value in extra.items():
        if value is not None:
            out[f"{PREFIX}.{key.replace('_', '-')}"] = str(value)
    return out


def lab_filter(lab: Optional[str] = None, role: Optional[str] = None) -> Dict[str, list]:
    """A docker API `filters` dict selecting a lab's resources (all labs when lab is None)."""
    wanted = [f"{LAB}={lab}" if lab else LAB]
    if role:
        wanted.append(f"{ROLE}={role}")
    return {"label": wanted}

"""What a dind node container is made of: its image, the engine options it runs with
(capabilities, masked paths, devices, mounts) and its environment."""

from __future__ import annotations

from typing import Dict, Optional

import docker

from .. import naming
from ..addressing import AddressPlan
from ..images import image_ref
from .seed import MOUNT as SEED_MOUNT


NODE_IMAGE = image_ref("node")


def node_host_config(
    api: docker.APIClient,
    volume: Optional[str],
    network: Optional[str],
    seed: Optional[str] = None,
    restart: bool = False,
):
    """The flags a dind node needs here, each with its reason."""
    binds = {
        # The inner engine creates its containers' cgroups in the host's tree, under
        # its own --cgroup-parent (distinct per node, removed on `down`).
        "/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"},
    }
    if volume:
        # Image layers and swarm state on a volume: overlay2 works (not overlay on
        # overlay), state survives a node restart, and images do not eat RAM.
        binds[volume] = {"bind": "/var/lib/docker", "mode": "rw"}
    if seed:
        # Its images, loaded once for every node like it: linked at first start (seed.py).
        binds[seed] = {"bind": SEED_MOUNT, "mode": "ro"}
    hc = api.create_host_config(
        # --privileged fails on this kind of host ("unable to apply caps"): every cap but
        # SYS_RESOURCE (the one that cannot be applied) and those no engine, overlay or
        # drill here uses (UNUSED_CAPS: each a way to the host's kernel, clock or files).
        cap_add=["ALL"],
        cap_drop=["SYS_RESOURCE", *UNUSED_CAPS],
        # dockerd mounts, unshares and loads seccomp profiles of its own; the default
        # profiles would forbid that.
        security_opt=["seccomp=unconfined", "apparmor=unconfined"],
        binds=binds,
        # A fresh /run each start: no stale pid files or sockets from a killed engine.
        tmpfs={"/run": "rw,nosuid,nodev,exec,mode=755", "/tmp": "rw,nosuid,nodev,mode=1777"},
        network_mode=network,
        # A node comes back with the engine (a restart, a reboot), as a host does; `docker
        # kill` (the kill-node drill) and `docker stop` count as meant and are not undone.
        restart_policy={"Name": "unless-stopped"} if restart else None,
    )
    # Not systempaths=unconfined (both lists empty): the inner engine writes the node's
    # /proc/sys/net (its own network namespace) and mounts its containers' own /proc, so
    # only what reaches the host's kernel as a whole is hidden or read-only.
    hc["MaskedPaths"] = list(MASKED_PATHS)
    hc["ReadonlyPaths"] = list(READONLY_PATHS)
    return hc


# Capabilities a node's dockerd, containerd, runc, iptables, tc and the drills never use;
# each would let a node's root reach past its container: kexec a new kernel (SYS_BOOT),
# set the host's clock (SYS_TIME), raw I/O ports and /dev/mem (SYS_RAWIO), open a host
# file by handle (DAC_READ_SEARCH, the "shocker" escape), host security policy
# (MAC_ADMIN, MAC_OVERRIDE), audit and kernel log (AUDIT_CONTROL, AUDIT_READ, SYSLOG),
# host power (WAKE_ALARM, BLOCK_SUSPEND), immutable host files (LINUX_IMMUTABLE),
# accounting (SYS_PACCT), the host's ttys (SYS_TTY_CONFIG), file leases (LEASE).
# Measured: the lessons, drills, verify and compare pass without them (bench/RESULTS.md).
UNUSED_CAPS = (
    "SYS_BOOT",
    "SYS_TIME",
    "SYS_RAWIO",
    "DAC_READ_SEARCH",
    "MAC_ADMIN",
    "MAC_OVERRIDE",
    "AUDIT_CONTROL",
    "AUDIT_READ",
    "SYSLOG",
    "WAKE_ALARM",
    "BLOCK_SUSPEND",
    "LINUX_IMMUTABLE",
    "SYS_PACCT",
    "SYS_TTY_CONFIG",
    "LEASE",
)
# The host kernel's memory, keys, timers and sysrq, hidden as Docker hides them from any
# container; the kernel-wide sysctls (kernel.*: core_pattern runs a host program) read-only.
MASKED_PATHS = (
    "/proc/kcore",
    "/proc/keys",
    "/proc/timer_list",
    "/proc/sched_debug",
    "/proc/sysrq-trigger",
    "/sys/firmware",
)
READONLY_PATHS = ("/proc/sys/kernel", "/proc/bus", "/proc/irq")


def node_env(lab: str, node: str, plan: AddressPlan) -> Dict[str, str]:
    """What the node's entrypoint reads (images/context/node/entrypoint.sh)."""
    return {
        "SWARMLAB_UNDERLAY": str(plan.underlay),
        "SWARMLAB_OVERLAY_POOL": str(plan.overlay_pool),
        "SWARMLAB_BIP": plan.bip,
        "SWARMLAB_LOCAL_POOL": str(plan.local_pool),
        "SWARMLAB_CGROUP_PARENT": naming.cgroup_parent(lab, node),
    }

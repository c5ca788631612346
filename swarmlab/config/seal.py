"""The sealed lab as an allow-list: what a task may have of its node without the user's
consent, and every other thing named, where the stack file says it.

Without host access a task may mount only named volumes of the local driver with no
driver options, anonymous volumes, tmpfs, and the stack's configs and secrets; it keeps
Docker's default capabilities and nothing more. Everything else gives the task a piece of
its node (on dind, one step from root on this machine) and needs `host_access: true` in
the scenario or `--host-access` on `up`.

Some of the keys refused here are ignored by `docker stack deploy` today (devices,
network_mode, security_opt, ...): refusing them is stricter than Docker, on purpose, so
that a newer engine honouring them cannot open a sealed lab; the message says so."""

from __future__ import annotations

from typing import Any, Iterator, List, Mapping, Tuple

from .stack import docker_networks

Found = Iterator[Tuple[Tuple[str, ...], str]]

# Docker's default capability set (moby's oci/caps/defaults.go): adding one of these changes nothing.
DEFAULT_CAPS = frozenset(
    (
        "CHOWN",
        "DAC_OVERRIDE",
        "FSETID",
        "FOWNER",
        "MKNOD",
        "NET_RAW",
        "SETGID",
        "SETUID",
        "SETFCAP",
        "SETPCAP",
        "NET_BIND_SERVICE",
        "SYS_CHROOT",
        "KILL",
        "AUDIT_WRITE",
    )
)
# Namespaces a service may share with its node instead of having its own.
HOST_NAMESPACES = ("network_mode", "pid", "ipc", "uts", "userns_mode", "cgroupns_mode")
# The only security_opt that tightens; every other one loosens (unconfined seccomp/apparmor, labels off).
TIGHTENING = ("no-new-privileges", "no-new-privileges:true", "no-new-privileges=true")
MOUNT_TYPES = ("volume", "tmpfs")
FLAG = "allow it with host_access: true in the scenario, or --host-access on up"
STRICTER = " (docker stack deploy ignores this key today; a sealed lab refuses it all the same)"


def check(stack: Any) -> Found:
    """(path, message) for each thing the stack would take from its node."""
    if not isinstance(stack, Mapping):
        return
    services = stack.get("services")
    for name, svc in services.items() if isinstance(services, Mapping) else ():
        if isinstance(svc, Mapping):
            for p, what in service_uses(svc):
                yield ("services", str(name)) + p, f"{what}: a sealed lab gives a task nothing of its node; {FLAG}"
    for p, what in volume_uses(stack.get("volumes")) + network_uses(stack):
        yield p, f"{what}: a sealed lab gives a task nothing of its node; {FLAG}"


def network_uses(stack: Mapping) -> List[Tuple[Tuple[str, ...], str]]:
    """Docker's host network named by the stack: a task on it has its node's own network."""
    return [
        (("networks", key), "Docker's host network (the node's own network stack)")
        for key, name in docker_networks(stack).items()
        if name == "host"
    ]


def service_uses(svc: Mapping) -> List[Tuple[Tuple[str, ...], str]]:
    """(path, what) for each way one service reaches into its node."""
    out: List[Tuple[Tuple[str, ...], str]] = [(("volumes", str(i)), what) for i, what in _mounts(svc.get("volumes"))]
    for i, cap in enumerate(_list(svc.get("cap_add"))):
        name = str(cap).upper().removeprefix("CAP_")
        if name not in DEFAULT_CAPS:
            out.append((("cap_add", str(i)), f"cap_add {name} (outside Docker's default capabilities)"))
    if svc.get("privileged") not in (None, False):
        out.append((("privileged",), "privileged: true" + STRICTER))
    if svc.get("devices"):
        out.append((("devices",), "devices (the node's device files)" + STRICTER))
    for key in HOST_NAMESPACES:
        value = svc.get(key)
        if value is not None and (str(value) == "host" or str(value).startswith(("container:", "service:"))):
            out.append(((key,), f"{key}: {value} (the node's own namespace)" + STRICTER))
    for i, opt in enumerate(_list(svc.get("security_opt"))):
        if str(opt).strip() not in TIGHTENING:
            out.append(
                (
                    ("security_opt", str(i)),
                    f"security_opt {str(opt)[:60]!r} (loosens the task's confinement)" + STRICTER,
                )
            )
    if svc.get("cgroup_parent") is not None:
        out.append((("cgroup_parent",), "cgroup_parent (a cgroup of the node's choosing)" + STRICTER))
    return out


def _mounts(volumes: Any) -> Iterator[Tuple[int, str]]:
    for i, vol in enumerate(_list(volumes)):
        if isinstance(vol, str):
            source = vol.split(":", 1)[0] if ":" in vol else ""
            if source.startswith((".", "/", "~")):  # as Docker's loader tells a path from a volume name
                yield i, f"a bind mount of the node's {source[:80]!r}"
        elif isinstance(vol, Mapping):
            kind = vol.get("type", "volume")
            if kind == "bind":
                yield i, f"a bind mount of the node's {str(vol.get('source'))[:80]!r}"
            elif kind not in MOUNT_TYPES:
                yield i, f"a mount of type {str(kind)[:20]!r} (only volume and tmpfs are sealed)"
            elif kind == "volume" and isinstance(vol.get("volume"), Mapping) and set(vol["volume"]) - {"nocopy"}:
                yield i, "a volume mount with driver options"


def volume_uses(volumes: Any) -> List[Tuple[Tuple[str, ...], str]]:
    """Top-level volumes made by another driver or with driver options (a bind of any path)."""
    out: List[Tuple[Tuple[str, ...], str]] = []
    for name, spec in volumes.items() if isinstance(volumes, Mapping) else ():
        if not isinstance(spec, Mapping):
            continue
        driver = spec.get("driver")
        if driver is not None and driver != "local":
            out.append((("volumes", str(name), "driver"), f"volume driver {str(driver)[:40]!r}"))
        if spec.get("driver_opts"):
            out.append(
                (
                    ("volumes", str(name), "driver_opts"),
                    "volume driver_opts (a bind or a device of the node, by the local driver)",
                )
            )
    return out


def _list(value: Any) -> list:
    return value if isinstance(value, list) else [] if value is None else [value]

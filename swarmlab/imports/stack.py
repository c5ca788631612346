"""A stack file from the services Docker holds: each service written back as compose
(service.py), with the networks, volumes, secrets (by name) and configs (with their
content) they use. Pure: the specs come from observe/specs.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Sequence, Set

from .. import grammar
from ..errors import EXIT_CONFIG, SwarmlabError
from ..config.stack import DOCKER_NETWORKS
from ..observe.model import config_name, user_labels
from ..observe.specs import network_name, short_name
from . import service as S
from .pinning import CopyNode, is_pin, pins

# ContainerSpec keys written below; any other one that holds something is said in a note
WRITTEN = {
    "Image", "Labels", "Command", "Args", "Hostname", "Env", "Dir", "User", "Init", "TTY", "OpenStdin",
    "ReadOnly", "Mounts", "StopSignal", "StopGracePeriod", "Healthcheck", "Hosts", "DNSConfig", "Secrets",
    "Configs", "Isolation", "Privileges",
}  # fmt: skip
PROCESS = (
    ("User", "user"),
    ("Dir", "working_dir"),
    ("Hostname", "hostname"),
    ("StopSignal", "stop_signal"),
    ("TTY", "tty"),
    ("OpenStdin", "stdin_open"),
    ("Init", "init"),
    ("ReadOnly", "read_only"),
)


@dataclass
class Written:
    """A stack file and what the files beside it need."""

    stack: Dict[str, Any] = field(default_factory=lambda: {"version": "3.8", "services": {}})
    hidden: Dict[str, List[str]] = field(default_factory=dict)  # env name -> services whose value was hidden
    configs: Dict[str, bytes] = field(default_factory=dict)  # file name under configs/ -> content
    images: Dict[str, str] = field(default_factory=dict)  # image -> digest it ran with ("" unknown)
    binds: List[str] = field(default_factory=list)  # "service: source -> target"
    notes: List[str] = field(default_factory=list)
    pinned: bool = False  # a service is kept where it ran (pinning.py): the copy's nodes need their label


@dataclass
class Where:
    """The copy's nodes, and where the source's tasks ran, by the copy's node names."""

    hostnames: Mapping[str, str] = field(default_factory=dict)  # the source's hostname -> the copy's
    nodes: Sequence[CopyNode] = ()
    ran_on: Mapping[str, List[str]] = field(default_factory=dict)  # service (full name) -> nodes


def _mount(m: Mapping[str, Any], svc: str, out: Written) -> Dict[str, Any]:
    kind = m.get("Type", "volume")
    one: Dict[str, Any] = {"type": kind, "target": m.get("Target", "")}
    if kind in ("volume", "bind") and m.get("Source"):
        one["source"] = m["Source"]
    if m.get("ReadOnly"):
        one["read_only"] = True
    if kind == "tmpfs" and (m.get("TmpfsOptions") or {}).get("SizeBytes"):
        one["tmpfs"] = {"size": int(m["TmpfsOptions"]["SizeBytes"])}
    if kind == "bind":
        out.binds.append(f"{svc}: {m.get('Source', '')} -> {one['target']}")
    elif kind == "volume" and m.get("Source"):
        driver = (m.get("VolumeOptions") or {}).get("DriverConfig") or {}
        spec: Dict[str, Any] = {"name": m["Source"]}
        if driver.get("Name") and driver["Name"] != "local" or driver.get("Options"):
            spec.update(S._drop_empty({"driver": driver.get("Name"), "driver_opts": driver.get("Options")}))
        out.stack.setdefault("volumes", {})[m["Source"]] = spec
    elif kind not in ("volume", "tmpfs", "bind"):
        out.notes.append(f"service {svc}: a {kind} mount at {one['target']} cannot be written in a stack file")
        return {}
    return one


def _files(items: List[Mapping[str, Any]], key: str, out: Written, contents: Mapping[str, bytes]) -> List[Any]:
    """A service's secrets (by name) or configs (with their content: key ConfigName),
    long syntax where the target or ownership differs from Docker's default."""
    listed: List[Any] = []
    kind = "secrets" if key == "SecretName" else "configs"
    top = out.stack.setdefault(kind, {})
    rule = grammar.SECRET if kind == "secrets" else grammar.CONFIG
    for x in items:
        full, f = x.get(key, ""), x.get("File") or {}
        if rule.problem(full):  # a name becomes a file name here: never a path out of the folder
            raise SwarmlabError(f"the source holds a {rule.problem(full)}", EXIT_CONFIG)
        if kind == "secrets":
            name = full
            top[name] = {"external": True}
        else:  # without swarmlab's content suffix: the copy's swarmlab adds it again
            name = config_name(full, contents)
            top[name] = {"name": name, "file": f"configs/{name}"}
            out.configs[name] = contents.get(full, b"")
        target = f.get("Name", name)
        mode = int(f.get("Mode", S.DEFAULT_FILE_MODE))
        if target == name and mode == S.DEFAULT_FILE_MODE and f.get("UID", "0") == "0" and f.get("GID", "0") == "0":
            listed.append(name)
        else:
            owner = {"uid": f.get("UID", "0"), "gid": f.get("GID", "0"), "mode": mode}
            listed.append({"source": name, "target": target, **owner})
    return listed


def _process(c: Mapping[str, Any]) -> Dict[str, Any]:
    out: Dict[str, Any] = {word: c[key] for key, word in PROCESS if c.get(key) not in (None, "", False)}
    if c.get("StopGracePeriod") is not None:
        out["stop_grace_period"] = S.duration(c["StopGracePeriod"])
    hosts = [h.split() for h in c.get("Hosts") or []]
    if hosts:
        out["extra_hosts"] = [f"{h[1]}:{h[0]}" for h in hosts if len(h) >= 2]
    dns = c.get("DNSConfig") or {}
    out.update(S._drop_empty({"dns": dns.get("Nameservers"), "dns_search": dns.get("Search")}))
    return out


def _container(c: Mapping[str, Any], name: str, out: Written, contents: Mapping[str, bytes]) -> Dict[str, Any]:
    image, _, digest = c.get("Image", "").partition("@")
    out.images.setdefault(image, digest)
    env, hidden = S.environment(c.get("Env") or [])
    for var in hidden:
        out.hidden.setdefault(var, []).append(name)
    svc: Dict[str, Any] = {
        "image": image,
        "entrypoint": S.escape(c.get("Command")),
        "command": S.escape(c.get("Args")),
        "environment": env,
        "labels": S.escape(user_labels(c.get("Labels"))),
        "healthcheck": S.escape(S.healthcheck(c["Healthcheck"])) if c.get("Healthcheck") else None,
        "volumes": [m for m in (_mount(m, name, out) for m in c.get("Mounts") or []) if m],
        "secrets": _files(c.get("Secrets") or [], "SecretName", out, contents),
        "configs": _files(c.get("Configs") or [], "ConfigName", out, contents),
        **S.escape(_process(c)),
    }
    for key in sorted(set(c) - WRITTEN):
        if c[key] not in (None, "", [], {}, 0, False):
            out.notes.append(f"service {name}: {key} cannot be written in a version 3 stack file; left out")
    return svc


def _placement(task: Mapping[str, Any], where: Where, ran_on: List[str], replicated: bool) -> Dict[str, Any]:
    placed = S.placement(task.get("Placement") or {}, where.hostnames)
    own = [c for c in placed.get("constraints", []) if not is_pin(c)]  # a copy's own pins, made anew
    extra = pins(own, ran_on, where.nodes) if replicated else []
    if own or extra:
        placed["constraints"] = own + extra
    else:
        placed.pop("constraints", None)
    return placed


def _deploy(spec: Mapping[str, Any], where: Where, name: str, out: Written) -> Dict[str, Any]:
    task = spec.get("TaskTemplate") or {}
    mode = spec.get("Mode") or {}
    if "Global" in mode:
        deploy: Dict[str, Any] = {"mode": "global"}
    elif "Replicated" in mode:
        deploy = {"mode": "replicated", "replicas": int((mode["Replicated"] or {}).get("Replicas", 1))}
    else:
        out.notes.append(f"service {name}: a job ({', '.join(mode)}) cannot be written in a stack file; left out")
        return {}
    endpoint = spec.get("EndpointSpec") or {}
    placement = _placement(task, where, where.ran_on.get(spec.get("Name", ""), []), "Replicated" in mode)
    out.pinned = out.pinned or any(is_pin(c) for c in placement.get("constraints", []))
    deploy.update(
        S._drop_empty(
            {
                "endpoint_mode": endpoint.get("Mode") if endpoint.get("Mode") != "vip" else None,
                "placement": placement,
                "resources": S.resources(task.get("Resources") or {}, out.notes, name),
                "restart_policy": S.restart(task["RestartPolicy"]) if task.get("RestartPolicy") else None,
                "update_config": S.rollout(spec["UpdateConfig"]) if spec.get("UpdateConfig") else None,
                "rollback_config": S.rollout(spec["RollbackConfig"]) if spec.get("RollbackConfig") else None,
                "labels": S.escape(user_labels(spec.get("Labels"))),
            }
        )
    )
    return deploy


def _networks(task: Mapping[str, Any], short: str, net_names: Mapping[str, str], used: Set[str]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for n in task.get("Networks") or []:
        net = net_names.get(n.get("Target", ""), n.get("Target", ""))
        used.add(net)
        aliases = [a for a in n.get("Aliases") or [] if a != short]  # stack deploy adds the service's own name
        out[net] = {"aliases": aliases} if aliases else None
    return out


def write_stack(
    specs: Sequence[Mapping[str, Any]],
    networks: Sequence[Mapping[str, Any]],
    where: Where,
    contents: Mapping[str, bytes] = {},
) -> Written:
    """The stack file of these services (each by its short name), the networks they use,
    and the configs' files (contents: each config's content by its name)."""
    out = Written()
    net_names = {n.get("Id", ""): network_name(n) for n in networks}
    used: Set[str] = set()
    for s in specs:
        spec = s.get("Spec") or s
        full = spec.get("Name", "")
        short = short_name(full, spec.get("Labels"))
        task = spec.get("TaskTemplate") or {}
        svc = _container(task.get("ContainerSpec") or {}, short, out, contents)
        svc["deploy"] = _deploy(spec, where, short, out)
        svc["ports"] = S.ports(spec.get("EndpointSpec") or {})
        svc["networks"] = _networks(task, short, net_names, used)
        log = task.get("LogDriver") or {}
        if log.get("Name"):
            svc["logging"] = S._drop_empty({"driver": log["Name"], "options": log.get("Options")})
        out.stack["services"][short] = S._drop_empty(svc)
    out.stack["networks"] = {name: network(n) for n in networks if (name := network_name(n)) in used}
    out.stack = S._drop_empty(out.stack)
    return out


def network(info: Mapping[str, Any]) -> Dict[str, Any]:
    """One network as a stack file declares it: an overlay, or Docker's own (host, bridge)
    used as it is."""
    if info.get("Name") in DOCKER_NETWORKS:
        return {"external": True, "name": info["Name"]}
    opts = info.get("Options") or {}
    return S._drop_empty(
        {
            "driver": info.get("Driver", "overlay"),
            "driver_opts": {"encrypted": ""} if "encrypted" in opts else None,
            "attachable": True if info.get("Attachable") else None,
            "internal": True if info.get("Internal") else None,
            "labels": user_labels(info.get("Labels")),
        }
    )

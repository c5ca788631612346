"""One service's spec, as Docker holds it, written back as the compose service that
`docker stack deploy` turns into that spec again. Pure: no engine here.

What stack deploy adds by itself is not written (the alias of the service's own name on
each network, the labels of the stack and of swarmlab); what a stack file cannot state is
left out and said (`notes`)."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Tuple

from ..config.stack import rename_host

NS = 1_000_000_000
# An environment variable whose name says it holds a secret: its value is never written.
# `*_FILE` is a path to a secret (Docker images' convention), not the secret itself.
SECRET_NAME = re.compile(r"PASSWORD|PASSWD|SECRET|TOKEN|KEY|CREDENTIAL|PRIVATE|AUTH|SALT|COOKIE|DSN", re.I)
DEFAULT_FILE_MODE = 0o444


def secret_looking(name: str) -> bool:
    return bool(SECRET_NAME.search(name)) and not name.upper().endswith("_FILE")


def duration(ns: Any) -> str:
    """Nanoseconds as compose writes a duration (1s, 250ms, 90s)."""
    ns = int(ns or 0)
    for unit, size in (("s", NS), ("ms", 1_000_000), ("us", 1_000)):
        if ns % size == 0:
            return f"{ns // size}{unit}"
    return f"{ns}ns"


def _drop_empty(d: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, "", [], {})}


def healthcheck(hc: Mapping[str, Any]) -> Dict[str, Any]:
    test = list(hc.get("Test") or [])
    if test[:1] == ["NONE"]:
        return {"disable": True}
    out: Dict[str, Any] = {"test": test} if test else {}
    for key, word in (("Interval", "interval"), ("Timeout", "timeout"), ("StartPeriod", "start_period")):
        if hc.get(key):
            out[word] = duration(hc[key])
    if hc.get("Retries"):
        out["retries"] = int(hc["Retries"])
    return out


def rollout(cfg: Mapping[str, Any]) -> Dict[str, Any]:
    """UpdateConfig or RollbackConfig."""
    out: Dict[str, Any] = {"parallelism": int(cfg.get("Parallelism", 1))}
    for key, word in (("Delay", "delay"), ("Monitor", "monitor")):
        if cfg.get(key):
            out[word] = duration(cfg[key])
    for key, word in (("FailureAction", "failure_action"), ("Order", "order")):
        if cfg.get(key):
            out[word] = cfg[key]
    if cfg.get("MaxFailureRatio"):
        out["max_failure_ratio"] = cfg["MaxFailureRatio"]
    return out


def _amounts(r: Mapping[str, Any]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    if r.get("NanoCPUs"):
        out["cpus"] = f"{r['NanoCPUs'] / NS:g}"
    if r.get("MemoryBytes"):
        out["memory"] = str(int(r["MemoryBytes"]))  # bytes: what the stack's loader reads back exactly
    return out


def resources(r: Mapping[str, Any], notes: List[str], name: str) -> Dict[str, Any]:
    out = {k: _amounts(r.get(key) or {}) for k, key in (("limits", "Limits"), ("reservations", "Reservations"))}
    if (r.get("Limits") or {}).get("Pids"):
        notes.append(f"service {name}: a pids limit, which a version 3 stack file cannot state, is left out")
    return _drop_empty(out)


def restart(p: Mapping[str, Any]) -> Dict[str, Any]:
    out: Dict[str, Any] = {"condition": p.get("Condition", "any")}
    for key, word in (("Delay", "delay"), ("Window", "window")):
        if p.get(key) is not None:
            out[word] = duration(p[key])
    if p.get("MaxAttempts"):
        out["max_attempts"] = int(p["MaxAttempts"])
    return out


def placement(p: Mapping[str, Any], hostnames: Mapping[str, str]) -> Dict[str, Any]:
    """hostnames: the source's hostname -> the copy's, for node.hostname constraints."""

    prefs = [
        {"spread": (x.get("Spread") or {}).get("SpreadDescriptor", "")}
        for x in p.get("Preferences") or []
        if (x.get("Spread") or {}).get("SpreadDescriptor")
    ]
    return _drop_empty(
        {
            "constraints": [rename_host(c, hostnames) for c in p.get("Constraints") or []],
            "preferences": prefs,
            "max_replicas_per_node": p.get("MaxReplicas") or None,
        }
    )


def ports(endpoint: Mapping[str, Any]) -> List[Dict[str, Any]]:
    out = []
    for p in endpoint.get("Ports") or []:
        one: Dict[str, Any] = {"target": int(p.get("TargetPort", 0))}
        if p.get("PublishedPort"):
            one["published"] = int(p["PublishedPort"])
        one["protocol"] = p.get("Protocol", "tcp")
        one["mode"] = p.get("PublishMode", "ingress")
        out.append(one)
    return out


def environment(env: List[str]) -> Tuple[Dict[str, str], List[str]]:
    """The environment with each secret-looking value replaced by ${NAME}, and those names."""
    out: Dict[str, str] = {}
    hidden: List[str] = []
    for item in env:
        name, _, value = item.partition("=")
        if secret_looking(name) and value:
            out[name] = "${%s}" % name
            hidden.append(name)
        else:
            out[name] = escape(value)
    return out, hidden


def escape(value: Any) -> Any:
    """A literal for the stack file: compose reads `$` as the start of a variable."""
    if isinstance(value, str):
        return value.replace("$", "$$")
    if isinstance(value, list):
        return [escape(v) for v in value]
    if isinstance(value, dict):
        return {k: escape(v) for k, v in value.items()}
    return value

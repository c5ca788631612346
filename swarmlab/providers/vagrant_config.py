"""vagrant/lab.yaml: the VMs of `swarmlab up --provider vagrant`, with the
SWARMLAB_VAGRANT_* overrides, as the Vagrantfile reads them. Read bounded, every
problem at once, every name checked (issue #12)."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import List, Tuple

from .. import grammar
from ..config import yamlfile
from ..errors import ConfigError, Problem

VAGRANT_DIR = Path(__file__).resolve().parents[2] / "vagrant"


@dataclass(frozen=True)
class VagrantConfig:
    count: int = 3
    managers: int = 1
    memory: int = 1024
    cpus: int = 1
    box: str = "swarmlab/bookworm"
    subnet: str = "192.168.56"
    labels: Tuple[Tuple[str, Tuple[Tuple[str, str], ...]], ...] = ()

    def names(self) -> List[str]:
        return [f"swarm-{i}" for i in range(1, self.count + 1)]

    def ip(self, name: str) -> str:
        return f"{self.subnet}.{10 + int(name.rsplit('-', 1)[1])}"

    def role(self, name: str) -> str:
        return "manager" if int(name.rsplit("-", 1)[1]) <= self.managers else "worker"


_BOX = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}(/[A-Za-z0-9][A-Za-z0-9._-]{0,63})?")
_FIELDS = (("count", int), ("managers", int), ("memory", int), ("cpus", int), ("box", str), ("subnet", str))


def _value(raw, kind):
    """raw as kind: an int from YAML or from an environment variable's digits, or text."""
    if kind is int:
        if isinstance(raw, str) and raw.isdigit() and len(raw) <= 6:
            return int(raw)
        if isinstance(raw, bool) or not isinstance(raw, int):
            raise ValueError
        return raw
    if not isinstance(raw, str):
        raise ValueError
    return raw


def load_config(folder: Path = VAGRANT_DIR, environ=os.environ) -> VagrantConfig:
    """lab.yaml (or the file SWARMLAB_VAGRANT_LAB names) with the SWARMLAB_VAGRANT_*
    overrides, as the Vagrantfile reads them; read bounded, every problem at once."""
    path = Path(environ["SWARMLAB_VAGRANT_LAB"]) if environ.get("SWARMLAB_VAGRANT_LAB") else folder / "lab.yaml"
    data, lines = yamlfile.load(path, "Vagrant lab file")
    data = {} if data is None else data
    shown = str(path)

    def problem(p, msg) -> None:
        problems.append(Problem(shown, ".".join(p), msg, yamlfile.line_of(lines, p)))

    problems: List[Problem] = []
    if not isinstance(data, dict):
        raise ConfigError(
            [Problem(shown, "", "must be a mapping (count, managers, memory, cpus, box, subnet, labels)")],
            "the Vagrant lab",
        )
    for key in data:
        if key not in dict(_FIELDS) and key != "labels":
            problem(
                (str(key),),
                f"unknown key (allowed here: {', '.join(k for k, _ in _FIELDS)}, labels); "
                "remove it or fix its spelling",
            )
    vals = {}
    for key, kind in _FIELDS:
        env = f"SWARMLAB_VAGRANT_{key.upper()}"
        raw = environ.get(env, data.get(key, getattr(VagrantConfig, key)))
        try:
            vals[key] = _value(raw, kind)
        except ValueError:
            problem(
                (key,),
                f"must be {'a whole number' if kind is int else 'text'}, got {raw!r}"
                + (f" (set by {env})" if env in environ else ""),
            )
    if not problems:
        if not 1 <= vals["count"] <= 20:
            problem(("count",), f"must be 1..20, got {vals['count']}")
        if vals["managers"] % 2 == 0 or vals["managers"] > vals["count"]:
            problem(("managers",), f"must be odd and at most count, got {vals['managers']}")
        if not 256 <= vals["memory"] <= 262144 or not 1 <= vals["cpus"] <= 256:
            problem(
                ("memory",) if not 256 <= vals["memory"] <= 262144 else ("cpus",),
                "memory must be 256..262144 (MiB) and cpus 1..256",
            )
        if not _BOX.fullmatch(vals["box"]):
            problem(("box",), f"must be a box name like swarmlab/bookworm, got {vals['box']!r}")
        try:
            net = ipaddress.IPv4Network(vals["subnet"] + ".0/24")
            if not net.is_private:
                raise ValueError
        except ValueError:
            problem(
                ("subnet",), f"must be the first three octets of a private /24 (192.168.56), got {vals['subnet']!r}"
            )
    labels = _labels(data.get("labels"), vals.get("count", 0), problem)
    if problems:
        raise ConfigError(problems, "the Vagrant lab")
    return VagrantConfig(labels=labels, **vals)


def _labels(raw, count: int, problem) -> Tuple[Tuple[str, Tuple[Tuple[str, str], ...]], ...]:
    """labels: {swarm-N: {key: value}}, every name and value checked."""
    if raw is None:
        return ()
    if not isinstance(raw, dict):
        problem(("labels",), "must be a mapping of VM name to its labels, e.g. {swarm-1: {tier: app}}")
        return ()
    names = [f"swarm-{i}" for i in range(1, 21)]  # labels of VMs past count wait unused
    out = []
    for vm, lbl in raw.items():
        if vm not in names:
            problem(("labels", str(vm)), "no such VM: the VMs are swarm-1 .. swarm-20")
            continue
        if not isinstance(lbl, dict):
            problem(("labels", vm), "must be a mapping of label to value")
            continue
        pairs = []
        for k, v in lbl.items():
            v = str(v).lower() if isinstance(v, bool) else v
            msg = grammar.LABEL_KEY.problem(k) or grammar.LABEL_VALUE.problem(
                v if isinstance(v, str) else str(v) if isinstance(v, int) else v
            )
            if msg:
                problem(("labels", vm, str(k)), msg)
            else:
                pairs.append((k, str(v)))
        out.append((vm, tuple(sorted(pairs))))
    return tuple(sorted(out))

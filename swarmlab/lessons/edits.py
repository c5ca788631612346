"""How a lesson edits the lab's stack before it is deployed: a service off a network, a
wrong port, a constraint no node meets, a secret swapped. Each kind is a class of a
registry (EDITS); the faults made on the nodes afterwards are in lessons/setup.py."""

from __future__ import annotations

import copy
import re
from typing import Any, Dict, Iterator, List, Tuple, Type

from .. import grammar

Problems = Iterator[Tuple[Tuple[str, ...], str]]
_CONSTRAINT = re.compile(
    r"node\.(labels\.[A-Za-z0-9._/-]{1,128}|role|hostname|platform\.os) *(==|!=) *"
    r"[A-Za-z0-9._:/@+=,-]{1,128}"
)
_PORT = re.compile(r"[0-9]{1,5}(:[0-9]{1,5})?(/(tcp|udp))?")
_names = {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 8}


def _each(values: List[Any], rule) -> Problems:
    for i, v in enumerate(values):
        msg = rule(v)
        if msg:
            yield (str(i),), msg


# -- edits of one service of the stack ---------------------------------------------
class Edit:
    kind = ""
    schema: dict = {}

    @staticmethod
    def problems(value) -> Problems:
        return iter(())

    @staticmethod
    def apply(svc: dict, value) -> None: ...

    @staticmethod
    def stack(out: dict, value) -> None:
        """What the edit needs at the stack's top level (nothing, for most)."""


def _networks_of(svc: dict) -> Dict[str, Any]:
    nets = svc.get("networks") or {}
    return dict(nets) if isinstance(nets, dict) else {n: None for n in nets}


class NetworksRemove(Edit):
    kind = "networks_remove"
    schema = _names

    @staticmethod
    def problems(value):
        return _each(value, grammar.NETWORK.problem)

    @staticmethod
    def apply(svc, value):
        svc["networks"] = {k: v for k, v in _networks_of(svc).items() if k not in value}


class NetworksAdd(Edit):
    kind = "networks_add"
    schema = _names
    problems = NetworksRemove.problems

    @staticmethod
    def apply(svc, value):
        svc["networks"] = {**_networks_of(svc), **{n: None for n in value}}


class Ports(Edit):
    kind = "ports"
    schema = {"type": "array", "items": {"type": ["string", "integer"]}, "maxItems": 8}

    @staticmethod
    def problems(value):
        return _each(
            value,
            lambda v: (
                None
                if _PORT.fullmatch(str(v))
                else f"{v!r} is not a port mapping: PUBLISHED:TARGET[/tcp|udp], e.g. 8080:8000"
            ),
        )

    @staticmethod
    def apply(svc, value):
        svc["ports"] = [str(v) for v in value]


class Constraints(Edit):
    kind = "constraints"
    schema = {"type": "array", "items": {"type": "string"}, "maxItems": 8}

    @staticmethod
    def problems(value):
        return _each(
            value,
            lambda v: (
                None
                if isinstance(v, str) and _CONSTRAINT.fullmatch(v)
                else f"{v!r} is not a placement constraint: node.labels.KEY == VALUE (or !=, node.role, node.hostname)"
            ),
        )

    @staticmethod
    def apply(svc, value):
        placement = svc.setdefault("deploy", {}).setdefault("placement", {})
        placement["constraints"] = list(value)


class Replicas(Edit):
    kind = "replicas"
    schema = {"type": "integer", "minimum": 0, "maximum": 50}

    @staticmethod
    def apply(svc, value):
        svc.setdefault("deploy", {})["replicas"] = value


class SecretSwap(Edit):
    """The service reads another secret at the same path: a rotation its peer never saw.
    The new secret is external, so `up` generates it (a random value, labelled with the lab)."""

    kind = "secret_swap"
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["from", "to"],
        "properties": {"from": {"type": "string"}, "to": {"type": "string"}},
    }

    @staticmethod
    def problems(value):
        for key in ("from", "to"):
            msg = grammar.SECRET.problem(value[key])
            if msg:
                yield (key,), msg

    @staticmethod
    def apply(svc, value):
        def swapped(s):
            source = s.get("source") if isinstance(s, dict) else s
            if source != value["from"]:
                return s
            target = (s.get("target") if isinstance(s, dict) else None) or value["from"]
            return {**(s if isinstance(s, dict) else {}), "source": value["to"], "target": target}

        svc["secrets"] = [swapped(s) for s in svc.get("secrets") or []]

    @staticmethod
    def stack(out, value):
        out.setdefault("secrets", {})[value["to"]] = {"external": True}


EDITS: Dict[str, Type[Edit]] = {
    e.kind: e for e in (NetworksRemove, NetworksAdd, Ports, Constraints, Replicas, SecretSwap)
}


def edited_stack(stack: dict, edits: Dict[str, Dict[str, Any]]) -> Tuple[dict, List[str]]:
    """A copy of the stack with the lesson's edits made, and the services it names that
    the stack lacks."""
    out = copy.deepcopy(stack)
    services = out.get("services") or {}
    missing = [name for name in edits if name not in services]
    for name, kinds in edits.items():
        for kind, value in kinds.items() if name in services else ():
            EDITS[kind].apply(services[name], value)
            EDITS[kind].stack(out, value)
    return out, missing

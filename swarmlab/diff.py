"""`swarmlab diff A B`: two labs compared as the same normalized model (observe/model.py):
nodes, their labels and availability, networks and their options, services and every
setting a stack file can state, and where their tasks run. What differs is said by its
path in the model (`services.web.replicas`), with each lab's value; an environment value
is never shown, only that it differs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Tuple

from .observe.model import lab_model
from .observe.running import open_lab
from .providers.base import Provider

ABSENT = "(absent)"


@dataclass(frozen=True)
class Difference:
    path: Tuple[str, ...]
    a: Any  # ABSENT where only b has it
    b: Any

    def shown(self) -> Dict[str, Any]:
        """As printed and in --json: an environment value only as set, absent or different."""
        if self.path[:1] == ("services",) and self.path[2:3] == ("env",) and len(self.path) == 4:
            a, b = (v if v == ABSENT else "set" for v in (self.a, self.b))
            if a == b:
                a, b = "a value", "another value"
            return {"path": ".".join(self.path), "a": a, "b": b}
        return {"path": ".".join(self.path), "a": self.a, "b": self.b}


def differences(a: Any, b: Any, path: Tuple[str, ...] = ()) -> List[Difference]:
    """Every place the two models differ, deepest first met, in a stable order."""
    if isinstance(a, dict) and isinstance(b, dict):
        out: List[Difference] = []
        for key in sorted(set(a) | set(b), key=str):
            if key not in a:
                out.append(Difference(path + (str(key),), ABSENT, b[key]))
            elif key not in b:
                out.append(Difference(path + (str(key),), a[key], ABSENT))
            else:
                out += differences(a[key], b[key], path + (str(key),))
        return out
    return [] if a == b else [Difference(path, a, b)]


def run(a: str, b: str, provider: Provider) -> Dict[str, Any]:
    """Both labs read now, and what differs."""
    found = differences(lab_model(open_lab(a, provider)), lab_model(open_lab(b, provider)))
    return {"a": a, "b": b, "same": not found, "differences": [d.shown() for d in found]}

"""`swarmlab diff A B`: two labs compared as the same normalized model (observe/model.py):
nodes, their labels and availability, networks and their options, services and every
setting a stack file can state, and where their tasks run. What differs is said by its
path in the model (`services.web.replicas`), with each lab's value; an environment value
is never shown, only that it differs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

from .config.stack import rename_host
from .errors import EXIT_PREFLIGHT, SwarmlabError
from .observe.model import lab_model, model_of
from .observe.specs import read_swarm
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


def _in_order(nodes: Dict[str, Any]) -> List[str]:
    """Managers first, then by name: the order `import` names a copy's nodes in."""
    return sorted(nodes, key=lambda n: (nodes[n].get("role") != "manager", n))


def paired(a: Dict[str, Any], b: Dict[str, Any]) -> Dict[str, str]:
    """A's node -> B's, when the two name their nodes differently (a lab on SSH hosts and
    its copy on dind nodes) but have as many of each role: paired in order. Else {}."""
    na, nb = a.get("nodes") or {}, b.get("nodes") or {}
    roles = [sorted(n.get("role", "") for n in m.values()) for m in (na, nb)]
    if set(na) == set(nb) or roles[0] != roles[1]:
        return {}
    return dict(zip(_in_order(na), _in_order(nb)))


def renamed(model: Dict[str, Any], names: Dict[str, str]) -> Dict[str, Any]:
    """The model with its nodes named as `names` says, in the nodes and in where tasks run."""
    out = dict(model)
    out["nodes"] = {names.get(n, n): v for n, v in (model.get("nodes") or {}).items()}
    out["placement"] = {
        s: sorted(names.get(n, n) for n in where) for s, where in (model.get("placement") or {}).items()
    }
    if names:
        out["services"] = {
            s: {**v, "constraints": sorted(rename_host(c, names) for c in v.get("constraints") or [])}
            for s, v in (model.get("services") or {}).items()
        }
    return out


def run(a: str, b: str, provider: Provider, provider_a: Optional[Provider] = None, endpoint_a=None) -> Dict[str, Any]:
    """Both labs read now, and what differs. provider_a: where A is, when not where B is;
    endpoint_a: a transport to a manager whose whole swarm is A."""
    if endpoint_a is not None:
        try:
            model_a = model_of(read_swarm(endpoint_a))
        except SwarmlabError as exc:
            raise SwarmlabError(exc.message, EXIT_PREFLIGHT, "give a manager of the swarm to compare") from None
    else:
        model_a = lab_model(open_lab(a, provider_a or provider))
    model_b = lab_model(open_lab(b, provider))
    pairs = paired(model_a, model_b)
    found = differences(renamed(model_a, pairs), model_b)
    return {"a": a, "b": b, "same": not found, "nodes_paired": pairs, "differences": [d.shown() for d in found]}

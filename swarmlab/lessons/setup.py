"""How a lesson makes its checkpoint on the nodes: faults (traffic dropped, a node
drained, an MTU lowered), made after the stack's edits (lessons/edits.py). The faults are
the core's (swarmlab/faults: one registry with the drills'), named as lesson files name
them; `heal_all` undoes every fault a lesson makes, so a reset starts clean."""

from __future__ import annotations

from typing import Any, Dict, Iterator, List, Tuple, Type

from .. import labels as L
from ..faults import FAULTS, LESSON_NAMES, Ctx, Fault
from ..faults.links import GOSSIP_PORT, HEAL_MTU, LESSON_CHAIN
from ..faults.services import FAULT_NETWORK
from ..netfilter import rules_of, unhook
from ..observe import reads
from ..observe.gossip import wait_resynced
from ..providers.base import Host
from ..swarm_write import swarm_write
from ..waiting import until

# the faults a lesson may name, by its files' names
LESSON_FAULTS: Dict[str, Type[Fault]] = {name: FAULTS[kind] for name, kind in LESSON_NAMES.items()}
NODE_ALONE = {"drain", "gossip_cut"}  # a lesson gives these a node name alone: {node: NAME}


def lesson_schema(name: str) -> dict:
    return {"type": "string"} if name in NODE_ALONE else LESSON_FAULTS[name].schema


def core_params(name: str, value: Any) -> Dict[str, Any]:
    """A lesson's fault parameters as the core's kind takes them."""
    return {"node": value} if name in NODE_ALONE else value


def fault_problems(name: str, value: Any) -> Iterator[Tuple[Tuple[str, ...], str]]:
    """What is wrong in a lesson's fault, at the path the lesson file has it."""
    for path, msg in LESSON_FAULTS[name].problems(core_params(name, value)):
        yield (path[1:] if name in NODE_ALONE and path[:1] == ("node",) else path), msg


def make(name: str, value: Any, hosts: Dict[str, Host], manager: Host, lab: str, stack: str) -> str:
    """Make one fault of a lesson's checkpoint; what it did."""
    return LESSON_FAULTS[name](Ctx(None, lab, hosts, manager, stack), core_params(name, value)).inject()


def drop_fault_networks(manager: Host, keep: List[str], within: float = 20) -> None:
    """The networks an earlier lesson's fault made, once the stack has left them (its
    tasks leave a moment after the deploy): best effort, `down` removes what is left."""

    t = manager.transport
    flt = ["--filter", f"label={L.ROLE}={FAULT_NETWORK}"]

    def gone():
        names = [n for n in reads.names(t, "network", flt) if n not in keep]
        if names:
            t.run(["docker", "network", "rm", names], warn=True, timeout=30)
        return not names, f"{', '.join(names)} still in use"

    until(gone, within, 1.0)


def fault_services(kind: str, params) -> List[str]:
    """The stack's services a fault names (checked against the stack before anything is done)."""
    return [params["service"], *params["peers"]] if kind == "encrypted_detour" else []


def fault_nodes(kind: str, params) -> List[str]:
    """The nodes a fault names (checked against the lab before anything is done)."""
    return [params] if isinstance(params, str) else [params[k] for k in ("node", "peer") if k in params]


def heal_all(hosts: List[Host], manager: Host) -> None:
    """Every fault of every kind undone: the lesson chain gone from every node, every node
    active, and a node whose gossip was cut known again with its tasks (until then the
    others miss its tasks' names: the next lesson would start on a broken lab)."""
    gossip = rules_of(LESSON_CHAIN) + f" | grep -c -- '--dport {GOSSIP_PORT}'; "
    cut = [
        h
        for h in hosts
        if h.transport.run(gossip + unhook(LESSON_CHAIN) + "; " + HEAL_MTU, timeout=30, warn=True)
        .stdout.strip()
        .split("\n")[0]
        not in ("", "0")
    ]
    # every other node must know its tasks again, each resyncs on its own; bounded, and not
    # an error: the next check shows what does not hold
    pairs = [(o, h) for h in cut for o in hosts if o is not h]
    if pairs:
        wait_resynced(pairs)
    names = [n for n, state in reads.availability(manager.transport).items() if state != "Active"]
    for n in names:
        swarm_write(manager.transport, ["node", "update", "--availability", "active", n], timeout=60).check(
            "active again"
        )

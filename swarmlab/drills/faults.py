"""What a drill breaks, as a registry: each kind checks its parameters, breaks one
thing, says what it did, and heals it (the runner heals every fault left, after an error
or Ctrl-C too). Link impairment uses netem where the node's kernel has it; here it falls
back to tbf (rate) and iptables' statistic match (loss), and says delay and jitter are
not possible, with the probe's reason — never skipped in silence, never faked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Tuple

from .. import grammar
from ..errors import PreflightError
from ..netfilter import drop_in, unhook
from ..providers.base import Host, Provider
from ..result import CheckResult
from ..swarm_write import swarm_write
from ..observe import reads

Problems = Iterator[Tuple[Tuple[str, ...], str]]
PARTITION_CHAIN = "SWARMLAB-DRILL"  # one per node: the partition's DROP rules
IMPAIR_CHAIN = "SWARMLAB-IMPAIR"  # one per node: loss without netem

_node = {"type": "string"}


@dataclass
class Ctx:
    """What a fault works with: the lab's hosts by name, the manager the drill watches
    from, the stack, and each node's kernel (probed when a fault first asks)."""

    provider: Provider
    lab: str
    hosts: Dict[str, Host]
    watch: Host
    stack: str
    probe: Any = None  # () -> {node: Capabilities}
    endpoint: Any = None  # the published HTTP port the flow goes through (or None)
    down: set = field(default_factory=set)

    def manager_run(self, args, what: str):
        """A `docker ...` change from the manager, asked again while Swarm answers out of sequence."""
        return swarm_write(self.watch.transport, args[1:], timeout=60).check(what)


class Fault:
    kind = ""
    schema: dict = {
        "type": "object",
        "additionalProperties": False,
        "required": ["node"],
        "properties": {"node": _node},
    }
    names: Tuple[str, ...] = ("node",)  # its parameters that are node names
    shows_in: Optional[int] = None  # which of the node's (status, availability) shows the fault
    wanted = ""

    def __init__(self, ctx: Ctx, params: Dict[str, Any]):
        self.ctx, self.p = ctx, params
        self.notes: List[CheckResult] = []  # what it could not do here, and why

    @classmethod
    def problems(cls, params) -> Problems:
        for key in cls.names:
            msg = grammar.NODE.problem(params[key]) if key in params else None
            if msg:
                yield (key,), msg
        for key in ("service",):
            msg = grammar.SERVICE.problem(params[key]) if key in params else None
            if msg:
                yield (key,), msg

    @property
    def node(self) -> Host:
        return self.ctx.hosts[self.p["node"]]

    def broken(self) -> List[str]:
        """The nodes this fault takes away from the swarm (the drill watches from another)."""
        return []

    def preflight(self) -> None: ...

    def clear(self) -> None:
        """Undo what an interrupted run of this kind may have left (before anything is done)."""

    def inject(self) -> str:
        raise NotImplementedError

    def heal(self) -> Optional[str]:
        raise NotImplementedError

    def reacted(self, snap) -> Tuple[bool, str]:
        """Has Swarm done what it does about this fault: the node shows it, and no task
        Swarm wants is counted on it any more (each runs elsewhere or waits, saying why)."""
        if snap.error:
            return False, f"no answer from the managers: {snap.error}"
        if self.shows_in is None:
            return True, "recorded"
        state = snap.nodes.get(self.node.name, ("?", "?"))[self.shows_in]
        left = snap.tasks_on(self.node.name)
        return state == self.wanted and not left, f"{self.node.name} {state}" + (
            f"; still counted on it: {', '.join(left)}" if left else ""
        )


class KillNode(Fault):
    """SIGKILL the node: its engine and every task on it die at once; heal: start it."""

    kind = "kill-node"
    shows_in, wanted = 0, "down"

    def broken(self):
        return [self.node.name]

    def preflight(self):
        if not self.ctx.provider.supports("kill_node"):
            raise self.ctx.provider.unsupported(
                "kill-node (stopping a host: swarmlab never stops a host it did not make)",
                hint="drain or partition work on every provider",
            )

    def inject(self):
        self.ctx.down.add(self.node.name)
        self.ctx.provider.kill_node(self.ctx.lab, self.node.name)
        return f"{self.node.name} killed (SIGKILL: its engine and every task on it)"

    def heal(self):
        self.ctx.provider.start_node(self.ctx.lab, self.node.name)
        self.ctx.down.discard(self.node.name)
        return f"{self.node.name} started again (its swarm state was kept on its volume)"


class Availability(Fault):
    """docker node update --availability: Swarm moves the node's tasks away (drain)."""

    kind, to, back = "drain", "drain", "active"
    shows_in, wanted = 1, "drain"

    def _set(self, value: str) -> str:
        self.ctx.manager_run(["docker", "node", "update", "--availability", value, self.node.swarm_name], value)
        return f"{self.node.name} set to {value}"

    def inject(self):
        return self._set(self.to)

    def heal(self):
        return self._set(self.back) + " again"


class Pause(Availability):
    kind, to, back, wanted = "pause", "pause", "active", "pause"

    def reacted(self, snap):  # a paused node keeps its tasks: nothing new lands there
        state = snap.nodes.get(self.node.name, ("?", "?"))[1]
        return state == "pause", f"{self.node.name} {state}"


class Demote(Fault):
    """docker node demote: the node leaves the managers (Raft shrinks); heal: promote."""

    kind, verb, back = "demote", "demote", "promote"

    def inject(self):
        self.ctx.manager_run(["docker", "node", self.verb, self.node.swarm_name], self.verb)
        return f"{self.node.name} {self.verb}d"

    def heal(self):
        self.ctx.manager_run(["docker", "node", self.back, self.node.swarm_name], self.back)
        return f"{self.node.name} {self.back}d again"

    def reacted(self, snap):
        is_manager = self.node.name in snap.managers
        return is_manager == (self.verb == "promote"), f"{self.node.name} " + (
            f"manager ({snap.managers[self.node.name]})" if is_manager else "worker"
        )

    def preflight(self):
        if self.node.name == self.ctx.watch.name:
            raise PreflightError(
                f"{self.node.name} is the manager the drill watches from",
                hint="demote another manager (a lab with --managers 3)",
            )


class Promote(Demote):
    kind, verb, back = "promote", "promote", "demote"


class Partition(Fault):
    """Drop packets between the node and a peer at the node: both ways, or only what
    comes in from the peer (in), or only what goes out to it (out)."""

    kind = "partition"
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["node", "peer"],
        "properties": {"node": _node, "peer": _node, "direction": {"enum": ["both", "in", "out"]}},
    }
    names = ("node", "peer")

    @property
    def peer(self) -> Host:
        return self.ctx.hosts[self.p["peer"]]

    def addresses(self) -> List[str]:
        return sorted({self.peer.address, self.peer.swarm_addr, self.peer.data_addr})

    def inject(self):
        way = self.p.get("direction", "both")
        rules = {"both": [("INPUT", "-s"), ("OUTPUT", "-d")], "in": [("INPUT", "-s")], "out": [("OUTPUT", "-d")]}[way]
        drops = [(flag, a, "-j", "DROP") for a in self.addresses() for _, flag in rules]
        self.node.transport.run(unhook(PARTITION_CHAIN) + "; " + drop_in(PARTITION_CHAIN, drops), timeout=30).check(
            "partition"
        )
        n, peer = self.node.name, self.peer.name
        what = {"both": f"between {n} and {peer}", "in": f"from {peer} to {n}", "out": f"from {n} to {peer}"}[way]
        return f"every packet {what} ({', '.join(self.addresses())}) dropped at {n}"

    def clear(self):
        self.node.transport.run(unhook(PARTITION_CHAIN), timeout=30, warn=True)

    def heal(self):
        self.node.transport.run(unhook(PARTITION_CHAIN), timeout=30).check("heal partition")
        return f"the link between {self.node.name} and {self.peer.name} restored"


class Scale(Fault):
    """docker service scale; heal: back to the replicas it had."""

    kind = "scale"
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["service", "replicas"],
        "properties": {"service": {"type": "string"}, "replicas": {"type": "integer", "minimum": 0, "maximum": 100}},
    }
    names = ()

    def _scale(self, n: int) -> None:
        self.ctx.manager_run(["docker", "service", "scale", "--detach", f"{self.service}={n}"], "scale")

    @property
    def service(self) -> str:
        return f"{self.ctx.stack}_{self.p['service']}"

    def inject(self):
        was = reads.replicas(self.ctx.watch.transport, self.service).strip()
        if not was.isdigit():
            raise PreflightError(f"{self.service} is not a replicated service: it cannot be scaled")
        self.was = int(was)
        self._scale(self.p["replicas"])
        return f"{self.p['service']} scaled from {self.was} to {self.p['replicas']}"

    def heal(self):
        if not hasattr(self, "was"):
            return None  # it never scaled
        self._scale(self.was)
        return f"{self.p['service']} back to {self.was} replicas"


class FailingUpdate(Fault):
    """A rolling update whose new tasks never get healthy (their health check is `false`),
    with failure_action rollback: Swarm must notice and roll the service back by itself."""

    kind = "failing-update"
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["service"],
        "properties": {"service": {"type": "string"}},
    }
    names = ()

    @property
    def service(self) -> str:
        return f"{self.ctx.stack}_{self.p['service']}"

    def inject(self):
        self.ctx.manager_run(
            [
                "docker",
                "service",
                "update",
                "--detach",
                "--quiet",
                "--health-cmd",
                "false",
                "--health-interval",
                "1s",
                "--health-retries",
                "1",
                "--health-start-period",
                "0s",
                "--update-parallelism",
                "1",
                # a task can pass for started before its first health check fails:
                # the next one waits 20 s, so the failure is seen while one still serves
                "--update-delay",
                "20s",
                # and no restart of a failed task: the updater, not the restart
                # policy, must be the one to act on it
                "--restart-condition",
                "none",
                "--update-failure-action",
                "rollback",
                "--update-monitor",
                "30s",
                "--update-max-failure-ratio",
                "0",
                self.service,
            ],
            "failing update",
        )
        return f"{self.p['service']} updated to tasks that never get healthy (failure action: rollback)"

    def heal(self):
        state = reads.update_state(self.ctx.watch.transport, self.service)
        if state in ("rollback_completed", "rollback_started"):
            return None
        self.ctx.manager_run(["docker", "service", "rollback", "--detach", "--quiet", self.service], "rollback")
        return f"{self.p['service']} rolled back by the drill (Swarm had not: {state or 'no update state'})"

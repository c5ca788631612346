"""Faults on a node as Swarm sees it: killed, drained or paused, demoted or promoted."""

from __future__ import annotations

from ..errors import PreflightError
from ..observe import reads
from ..waiting import poll
from .base import Fault


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


class DrainStopped(Availability):
    """Drained, and its tasks stopped: a lesson's trainee starts from a quiet node, with the
    task Swarm could not place elsewhere waiting and saying why."""

    kind = "drain-stopped"

    def inject(self):
        self._set(self.to)
        name = self.p["node"]

        def quiet():
            read, running = reads.running_on(self.ctx.watch.transport, self.node.swarm_name)
            return read and not running, f"still running on {name}: {', '.join(running) or '?'}"

        poll(f"{name}'s tasks to stop", quiet, 60, interval=0.5)
        return f"{name} drained, its tasks stopped"

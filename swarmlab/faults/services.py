"""Faults on the stack's services: scaled, updated to tasks that never get healthy (a
drill's; Swarm must roll back by itself), or moved onto a new encrypted overlay whose
traffic does not pass (a lesson's)."""

from __future__ import annotations

from typing import Dict

from .. import grammar
from ..overlays import create_argv
from ..capabilities import probe_hosts
from ..errors import PreflightError, SwarmlabError
from ..netfilter import drop_in
from ..observe import reads
from ..providers.base import Host
from ..swarm_write import service_write
from .base import Fault
from .links import LESSON_CHAIN


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


FAULT_NETWORK = "lesson-fault"  # the role label of a network a fault made (removed by the next checkpoint)


class EncryptedDetour(Fault):
    """A service moved from a plain overlay onto a new encrypted one, its peers joined to
    it too (as someone would, to protect a cache's traffic). Where a node's kernel lacks
    ESP, Docker carries nothing on that network (fail-closed); where every node has ESP,
    that network's VXLAN frames are dropped on every node, so the exercise holds on every
    kernel and says which case it made."""

    kind = "encrypted-detour"
    schema = {
        "type": "object",
        "additionalProperties": False,
        "required": ["network", "service", "leaves", "peers"],
        "properties": {
            "network": {"type": "string"},
            "service": {"type": "string"},
            "leaves": {"type": "string"},
            "peers": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 4},
        },
    }

    names = ()

    @classmethod
    def problems(cls, params):
        for key in ("network", "leaves"):
            msg = grammar.NETWORK.problem(params[key])
            if msg:
                yield (key,), msg
        for path, name in [(("service",), params["service"])] + [
            (("peers", str(i)), p) for i, p in enumerate(params["peers"])
        ]:
            msg = grammar.SERVICE.problem(name)
            if msg:
                yield path, msg

    def inject(self):
        params, hosts, stack = self.p, self.ctx.hosts, self.ctx.stack
        t, net = self.ctx.watch.transport, params["network"]
        if not reads.network_exists(t, net):
            t.run(
                create_argv(net, self.ctx.lab, FAULT_NETWORK, True, "true", "made encrypted by a lesson"),
                timeout=60,
            ).check(net)
        lacking = sorted(n for n, c in probe_hosts(list(hosts.values()), strict=True).items() if not c.esp)
        vni = "" if lacking else _drop_vxlan(net, hosts, t)
        # with the service's short name as its alias there, as `docker stack deploy` gives it
        # on every network: else the name itself would be missing, not the traffic
        moves = [[f"{stack}_{p}", "--network-add", f"name={net},alias={p}"] for p in params["peers"]]
        moves.append(
            [
                f"{stack}_{params['service']}",
                "--network-add",
                f"name={net},alias={params['service']}",
                "--network-rm",
                params["leaves"],
            ]
        )
        # detached: the checkpoint waits for the lab to settle once every fault is made
        for m in moves:
            service_write(t, ["update", "--quiet", "--detach", *m[1:], m[0]]).check("service update")
        why = (
            f"no IPsec ESP on {', '.join(lacking)}: Docker carries nothing on it"
            if lacking
            else f"every node has ESP: its VXLAN traffic (id {vni}) dropped on every node"
        )
        return (
            f"{params['service']} moved from {params['leaves']} to {net}, encrypted, with "
            f"{', '.join(params['peers'])} on it too ({why})"
        )


def _drop_vxlan(net: str, hosts: Dict[str, Host], manager_t) -> str:
    """Drop one overlay's VXLAN frames (u32 on their id, as Docker's encryption rules match
    it) in and out of every node, in clear before encryption and after decryption. Not all
    ESP: under encrypted: auto the lab's other overlays are encrypted too there."""
    vni = reads.vxlan_id(manager_t, net)
    if not vni.isdigit():
        raise SwarmlabError(f"network {net}: no VXLAN id to drop (read {vni[:40]!r})")
    rule = (
        "-p",
        "udp",
        "--dport",
        "4789",
        "-m",
        "u32",
        "--u32",
        f"0>>22&0x3C@12&0xFFFFFF00={int(vni) << 8}",
        "-j",
        "DROP",
    )
    for h in hosts.values():
        h.transport.run(drop_in(LESSON_CHAIN, [rule]), timeout=30).check(f"drop {net}'s VXLAN")
    return vni

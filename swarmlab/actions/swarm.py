"""Swarm init and join with explicit addresses, node labels, and per-node capabilities."""

from __future__ import annotations

import dataclasses
import json
from typing import Dict

from ..capabilities import endpoint_note, probe_hosts
from ..errors import PoolTaken
from ..providers.base import Host
from ..result import CommandResult
from ..swarm_write import swarm_write
from ..shell import sh
from ..transport.group import run_on
from ..waiting import poll, until
from ..observe import reads
from .context import UpContext


def swarm_state(host: Host) -> str:
    r = host.transport.run("docker info --format '{{.Swarm.LocalNodeState}}'", warn=True, timeout=30)
    return r.stdout.strip() if r.ok else "unknown"


def probe_nodes(ctx: UpContext) -> None:
    """Every node, for real: IPVS and ESP (the answer decides dnsrr and encryption)."""
    ctx.caps = list(probe_hosts(ctx.hosts, strict=True).values())
    note = endpoint_note(ctx.caps)
    if note:
        ctx.warn(note)


def init(ctx: UpContext) -> Dict[str, str]:
    """The swarm on the leader (made once); every node's swarm state, for `join`."""
    leader, plan = ctx.leader, ctx.plan
    assert plan is not None  # the pool is chosen before the nodes are made
    states = {h.name: swarm_state(h) for h in ctx.hosts}
    if states[leader.name] != "active":
        ip = leader.swarm_addr
        leader.transport.run(
            [
                "docker",
                "swarm",
                "init",
                "--advertise-addr",
                ip,
                "--listen-addr",
                f"{ip}:2377",
                "--data-path-addr",
                leader.data_addr,
                "--default-addr-pool",
                str(plan.overlay_pool),
                "--default-addr-pool-mask-length",
                24,
            ],
            timeout=60,
        )
        ctx.say(f"swarm initialised on {leader.name} ({ip}), overlay pool {plan.overlay_pool}")
        _drop_ingress(ctx)
    return states


def join(ctx: UpContext, states: Dict[str, str]) -> None:
    """Every node not yet in the swarm joins it, all at once."""
    leader = ctx.leader
    # both tokens in one command: every command is an exec into the manager
    both = leader.transport.run("docker swarm join-token -q manager && docker swarm join-token -q worker")
    tokens = dict(zip(("manager", "worker"), both.stdout.split()))
    joiners = [h for h in ctx.hosts if h is not leader and states[h.name] != "active"]

    def join(h: Host):
        # the request, token included, goes on stdin to the engine's own API: a command line
        # (`docker swarm join --token ...`) is seen by every process of the host in `ps`
        request = {
            "ListenAddr": f"{h.swarm_addr}:2377",
            "AdvertiseAddr": h.swarm_addr,
            "DataPathAddr": h.data_addr,
            "RemoteAddrs": [f"{leader.swarm_addr}:2377"],
            "JoinToken": tokens[h.role],
        }
        r = h.transport.run(["python3", "-c", JOIN], stdin=json.dumps(request).encode(), timeout=90, warn=True)
        r = dataclasses.replace(r, cmd="POST /swarm/join to the engine (the request on stdin)")  # not the script
        return r if r.ok or BACKGROUND not in r.stderr else _joined_later(h, r)

    run_on(joiners, join).check("swarm join")
    if joiners:
        _listed(leader, [h.swarm_name for h in joiners])
        ctx.say(f"joined {', '.join(h.name for h in joiners)}")


def _listed(leader: Host, names: list) -> None:
    """Wait until the leader lists every joined node by its hostname: the join returns once
    the node is in, and its description (the hostname `node update` finds it by) follows a
    moment later ('No such node: node-2' once in ten ups, when labels came at once)."""

    def probe():
        listed = reads.hostnames(leader.transport)
        missing = sorted(set(names) - set(listed)) if listed is not None else names
        return not missing, f"not listed yet: {', '.join(missing)}" if missing else "all listed"

    poll("the joined nodes to be listed by name on the leader", probe, JOIN_GRACE)


def _drop_ingress(ctx: UpContext) -> None:
    """No IPVS on any node: no routing mesh, so the ingress network would only cost each
    worker a sandbox before its first task (0.3-0.5 s, on the way to the stack answering)
    and let a port published in ingress mode answer nowhere. Removed at init; a port
    published without mode=host is then refused by Swarm, saying why."""
    if not ctx.caps or any(c.ipvs for c in ctx.caps):
        return
    r = ctx.leader.transport.run("echo y | docker network rm ingress >/dev/null", warn=True)
    ctx.say(
        "no IPVS: the ingress network (routing mesh) removed"
        if r.ok
        else f"ingress network left in place: {r.stderr.strip()[:200]}"
    )


# POST /swarm/join on the host's engine socket with the request read from stdin (python3 is
# on every host swarmlab uses: the node image, the Vagrant box, an SSH host's preflight).
JOIN = r"""
import http.client, json, os, socket, sys
class Unix(http.client.HTTPConnection):
    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(self.timeout)
        self.sock.connect(PATH)
host = os.environ.get("DOCKER_HOST", "")
PATH = host[len("unix://"):] if host.startswith("unix://") else "/var/run/docker.sock"
conn = Unix("localhost", timeout=85)
conn.request("POST", "/swarm/join", body=sys.stdin.buffer.read(), headers={"Content-Type": "application/json"})
resp = conn.getresponse()
said = resp.read().decode(errors="replace")
if resp.status >= 300:
    try:
        said = json.loads(said).get("message", said)
    except ValueError:
        pass
    sys.exit("Error response from daemon: " + said.strip())
"""

# What `swarm join` says when a busy manager (50 nodes joining on 2 cores) does not answer
# within its own 20 s: the node goes on joining, so its state is what decides.
BACKGROUND = "will continue in the background"
JOIN_GRACE = 120.0


def _joined_later(h: Host, first: CommandResult) -> CommandResult:
    done, seen, secs = until(lambda: (swarm_state(h) == "active", f"state {swarm_state(h)}"), JOIN_GRACE, 2.0)
    if done:
        return CommandResult(
            first.host, first.cmd, 0, f"joined in the background ({secs:.0f}s more)", "", first.duration + secs
        )
    return CommandResult(
        first.host,
        first.cmd,
        first.exited,
        first.stdout,
        first.stderr + f" (still {seen} after {JOIN_GRACE:.0f}s more)",
        first.duration + secs,
    )


def remove_nodes(ctx: UpContext, extra: list) -> None:
    """Take nodes out of the swarm: demote managers, leave, and forget them on the leader."""
    leader = ctx.leader
    if swarm_state(leader) != "active":
        return
    names = [h.swarm_name for h in extra]
    managers = [h.swarm_name for h in extra if h.role == "manager"]
    if managers:
        leader.transport.run(["docker", "node", "demote", managers], timeout=60, warn=True)
    run_on(
        [h for h in extra if h.state == "running"],
        lambda h: h.transport.run("docker swarm leave --force", timeout=60, warn=True),
    )
    leader.transport.run(["docker", "node", "rm", "--force", names], timeout=60, warn=True)


def label_nodes(ctx: UpContext) -> None:
    """Every node's labels, in one command on the leader."""
    hosts = {h.name: h for h in ctx.hosts}
    updates = [
        sh(
            "docker",
            "node",
            "update",
            [["--label-add", f"{k}={v}"] for k, v in spec.labels],
            hosts[spec.name].swarm_name,
        )
        for spec in ctx.scenario.nodes
        if spec.labels and spec.name in hosts
    ]
    if updates:
        ctx.leader.transport.run(" && ".join(updates), timeout=30 + 5 * len(updates))


def set_availability(ctx: UpContext) -> bool:
    """The nodes the scenario wants paused or drained, once the stack runs (so a paused
    node keeps the tasks it was given, as a source lab's did); True if any was changed."""
    hosts = {h.name: h for h in ctx.hosts}
    changed = [spec for spec in ctx.scenario.nodes if spec.availability != "active" and spec.name in hosts]
    for spec in changed:
        swarm_write(
            ctx.leader.transport, ["node", "update", "--availability", spec.availability, hosts[spec.name].swarm_name]
        ).check(f"set {spec.name} to {spec.availability}")
        ctx.say(f"{spec.name}: {spec.availability}, as the scenario asks")
    return bool(changed)


def provision(ctx: UpContext, tries: int = 4) -> list:
    """The nodes; when another lab made at the same moment took the chosen pool (the first
    thing made, so nothing of this lab exists yet), another pool."""
    taken: tuple = ()
    while True:
        try:
            assert ctx.plan is not None  # chosen by preflight
            return ctx.provider.provision(ctx.scenario, ctx.lab, ctx.plan, ctx.say)
        except PoolTaken as exc:
            if ctx.scenario.pool != "auto" or len(taken) + 1 >= tries:
                raise
            taken += (exc.pool,)
            ctx.say(f"{exc.pool} was just taken by another lab: choosing another")
            ctx.plan = ctx.provider.allocate_pool(ctx.lab, ctx.scenario.pool, str(ctx.scenario.path), avoid=taken)


def scale_down(ctx: UpContext) -> None:
    """Converging to fewer nodes: the nodes the scenario no longer has leave the swarm
    (demoted first if managers) and are removed with their state."""
    wanted = {n.name for n in ctx.scenario.nodes}
    extra = [h for h in ctx.hosts if h.name not in wanted]
    if not extra:
        return
    ctx.hosts = [h for h in ctx.hosts if h.name in wanted]
    remove_nodes(ctx, extra)
    ctx.provider.remove_nodes(ctx.lab, [h.name for h in extra])
    ctx.say(f"removed {', '.join(h.name for h in extra)} (the scenario now has {len(wanted)} nodes)")

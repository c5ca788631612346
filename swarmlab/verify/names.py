"""verify, 1 to 3: what the kernels offer, the swarm's health, and every service's name
resolving from every other one that shares a network with it."""

from __future__ import annotations

from typing import List

from ..naming import short_task as _short
from ..result import CheckResult
from ..observe.netns import dns_cmd, in_task, is_ipv4
from ..observe.topology import Service, Task
from .context import VerifyContext


# 1 ---------------------------------------------------------------------
def capabilities(ctx: VerifyContext) -> List[CheckResult]:
    out = []
    for node, c in sorted(ctx.caps.items()):
        ver = ctx.topo.hosts[node].transport.run("docker version --format '{{.Server.Version}}'", warn=True)
        facts = (
            f"IPVS {'yes' if c.ipvs else 'no'}, ESP rfc4106(gcm(aes)) {'yes' if c.esp else 'no'}, "
            f"kernel {c.kernel}, Docker {ver.stdout.strip() or '?'}"
        )
        consequences = []
        if not c.ipvs:
            consequences.append("no VIP/ingress: dnsrr and host-mode ports")
        if not c.esp:
            consequences.append("encrypted overlays cannot carry traffic")
        out.append(
            CheckResult(
                f"capabilities: {node}",
                True,
                "the node's kernel probed for IPVS and ESP",
                facts + (f" ({'; '.join(consequences)})" if consequences else ""),
                "; ".join(f"{k}: {v}" for k, v in c.reasons),
            )
        )
    return out


# 2 ---------------------------------------------------------------------
def swarm_health(ctx: VerifyContext) -> List[CheckResult]:
    nodes = ctx.topo.nodes
    bad = [n.hostname for n in nodes if n.status != "ready" or n.availability != "active"]
    managers = [n for n in nodes if n.manager]
    reachable = [n for n in managers if n.manager in ("leader", "reachable")]
    quorum = len(reachable) > len(managers) // 2
    out = [
        CheckResult(
            "swarm: nodes",
            not bad and quorum,
            "every node Ready and Active; a majority of managers reachable",
            f"{len(nodes)} nodes, not ready: {', '.join(bad) or 'none'}; managers reachable "
            f"{len(reachable)}/{len(managers)}" + ("" if quorum else " — QUORUM LOST"),
        )
    ]
    for svc in sorted(ctx.topo.services.values(), key=lambda s: s.name):
        running = len(svc.tasks)
        ok = svc.replicas is None or running == svc.replicas
        placement = ", ".join(f"{_short(t.name)} on {t.node}" for t in sorted(svc.tasks, key=lambda t: t.name))
        if not running and svc.completed >= (svc.replicas or 1):  # its restart policy lets it stay done
            out.append(
                CheckResult(
                    f"swarm: {svc.name}",
                    True,
                    f"{svc.replicas} replicas running, or done",
                    f"{svc.completed} task(s) ran to completion (exit 0): a one-shot job, done",
                )
            )
            continue
        out.append(
            CheckResult(
                f"swarm: {svc.name}",
                ok and running > 0,
                f"{svc.replicas} replicas running",
                f"{running} running: {placement or 'none'}",
            )
        )
    return out


# 3 ---------------------------------------------------------------------
def answer(ctx, task: Task, name: str) -> List[str]:
    """The A records dig got; an error (a refused forward for an unknown name) is no answer."""
    r = in_task(ctx.topo, task, dns_cmd(name))
    return sorted(x for x in r.stdout.split() if is_ipv4(x))


def _covers(dst: Service, shared, got: List[str]) -> str:
    """'' when the answer names every task of dst (by one of its addresses on a shared
    network) and nothing else; else what is wrong."""
    mine = {ip for t in dst.tasks for n, ip in t.ips.items() if n in shared}
    missing = [_short(t.name) for t in dst.tasks if not {t.ips.get(n) for n in shared} & set(got)]
    stray = sorted(set(got) - mine)
    if not got:
        return "no answer"
    return "; ".join(
        filter(
            None,
            [f"missing {', '.join(missing)}" if missing else "", f"not its tasks: {', '.join(stray)}" if stray else ""],
        )
    )


def dns(ctx: VerifyContext) -> List[CheckResult]:
    out = []
    services = sorted(ctx.topo.services.values(), key=lambda s: s.name)
    for src in services:
        if not src.tasks:
            continue
        task = src.tasks[0]
        if src.docker_network:
            out.append(
                CheckResult(
                    f"dns from {src.short}",
                    False,
                    "names of services on a shared network resolve",
                    f"on Docker's {src.docker_network} network: its tasks use their node's resolver, not Swarm's names",
                    status="unsupported",
                )
            )
            continue
        problems, lines = [], []
        for dst in services:
            shared = set(src.networks) & set(dst.networks)
            got = answer(ctx, task, dst.short)
            lines.append(f"{dst.short} -> {','.join(got) or 'NXDOMAIN'}")
            if shared:
                if dst.endpoint_mode == "dnsrr":
                    why = _covers(dst, shared, got)
                    if why:
                        problems.append(f"{dst.short}: {why}")
                elif len(got) != 1:
                    problems.append(f"{dst.short}: expected one VIP, got {got or 'nothing'}")
                tasks_got = answer(ctx, task, f"tasks.{dst.short}")
                lines.append(f"tasks.{dst.short} -> {','.join(tasks_got) or 'NXDOMAIN'}")
                why = _covers(dst, shared, tasks_got)
                if why:
                    problems.append(f"tasks.{dst.short}: {why}")
            elif got:
                problems.append(f"{dst.short} resolves ({got}) though {src.short} shares no network with it")
        out.append(
            CheckResult(
                f"dns from {src.short}",
                not problems,
                "names of services on a shared network resolve (tasks.<svc> to every task); others do not",
                "; ".join(problems) or "; ".join(lines),
                f"from {_short(task.name)} on {task.node}: " + "; ".join(lines),
            )
        )
    return out

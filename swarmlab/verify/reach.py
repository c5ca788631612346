"""verify, 4 and 5: reachability and isolation between the services (an outsider on each
network too), and the published ports."""

from __future__ import annotations

import itertools
import secrets
from concurrent.futures import ThreadPoolExecutor
from typing import List, Optional, Tuple

from .. import labels as L
from ..result import CheckResult
from ..observe import netns
from ..observe.netns import carry, connect_cmd, in_task, leaves_lab, shown, tcp_open
from ..observe.topology import Service, Task
from .context import VerifyContext
from .names import answer


# 4 ---------------------------------------------------------------------
def _probe_targets(dst: Service, nets) -> List[Tuple[str, Optional[int], str]]:
    """(ip, port, node) for every task of dst on the given networks (any network when None);
    port None (an ICMP echo) for a service that listens on nothing."""
    out: List[Tuple[str, Optional[int], str]] = []
    for t in dst.tasks:
        for n, ip in t.ips.items():
            if nets is None or n in nets:
                ports: List[Optional[int]] = list(dst.ports) if dst.ports else [None]
                out += [(ip, p, t.node) for p in ports]
                break
    return out


def reachability(ctx: VerifyContext) -> List[CheckResult]:
    services = sorted(ctx.topo.services.values(), key=lambda s: s.name)
    pairs = [(a, b) for a, b in itertools.product(services, services) if a.tasks and b.tasks and a is not b]
    with ThreadPoolExecutor(max_workers=max(1, len(pairs) + 1)) as pool:  # every pair at once
        outsiders = pool.submit(carry(_outsiders), ctx)
        done = list(pool.map(carry(lambda p: _reach_pair(ctx, *p)), pairs))
        out = [r for r, _ in done] + outsiders.result()
    crossing = any(c for _, c in done)
    if not any(a.tasks[0].node != t.node for a, b in pairs for t in b.tasks):
        # one service, or every task on one node: a stack that has no path to cross hosts on
        out.append(
            CheckResult(
                "reach: crosses hosts",
                False,
                "at least one allowed path between two nodes",
                "no two services' tasks on different nodes to cross between",
                status="unsupported",
            )
        )
        return out
    out.append(
        CheckResult(
            "reach: crosses hosts",
            crossing,
            "at least one allowed path between two nodes",
            "yes" if crossing else "no allowed connection crossed hosts",
        )
    )
    return out


def _reach_pair(ctx: VerifyContext, src: Service, dst: Service) -> Tuple[CheckResult, bool]:
    task = src.tasks[0]
    shared = set(src.networks) & set(dst.networks)
    results = []
    crossing = False
    for ip, port, node in _probe_targets(dst, shared if shared else None):
        away = None if shared else leaves_lab(ctx.topo, task, ip)
        ok = False if away else in_task(ctx.topo, task, connect_cmd(ip, port)).ok
        results.append((ip, port, node, ok, away))
        crossing |= bool(shared) and ok and node != task.node
    opened = [x for x in results if x[3]]
    if shared:
        state = "ok" if results and len(opened) == len(results) else "expected-open-but-blocked"
    else:
        state = "blocked" if not opened else "expected-blocked-but-open"
    ctx.matrix[(src.short, dst.short)] = state
    seen = (
        ", ".join(
            f"{shown(ip, p)} on {n} " + (_not_sent(away) if away else "open" if o else "closed")
            for ip, p, n, o, away in results
        )
        or f"{dst.short} has no address on {', '.join(sorted(shared)) or 'any network'}"
    )
    return CheckResult(
        f"reach {src.short} -> {dst.short}",
        state in ("ok", "blocked"),
        f"connects (shared network {', '.join(sorted(shared))})" if shared else "blocked (no shared network)",
        f"{state}: {seen}",
    ), crossing


def _not_sent(why: str) -> str:
    return f"not on the lab's networks: {why}, so nothing was sent"


def _outsiders(ctx: VerifyContext) -> List[CheckResult]:
    """A throwaway probe container on each network: what a newcomer on it can reach."""
    host, image = _probe_host(ctx)
    if not image:
        return [
            CheckResult(
                "reach: outsiders",
                False,
                "an image on a node to probe from",
                "no node holds an image",
                status="unsupported",
            )
        ]
    with ThreadPoolExecutor(max_workers=max(1, len(ctx.topo.networks))) as pool:
        return list(pool.map(carry(lambda net: _outsider(ctx, host, image, net)), sorted(ctx.topo.networks)))


def _probe_host(ctx: VerifyContext):
    """The manager, or the first node holding an image (a stack may place nothing on the
    manager; the lab's networks are attachable from any node), and that image: one of the
    lab's own where it can (it only has to `sleep`; a real host may hold anything else)."""
    leader = ctx.topo.leader()
    others = [h for h in ctx.topo.hosts.values() if h is not leader and h.state == "running"]
    for host in [leader] + sorted(others, key=lambda h: h.name):
        image = host.transport.run(
            "f='{{.Repository}}:{{.Tag}}'; { docker images --format \"$f\" | grep '^swarmlab\\.local/\\|/swarmlab/'; "
            "docker images --format \"$f\"; } | grep -v '<none>' | head -n1",
            warn=True,
        ).stdout.strip()
        if image:
            return host, image
    return leader, ""


def _outsider(ctx: VerifyContext, host, image: str, net: str) -> CheckResult:
    t = host.transport
    name = f"swarmlab-probe-{net}-{secrets.token_hex(3)}"
    run = t.run(
        [
            "docker",
            "run",
            "-d",
            "--rm",
            "--name",
            name,
            "--network",
            net,
            "--label",
            f"{L.LAB}={ctx.topo.lab}",
            "--label",
            f"{L.ROLE}={L.ROLE_PROBE}",
            "--entrypoint",
            "sleep",
            image,
            int(60 * netns.scale()),
        ],
        warn=True,
        timeout=60 * netns.scale(),
    )
    if not run.ok:
        return CheckResult(
            f"reach from outsider on {net}", False, "a probe container on the network", run.stderr.strip()[-300:]
        )
    try:
        probe = Task(name, "probe", host.name)
        cells, problems = [], []
        for dst in sorted(ctx.topo.services.values(), key=lambda s: s.name):
            if not dst.tasks:
                continue
            on_net = net in dst.networks
            targets = _probe_targets(dst, {net} if on_net else None)
            away = {} if on_net else {ip: leaves_lab(ctx.topo, probe, ip) for ip, _, _ in targets}
            opened = [
                shown(ip, p)
                for ip, p, _ in targets
                if not away.get(ip) and in_task(ctx.topo, probe, connect_cmd(ip, p)).ok
            ]
            state = (
                ("ok" if len(opened) == len(targets) else "expected-open-but-blocked")
                if on_net
                else ("blocked" if not opened else "expected-blocked-but-open")
            )
            ctx.matrix[(f"outsider@{net}", dst.short)] = state
            names = answer(ctx, probe, dst.short)  # resolves only on a network it shares
            unsent = "; ".join(f"{ip} {_not_sent(why)}" for ip, why in away.items() if why)
            cells.append(
                f"{dst.short}: {state}"
                + (f" ({unsent})" if unsent else "")
                + f", name {'resolves' if names else 'does not resolve'}"
            )
            if state not in ("ok", "blocked"):
                problems.append(f"{dst.short}: {state} ({', '.join(opened) or 'nothing open'})")
            if bool(names) != on_net:
                problems.append(
                    f"{dst.short}: name {'resolves' if names else 'does not resolve'} "
                    f"({', '.join(names) or 'NXDOMAIN'}) from {net}"
                )
        return CheckResult(
            f"reach from outsider on {net}",
            not problems,
            f"services on {net} answer and resolve by name, the others do neither",
            "; ".join(problems or cells),
        )
    finally:
        t.run(["docker", "rm", "-f", name], warn=True)


# 5 ---------------------------------------------------------------------
def ports(ctx: VerifyContext) -> List[CheckResult]:
    out = []
    addr = {n: h.address for n, h in ctx.topo.hosts.items()}
    for svc in sorted(ctx.topo.services.values(), key=lambda s: s.name):
        task_nodes = {t.node for t in svc.tasks}
        for p in svc.published:
            if p.get("protocol", "tcp") != "tcp":  # no handshake to see from here: said, not guessed
                out.append(
                    CheckResult(
                        f"published {svc.short}:{p['published']}/{p['protocol']}",
                        False,
                        "answers from the controller",
                        f"{p['protocol']}: no handshake to probe "
                        "from outside (a silent port and a closed one look the same)",
                        status="unsupported",
                    )
                )
                continue
            nodes = sorted(task_nodes) if p["mode"] == "host" else sorted(addr)
            seen = {n: tcp_open(addr[n], p["published"]) for n in nodes if n in addr}
            out.append(
                CheckResult(
                    f"published {svc.short}:{p['published']}",
                    bool(seen) and all(seen.values()),
                    f"answers from the controller on {', '.join(nodes)} ({p['mode']} mode)",
                    ", ".join(f"{n}:{'open' if o else 'closed'}" for n, o in seen.items()),
                )
            )
        internal = sorted(
            set(svc.ports)
            - {p["target"] for p in svc.published if p["published"] == p["target"]}
            - {p["published"] for p in svc.published}
        )
        if svc.on_host_network and svc.tasks:
            out.append(
                CheckResult(
                    f"internal {svc.short}",
                    False,
                    "no answer from outside the swarm (not published)",
                    "on Docker's host network: every port its tasks listen on is their node's own",
                    status="unsupported",
                )
            )
            continue
        for port in internal:
            seen = {n: tcp_open(addr[n], port) for n in sorted(task_nodes) if n in addr}
            out.append(
                CheckResult(
                    f"internal {svc.short}:{port}",
                    not any(seen.values()),
                    "no answer from outside the swarm (not published)",
                    ", ".join(f"{n}:{'OPEN' if o else 'closed'}" for n, o in seen.items()),
                )
            )
    return out

"""The checks of `swarmlab verify`. Each takes the lab's Topology and returns CheckResults;
each is derived from the lab's own services and networks."""
from __future__ import annotations

import base64
import itertools
import secrets
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from .. import enter, labels as L, safefs
from ..actions.smoke import flow_checks, runs_web_app
from ..capabilities import Capabilities
from ..naming import short_task as _short
from ..result import CheckResult
from ..shell import sh
from ..observe import netns, wire
from ..observe.netns import carry, connect_cmd, dns_cmd, in_task, is_ipv4, leaves_lab, shown, tcp_open, underlay_dev
from ..observe.topology import Service, Task, Topology

MTU_PLAIN, MTU_ENCRYPTED = 1450, 1424


@dataclass
class VerifyContext:
    topo: Topology
    caps: Dict[str, Capabilities]
    capture_dir: Path
    matrix: Dict[Tuple[str, str], str] = field(default_factory=dict)

    @property
    def esp_everywhere(self) -> bool:
        return bool(self.caps) and all(c.esp for c in self.caps.values())


# 1 ---------------------------------------------------------------------
def capabilities(ctx: VerifyContext) -> List[CheckResult]:
    out = []
    for node, c in sorted(ctx.caps.items()):
        ver = ctx.topo.hosts[node].transport.run("docker version --format '{{.Server.Version}}'", warn=True)
        facts = (f"IPVS {'yes' if c.ipvs else 'no'}, ESP rfc4106(gcm(aes)) {'yes' if c.esp else 'no'}, "
                 f"kernel {c.kernel}, Docker {ver.stdout.strip() or '?'}")
        consequences = []
        if not c.ipvs:
            consequences.append("no VIP/ingress: dnsrr and host-mode ports")
        if not c.esp:
            consequences.append("encrypted overlays cannot carry traffic")
        out.append(CheckResult(f"capabilities: {node}", True, "the node's kernel probed for IPVS and ESP",
                               facts + (f" ({'; '.join(consequences)})" if consequences else ""),
                               "; ".join(f"{k}: {v}" for k, v in c.reasons)))
    return out


# 2 ---------------------------------------------------------------------
def swarm_health(ctx: VerifyContext) -> List[CheckResult]:
    nodes = ctx.topo.nodes
    bad = [n.hostname for n in nodes if n.status != "ready" or n.availability != "active"]
    managers = [n for n in nodes if n.manager]
    reachable = [n for n in managers if n.manager in ("leader", "reachable")]
    quorum = len(reachable) > len(managers) // 2
    out = [CheckResult("swarm: nodes", not bad and quorum,
                       "every node Ready and Active; a majority of managers reachable",
                       f"{len(nodes)} nodes, not ready: {', '.join(bad) or 'none'}; managers reachable "
                       f"{len(reachable)}/{len(managers)}" + ("" if quorum else " — QUORUM LOST"))]
    for svc in sorted(ctx.topo.services.values(), key=lambda s: s.name):
        running = len(svc.tasks)
        ok = svc.replicas is None or running == svc.replicas
        placement = ", ".join(f"{_short(t.name)} on {t.node}" for t in sorted(svc.tasks, key=lambda t: t.name))
        if not running and svc.completed >= (svc.replicas or 1):   # its restart policy lets it stay done
            out.append(CheckResult(f"swarm: {svc.name}", True, f"{svc.replicas} replicas running, or done",
                                   f"{svc.completed} task(s) ran to completion (exit 0): a one-shot job, done"))
            continue
        out.append(CheckResult(f"swarm: {svc.name}", ok and running > 0,
                               f"{svc.replicas} replicas running", f"{running} running: {placement or 'none'}"))
    return out


# 3 ---------------------------------------------------------------------
def _answer(ctx, task: Task, name: str) -> List[str]:
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
    return "; ".join(filter(None, [f"missing {', '.join(missing)}" if missing else "",
                                   f"not its tasks: {', '.join(stray)}" if stray else ""]))


def dns(ctx: VerifyContext) -> List[CheckResult]:
    out = []
    services = sorted(ctx.topo.services.values(), key=lambda s: s.name)
    for src in services:
        if not src.tasks:
            continue
        task = src.tasks[0]
        if src.docker_network:
            out.append(CheckResult(f"dns from {src.short}", False, "names of services on a shared network resolve",
                                   f"on Docker's {src.docker_network} network: its tasks use their node's resolver, "
                                   "not Swarm's names", status="unsupported"))
            continue
        problems, lines = [], []
        for dst in services:
            shared = set(src.networks) & set(dst.networks)
            got = _answer(ctx, task, dst.short)
            lines.append(f"{dst.short} -> {','.join(got) or 'NXDOMAIN'}")
            if shared:
                if dst.endpoint_mode == "dnsrr":
                    why = _covers(dst, shared, got)
                    if why:
                        problems.append(f"{dst.short}: {why}")
                elif len(got) != 1:
                    problems.append(f"{dst.short}: expected one VIP, got {got or 'nothing'}")
                tasks_got = _answer(ctx, task, f"tasks.{dst.short}")
                lines.append(f"tasks.{dst.short} -> {','.join(tasks_got) or 'NXDOMAIN'}")
                why = _covers(dst, shared, tasks_got)
                if why:
                    problems.append(f"tasks.{dst.short}: {why}")
            elif got:
                problems.append(f"{dst.short} resolves ({got}) though {src.short} shares no network with it")
        out.append(CheckResult(f"dns from {src.short}", not problems,
                               "names of services on a shared network resolve (tasks.<svc> to every task); "
                               "others do not", "; ".join(problems) or "; ".join(lines),
                               f"from {_short(task.name)} on {task.node}: " + "; ".join(lines)))
    return out


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
        out.append(CheckResult("reach: crosses hosts", False, "at least one allowed path between two nodes",
                               "no two services' tasks on different nodes to cross between", status="unsupported"))
        return out
    out.append(CheckResult("reach: crosses hosts", crossing, "at least one allowed path between two nodes",
                           "yes" if crossing else "no allowed connection crossed hosts"))
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
    seen = ", ".join(f"{shown(ip, p)} on {n} " + (_not_sent(away) if away else 'open' if o else 'closed')
                     for ip, p, n, o, away in results) or \
        f"{dst.short} has no address on {', '.join(sorted(shared)) or 'any network'}"
    return CheckResult(f"reach {src.short} -> {dst.short}", state in ("ok", "blocked"),
                       f"connects (shared network {', '.join(sorted(shared))})" if shared
                       else "blocked (no shared network)", f"{state}: {seen}"), crossing


def _not_sent(why: str) -> str:
    return f"not on the lab's networks: {why}, so nothing was sent"


def _outsiders(ctx: VerifyContext) -> List[CheckResult]:
    """A throwaway probe container on each network: what a newcomer on it can reach."""
    host, image = _probe_host(ctx)
    if not image:
        return [CheckResult("reach: outsiders", False, "an image on a node to probe from",
                            "no node holds an image", status="unsupported")]
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
            "docker images --format \"$f\"; } | grep -v '<none>' | head -n1", warn=True).stdout.strip()
        if image:
            return host, image
    return leader, ""


def _outsider(ctx: VerifyContext, host, image: str, net: str) -> CheckResult:
    t = host.transport
    name = f"swarmlab-probe-{net}-{secrets.token_hex(3)}"
    run = t.run(["docker", "run", "-d", "--rm", "--name", name, "--network", net,
                 "--label", f"{L.LAB}={ctx.topo.lab}", "--label", f"{L.ROLE}={L.ROLE_PROBE}",
                 "--entrypoint", "sleep", image, int(60 * netns.scale())], warn=True, timeout=60 * netns.scale())
    if not run.ok:
        return CheckResult(f"reach from outsider on {net}", False, "a probe container on the network",
                           run.stderr.strip()[-300:])
    try:
        probe = Task(name, "probe", host.name)
        cells, problems = [], []
        for dst in sorted(ctx.topo.services.values(), key=lambda s: s.name):
            if not dst.tasks:
                continue
            on_net = net in dst.networks
            targets = _probe_targets(dst, {net} if on_net else None)
            away = {} if on_net else {ip: leaves_lab(ctx.topo, probe, ip) for ip, _, _ in targets}
            opened = [shown(ip, p) for ip, p, _ in targets
                      if not away.get(ip) and in_task(ctx.topo, probe, connect_cmd(ip, p)).ok]
            state = ("ok" if len(opened) == len(targets) else "expected-open-but-blocked") if on_net \
                else ("blocked" if not opened else "expected-blocked-but-open")
            ctx.matrix[(f"outsider@{net}", dst.short)] = state
            names = _answer(ctx, probe, dst.short)  # resolves only on a network it shares
            unsent = "; ".join(f"{ip} {_not_sent(why)}" for ip, why in away.items() if why)
            cells.append(f"{dst.short}: {state}" + (f" ({unsent})" if unsent else "")
                         + f", name {'resolves' if names else 'does not resolve'}")
            if state not in ("ok", "blocked"):
                problems.append(f"{dst.short}: {state} ({', '.join(opened) or 'nothing open'})")
            if bool(names) != on_net:
                problems.append(f"{dst.short}: name {'resolves' if names else 'does not resolve'} "
                                f"({', '.join(names) or 'NXDOMAIN'}) from {net}")
        return CheckResult(f"reach from outsider on {net}", not problems,
                           f"services on {net} answer and resolve by name, the others do neither",
                           "; ".join(problems or cells))
    finally:
        t.run(["docker", "rm", "-f", name], warn=True)


# 5 ---------------------------------------------------------------------
def ports(ctx: VerifyContext) -> List[CheckResult]:
    out = []
    addr = {n: h.address for n, h in ctx.topo.hosts.items()}
    for svc in sorted(ctx.topo.services.values(), key=lambda s: s.name):
        task_nodes = {t.node for t in svc.tasks}
        for p in svc.published:
            if p.get("protocol", "tcp") != "tcp":   # no handshake to see from here: said, not guessed
                out.append(CheckResult(f"published {svc.short}:{p['published']}/{p['protocol']}", False,
                                       "answers from the controller", f"{p['protocol']}: no handshake to probe "
                                       "from outside (a silent port and a closed one look the same)",
                                       status="unsupported"))
                continue
            nodes = sorted(task_nodes) if p["mode"] == "host" else sorted(addr)
            seen = {n: tcp_open(addr[n], p["published"]) for n in nodes if n in addr}
            out.append(CheckResult(f"published {svc.short}:{p['published']}", bool(seen) and all(seen.values()),
                                   f"answers from the controller on {', '.join(nodes)} ({p['mode']} mode)",
                                   ", ".join(f"{n}:{'open' if o else 'closed'}" for n, o in seen.items())))
        internal = sorted(set(svc.ports) - {p["target"] for p in svc.published if p["published"] == p["target"]}
                          - {p["published"] for p in svc.published})
        if svc.on_host_network and svc.tasks:
            out.append(CheckResult(f"internal {svc.short}", False, "no answer from outside the swarm (not published)",
                                   "on Docker's host network: every port its tasks listen on is their node's own",
                                   status="unsupported"))
            continue
        for port in internal:
            seen = {n: tcp_open(addr[n], port) for n in sorted(task_nodes) if n in addr}
            out.append(CheckResult(f"internal {svc.short}:{port}", not any(seen.values()),
                                   "no answer from outside the swarm (not published)",
                                   ", ".join(f"{n}:{'OPEN' if o else 'closed'}" for n, o in seen.items())))
    return out


# 6 ---------------------------------------------------------------------
def data_flow(ctx: VerifyContext) -> List[CheckResult]:
    """The hops of a request through swarmlab's own web app, which reports them; a user's
    stack has no such app, and reachability above proves its paths."""
    targets = []
    ours = [s for s in ctx.topo.services.values() if runs_web_app(s.image, s.own_command)]
    if not ours:
        return [CheckResult("data flow", False, "swarmlab's web app, which reports each hop it took",
                            "not in this stack: reachability and the wire checks prove its paths",
                            status="unsupported")]
    missing = sorted({"db", "redis"} - {s.short for s in ctx.topo.services.values()})
    if missing:   # the web app image used alone: its hops go to services this stack does not have
        return [CheckResult("data flow", False, "swarmlab's web app with its db and redis",
                            f"the web app runs without {' and '.join(missing)}: no flow to follow",
                            status="unsupported")]
    for svc in ours:
        for p in svc.published:
            if p["protocol"] != "tcp":
                continue
            nodes = sorted({t.node for t in svc.tasks}) if p["mode"] == "host" else sorted(ctx.topo.hosts)
            targets += [(n, f"http://{ctx.topo.hosts[n].address}:{p['published']}") for n in nodes]
    if not targets:
        return [CheckResult("data flow", False, "a published HTTP service", "none", status="unsupported")]
    try:
        return flow_checks(targets)
    except (KeyError, TypeError) as exc:
        return [CheckResult("data flow", False, "a reply naming the tasks it used (the lab's web app)",
                            f"the reply has no {exc}", status="unsupported")]


# 7 and 8 -----------------------------------------------------------------
def on_the_wire(ctx: VerifyContext) -> List[CheckResult]:
    nets = sorted(ctx.topo.networks.values(), key=lambda n: n.name)
    with ThreadPoolExecutor(max_workers=max(1, len(nets))) as pool:  # one capture per network, at once
        return list(pool.map(carry(lambda n: _wire_one(ctx, n)), nets))


# three datagrams over a second: the first may wait for the overlay's neighbour entry
_SEND = ("import socket, time; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
         "[(s.sendto(b'{canary}', ('{ip}', 9)), time.sleep(0.4)) for _ in range(3)]")


def _wire_one(ctx: VerifyContext, net) -> CheckResult:
    pair = ctx.topo.pair_across_hosts(net.name)
    if pair is None:
        return CheckResult(f"wire: {net.name}", False, "two tasks on different nodes",
                           "none on this network", status="unsupported")
    a, b = pair
    if not is_ipv4(b.ips[net.name]):   # read from the engine, and written into a command
        return CheckResult(f"wire: {net.name}", False, "two tasks on different nodes",
                           f"no IPv4 address for {_short(b.name)}", status="unsupported")
    canary = f"swarmlab-canary-{secrets.token_hex(8)}"
    node = ctx.topo.hosts[a.node]
    # capture on the node's underlay while the canary goes from task a to task b (UDP
    # port 9, discard: no listener is needed for the datagram to cross the wire)
    wait = max(1, round(netns.scale()))   # tcpdump must be capturing before the canary goes
    cmd = (f"f=$(mktemp /tmp/cap.XXXXXX); dev={underlay_dev(node)}; "
           + 'tcpdump -i "$dev" -U -n -w "$f" ' + sh(f"udp port {wire.VXLAN_PORT} or ip proto 50")
           + " 2>/dev/null & t=$!; " + sh("sleep", wait) + "; "
           + enter.net_prefix(a.name) + " " + sh("python3", "-c", _SEND.format(canary=canary, ip=b.ips[net.name]))
           + " >/dev/null 2>&1; " + sh("sleep", wait) + '; kill $t; wait $t; base64 "$f"; rm -f "$f"')
    r = node.transport.run(cmd, timeout=30 * netns.scale(), warn=True)
    path = ctx.capture_dir / f"{net.name}-{a.node}.pcap"
    try:
        safefs.write_file(safefs.private_dir(ctx.capture_dir) / path.name, base64.b64decode(r.stdout), mode=0o644)
        summary = wire.summarise(str(path), canary.encode())
    except Exception as exc:
        return CheckResult(f"wire: {net.name}", False, "a capture", f"capture failed: {exc}; {r.stderr[-200:]}")
    reason = net.reason if net.requested == "auto" and not net.encrypted else ""
    return wire.verdict(net.name, net.vni, net.encrypted, ctx.esp_everywhere, summary,
                        evidence=f"{path} (underlay of {a.node}; {_short(a.name)} -> {_short(b.name)} on {b.node}, "
                                 f"canary {canary})", reason=reason)


def mtu(ctx: VerifyContext) -> List[CheckResult]:
    out = []
    for net in sorted(ctx.topo.networks.values(), key=lambda n: n.name):
        pair = ctx.topo.pair_across_hosts(net.name)
        want = MTU_ENCRYPTED if net.encrypted else MTU_PLAIN
        if pair is None:
            out.append(CheckResult(f"mtu: {net.name}", False, f"MTU {want}", "no two tasks on different nodes",
                                   status="unsupported"))
            continue
        a, b = pair
        ip_a, ip_b = a.ips[net.name], b.ips[net.name]
        if not (is_ipv4(ip_a) and is_ipv4(ip_b)):   # read from the engine, and written into a command
            out.append(CheckResult(f"mtu: {net.name}", False, f"MTU {want}", f"no IPv4 address ({ip_a}, {ip_b})",
                                   status="unsupported"))
            continue
        # /sys belongs to the node's namespace: ask `ip` inside the task's instead
        r = in_task(ctx.topo, a, f"i=$(ip -o -4 addr show | awk '$4 ~ /^{ip_a}\\// {{print $2}}'); "
                                 f"ip -o link show dev \"$i\" | sed -n 's/.* mtu \\([0-9]*\\).*/\\1/p'")
        have = r.stdout.strip()
        if net.encrypted and not ctx.esp_everywhere:
            out.append(CheckResult(f"mtu: {net.name}", False, f"MTU {want} and DF probes across hosts",
                                   f"interface MTU {have}; no ESP, so nothing crosses (fail-closed)",
                                   status="unsupported"))
            continue
        size = int(have) - 28 if have.isdigit() else want - 28
        fits = in_task(ctx.topo, a, sh("ping", "-c", 1, "-W", 2, "-M", "do", "-s", size, ip_b))
        over = in_task(ctx.topo, a, sh("ping", "-c", 1, "-W", 2, "-M", "do", "-s", size + 1, ip_b))
        ok = have == str(want) and fits.ok and not over.ok
        out.append(CheckResult(f"mtu: {net.name}", ok,
                               f"MTU {want}; a DF packet of {want} bytes crosses, {want + 1} does not",
                               f"MTU {have}; {size + 28} bytes {'passed' if fits.ok else 'FAILED'}, "
                               f"{size + 29} bytes {'passed (too big!)' if over.ok else 'refused'}",
                               f"{_short(a.name)} on {a.node} -> {_short(b.name)} on {b.node}"))
    return out


ALL = [capabilities, swarm_health, dns, reachability, ports, data_flow, on_the_wire, mtu]

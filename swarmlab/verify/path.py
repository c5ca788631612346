"""verify, 6 to 8: the flow through the web app, the overlay on the wire (VXLAN, ESP), and
the MTU each overlay gives its tasks."""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import replace
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List, Tuple

from .. import enter, safefs
from ..observe.flow import flow_checks, runs_web_app
from ..naming import short_task as _short
from ..result import CheckResult
from ..shell import sh
from ..observe import netns, wire
from ..observe.netns import carry, in_task, is_ipv4, underlay_dev
from .context import VerifyContext


MTU_PLAIN, MTU_ENCRYPTED = 1450, 1424


# 6 ---------------------------------------------------------------------
def data_flow(ctx: VerifyContext) -> List[CheckResult]:
    """The hops of a request through swarmlab's own web app, which reports them; a user's
    stack has no such app, and reachability above proves its paths."""
    targets = []
    ours = [s for s in ctx.topo.services.values() if runs_web_app(s.image, s.own_command)]
    if not ours:
        return [
            CheckResult(
                "data flow",
                False,
                "swarmlab's web app, which reports each hop it took",
                "not in this stack: reachability and the wire checks prove its paths",
                status="unsupported",
            )
        ]
    missing = sorted({"db", "redis"} - {s.short for s in ctx.topo.services.values()})
    if missing:  # the web app image used alone: its hops go to services this stack does not have
        return [
            CheckResult(
                "data flow",
                False,
                "swarmlab's web app with its db and redis",
                f"the web app runs without {' and '.join(missing)}: no flow to follow",
                status="unsupported",
            )
        ]
    for svc in ours:
        for p in svc.published:
            if p["protocol"] != "tcp":
                continue
            nodes = sorted({t.node for t in svc.tasks}) if p["mode"] == "host" else sorted(ctx.topo.hosts)
            targets += [(n, f"http://{ctx.topo.hosts[n].address}:{p['published']}") for n in nodes]
    if not targets:
        return [CheckResult("data flow", False, "a published HTTP service", "none", status="unsupported")]
    try:
        return asked_again(targets, flow_checks)
    except (KeyError, TypeError) as exc:
        return [
            CheckResult(
                "data flow",
                False,
                "a reply naming the tasks it used (the lab's web app)",
                f"the reply has no {exc}",
                status="unsupported",
            )
        ]


# 7 and 8 -----------------------------------------------------------------
def on_the_wire(ctx: VerifyContext) -> List[CheckResult]:
    nets = sorted(ctx.topo.networks.values(), key=lambda n: n.name)
    with ThreadPoolExecutor(max_workers=max(1, len(nets))) as pool:  # one capture per network, at once
        return list(pool.map(carry(lambda n: _wire_one(ctx, n)), nets))


# three datagrams over a second: the first may wait for the overlay's neighbour entry
_SEND = (
    "import socket, time; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); "
    "[(s.sendto(b'{canary}', ('{ip}', 9)), time.sleep(0.4)) for _ in range(3)]"
)


def _wire_one(ctx: VerifyContext, net) -> CheckResult:
    pair = ctx.topo.pair_across_hosts(net.name)
    if pair is None:
        return CheckResult(
            f"wire: {net.name}", False, "two tasks on different nodes", "none on this network", status="unsupported"
        )
    a, b = pair
    if not is_ipv4(b.ips[net.name]):  # read from the engine, and written into a command
        return CheckResult(
            f"wire: {net.name}",
            False,
            "two tasks on different nodes",
            f"no IPv4 address for {_short(b.name)}",
            status="unsupported",
        )
    canary = f"swarmlab-canary-{secrets.token_hex(8)}"
    node = ctx.topo.hosts[a.node]
    # capture on the node's underlay while the canary goes from task a to task b (UDP
    # port 9, discard: no listener is needed for the datagram to cross the wire)
    wait = max(1, round(netns.scale()))  # tcpdump must be capturing before the canary goes
    cmd = (
        f"f=$(mktemp /tmp/cap.XXXXXX); dev={underlay_dev(node)}; "
        + 'tcpdump -i "$dev" -U -n -w "$f" '
        + sh(f"udp port {wire.VXLAN_PORT} or ip proto 50")
        + " 2>/dev/null & t=$!; "
        + sh("sleep", wait)
        + "; "
        + enter.net_prefix(a.name)
        + " "
        + sh("python3", "-c", _SEND.format(canary=canary, ip=b.ips[net.name]))
        + " >/dev/null 2>&1; "
        + sh("sleep", wait)
        + '; kill $t; wait $t; base64 "$f"; rm -f "$f"'
    )
    r = node.transport.run(cmd, timeout=30 * netns.scale(), warn=True)
    path = ctx.capture_dir / f"{net.name}-{a.node}.pcap"
    try:
        safefs.write_file(safefs.private_dir(ctx.capture_dir) / path.name, base64.b64decode(r.stdout), mode=0o644)
        summary = wire.summarise(str(path), canary.encode())
    except Exception as exc:
        return CheckResult(f"wire: {net.name}", False, "a capture", f"capture failed: {exc}; {r.stderr[-200:]}")
    reason = net.reason if net.requested == "auto" and not net.encrypted else ""
    return wire.verdict(
        net.name,
        net.vni,
        net.encrypted,
        ctx.esp_everywhere,
        summary,
        evidence=f"{path} (underlay of {a.node}; {_short(a.name)} -> {_short(b.name)} on {b.node}, canary {canary})",
        reason=reason,
    )


def mtu(ctx: VerifyContext) -> List[CheckResult]:
    out = []
    for net in sorted(ctx.topo.networks.values(), key=lambda n: n.name):
        pair = ctx.topo.pair_across_hosts(net.name)
        want = MTU_ENCRYPTED if net.encrypted else MTU_PLAIN
        if pair is None:
            out.append(
                CheckResult(
                    f"mtu: {net.name}", False, f"MTU {want}", "no two tasks on different nodes", status="unsupported"
                )
            )
            continue
        a, b = pair
        ip_a, ip_b = a.ips[net.name], b.ips[net.name]
        if not (is_ipv4(ip_a) and is_ipv4(ip_b)):  # read from the engine, and written into a command
            out.append(
                CheckResult(
                    f"mtu: {net.name}", False, f"MTU {want}", f"no IPv4 address ({ip_a}, {ip_b})", status="unsupported"
                )
            )
            continue
        # /sys belongs to the node's namespace: ask `ip` inside the task's instead
        r = in_task(
            ctx.topo,
            a,
            f"i=$(ip -o -4 addr show | awk '$4 ~ /^{ip_a}\\// {{print $2}}'); "
            f"ip -o link show dev \"$i\" | sed -n 's/.* mtu \\([0-9]*\\).*/\\1/p'",
        )
        have = r.stdout.strip()
        if net.encrypted and not ctx.esp_everywhere:
            out.append(
                CheckResult(
                    f"mtu: {net.name}",
                    False,
                    f"MTU {want} and DF probes across hosts",
                    f"interface MTU {have}; no ESP, so nothing crosses (fail-closed)",
                    status="unsupported",
                )
            )
            continue
        size = int(have) - 28 if have.isdigit() else want - 28
        fits = in_task(ctx.topo, a, sh("ping", "-c", 1, "-W", 2, "-M", "do", "-s", size, ip_b))
        over = in_task(ctx.topo, a, sh("ping", "-c", 1, "-W", 2, "-M", "do", "-s", size + 1, ip_b))
        ok = have == str(want) and fits.ok and not over.ok
        out.append(
            CheckResult(
                f"mtu: {net.name}",
                ok,
                f"MTU {want}; a DF packet of {want} bytes crosses, {want + 1} does not",
                f"MTU {have}; {size + 28} bytes {'passed' if fits.ok else 'FAILED'}, "
                f"{size + 29} bytes {'passed (too big!)' if over.ok else 'refused'}",
                f"{_short(a.name)} on {a.node} -> {_short(b.name)} on {b.node}",
            )
        )
    return out


FLOW_TRIES = 3  # a node's flow asked at most this often while it fails, FLOW_PAUSE s apart
FLOW_PAUSE = 2.0


def asked_again(
    targets: List[Tuple[str, str]], ask: Callable[[List[Tuple[str, str]]], List[CheckResult]]
) -> List[CheckResult]:
    """Each node's flow, asked again while it fails (bounded), and how many asks it took
    said: the web app gives db 3 s to connect, and under emulation (QEMU VMs) one
    connection can outlast that while the next goes through. Drills keep a single ask:
    their timelines count on it."""
    out: List[CheckResult] = []
    for target in targets:
        for attempt in range(1, FLOW_TRIES + 1):
            checks = ask([target])
            if not checks or checks[0].passed or not checks[0].name.startswith("flow via ") or attempt == FLOW_TRIES:
                break
            time.sleep(FLOW_PAUSE)
        if attempt > 1 and checks:
            checks[0] = replace(checks[0], observed=f"{checks[0].observed} (asked {attempt} times)")
        out += checks
    return out

"""Measurements between two network namespaces, run from the nodes with the nodes' own
tools (python3, iperf3, nc, tcpdump): nothing is installed into a service container.

A Place is a network namespace on a host, entered by a shell prefix (`nsenter -n -t PID`
for a container, `ip netns exec NAME` for a namespace of our own). Every loop here is
bounded in count and in time; traffic only ever goes between the lab's namespaces."""

from __future__ import annotations

import base64
import itertools
import json
import random
import shlex
import statistics
import tempfile
import time
from dataclasses import dataclass
from typing import Dict, List

from .. import enter
from ..providers.base import Host
from ..shell import sh
from . import wire
from .netns import underlay_dev
from ..waiting import until

RTT_PORT = 7707
IPERF_PORT = 5201
RTT_ROUNDS = 3  # RTT runs per variant, interleaved with the other variants'
RTT_COUNT = 700  # request/response exchanges per RTT run (the first 50 warm up)
RTT_SECONDS = 5.0  # ... or fewer, if this much time has gone
RTT_CPU = 0  # the CPU both ends of a round trip run on
IPERF_SECONDS = 2  # per iperf3 run
HTTP_COUNT = 100  # requests per HTTP run
HTTP_SECONDS = 15.0
_IPERF_RUNS = itertools.count(random.randrange(100))  # iperf3 ports: 5201 + run % 100


@dataclass
class Place:
    host: Host
    enter: str  # shell prefix that runs a command inside the namespace
    label: str  # what a reader sees: "app_web.1 on node-1", "netns swl-raw-a on node-1"
    ip: str = ""  # its address on the path being measured

    def run(self, cmd: str, timeout: float = 30):
        return self.host.transport.run(f"{self.enter} {cmd}", timeout=timeout, warn=True)

    def command(self, cmd: str) -> str:
        """The command a reader can run by hand from the controller to repeat a number."""
        return self.host.transport.repeat(f"{self.enter} {cmd}")


def container_place(host: Host, container: str, label: str, ip: str = "") -> Place:
    return Place(host, enter.net_prefix(container), label, ip)


def _background(place: Place, cmd: str, seconds: float, log: str = "/dev/null") -> None:
    """Start a server in the place, bounded by `timeout`, detached from the exec; what it
    says goes to `log` (a file on its host)."""
    place.host.transport.run(
        f"setsid sh -c {shlex.quote(f'{place.enter} timeout {int(seconds)} {cmd}')} "
        f"</dev/null >{shlex.quote(log)} 2>&1 &",
        timeout=15,
    )


_ECHO = f"""
import socket
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", {RTT_PORT})); s.listen(1); s.settimeout(30)
c, _ = s.accept(); c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
while True:
    d = c.recv(65536)
    if not d:
        break
    c.sendall(d)
"""

_PING = """
import json, socket, sys, time
ip, marker, count = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
msg = (marker * 8)[:64]
for i in range(50):
    try:
        c = socket.create_connection((ip, {port}), timeout=2); break
    except OSError:
        time.sleep(0.1)
c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
lat, end = [], time.monotonic() + {seconds}
for i in range(count + 50):
    t = time.perf_counter(); c.sendall(msg); got = 0
    while got < len(msg):
        got += len(c.recv(65536))
    if i >= 50:
        lat.append(time.perf_counter() - t)
    if time.monotonic() > end:
        break
c.close()
print(json.dumps(lat))
""".format(port=RTT_PORT, seconds=RTT_SECONDS)


def percentile(xs: List[float], q: float) -> float:
    xs = sorted(xs)
    if not xs:
        return 0.0
    k = min(len(xs) - 1, max(0, int(round(q / 100 * (len(xs) - 1)))))
    return xs[k]


def rtt_samples(client: Place, server: Place, marker: str, count: int = RTT_COUNT):
    """One run of TCP round trips of 64-byte messages (bounded count and time):
    the round trip times in seconds, or an error text."""
    # Both ends on one CPU: with two cores, whether they shared one or not decided the
    # result (20 or 60 µs, run to run); pinned, every variant is timed the same way.
    _background(server, f"taskset -c {RTT_CPU} python3 -c {shlex.quote(_ECHO)}", 30)
    r = client.run(
        f"taskset -c {RTT_CPU} " + sh("python3", "-c", _PING, server.ip, marker, count), timeout=RTT_SECONDS + 20
    )
    if not r.ok:
        return (r.stderr or r.stdout).strip()[-200:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def rtt_summary(samples: List[float], runs: int, error: str, client: Place, server: Place) -> Dict[str, object]:
    if not samples:
        return {"error": error or "no round trip measured"}
    return {
        "n": len(samples),
        "runs": runs,
        "p50_us": round(percentile(samples, 50) * 1e6, 1),
        "p99_us": round(percentile(samples, 99) * 1e6, 1),
        "command": f"server: {server.command(f'python3 -c <echo server on {RTT_PORT}>')}; "
        f"client: {client.command(f'python3 -c <{RTT_COUNT} x 64-byte exchanges> {server.ip}')}",
    }


def iperf_once(client: Place, server: Place):
    """One iperf3 run (TCP, one stream, IPERF_SECONDS): Gbit/s, or an error text (with what
    the server said). The client starts once the server listens (on a VM under emulation
    that takes seconds); iperf3 -J exits 0 even when it could not connect, so its JSON is
    what is judged. Each run has a port of its own and its server is stopped after it: a
    one-shot server left by a run that timed out (a capped link queues seconds of data)
    must not hold the port the next run listens on."""
    port = IPERF_PORT + next(_IPERF_RUNS) % 100
    log = f"/tmp/swarmlab-iperf-{port}.log"
    _background(server, sh("iperf3", "-s", "-1", "-p", port), IPERF_SECONDS + 40, log)
    r = None
    try:
        until(
            lambda: (bool(server.run(sh("ss", "-Hltn", "sport", "=", f":{port}"), timeout=15).stdout.strip()), ""),
            30,
            0.3,
        )
        for _attempt in range(5):  # bounded: a refusal after it listened is said, not waited out
            r = client.run(
                sh("iperf3", "-c", server.ip, "-p", port, "-t", IPERF_SECONDS, "-J"), timeout=IPERF_SECONDS + 20
            )
            if "Connection refused" not in r.stdout + r.stderr:
                break
            time.sleep(0.5)
        assert r is not None  # the loop ran
        return json.loads(r.stdout)["end"]["sum_received"]["bits_per_second"] / 1e9
    except (ValueError, KeyError, TypeError):
        said = server.host.transport.run(sh("cat", log), timeout=15, warn=True).stdout.strip()
        return _iperf_error(r) + (f" (server on {server.label}: {said[-160:]})" if said else "")
    finally:
        # the pattern is anchored: it matches the server, never the shell that runs pkill
        server.host.transport.run(
            sh("pkill", "-f", f"^iperf3 -s -1 -p {port}$") + "; " + sh("rm", "-f", log), timeout=15, warn=True
        )


def _iperf_error(r) -> str:
    """iperf3 -J puts its error in the JSON it prints; otherwise the last words of its output."""
    try:
        return "iperf3: " + json.loads(r.stdout)["error"]
    except (ValueError, KeyError, TypeError):
        return (r.stderr or r.stdout).strip()[-200:]


def throughput_summary(got: List[float], error: str, client: Place, server: Place) -> Dict[str, object]:
    if not got:
        return {"error": error or "no iperf3 result"}
    return {
        "runs_gbps": [round(g, 3) for g in got],
        "median_gbps": round(statistics.median(got), 3),
        "command": f"server: {server.command(f'iperf3 -s -1 -p {IPERF_PORT}')}; "
        f"client: {client.command(f'iperf3 -c {server.ip} -p {IPERF_PORT} -t {IPERF_SECONDS}')}",
    }


_HTTP = """
import json, sys, time, urllib.request
url, lat, end = sys.argv[1], [], time.monotonic() + {seconds}
for i in range({count}):
    t = time.perf_counter()
    with urllib.request.urlopen(url, timeout=5) as r:
        r.read()
    lat.append(time.perf_counter() - t)
    if time.monotonic() > end:
        break
print(json.dumps(lat))
""".format(seconds=HTTP_SECONDS, count=HTTP_COUNT)


def http_latency(host: Host, url: str) -> Dict[str, object]:
    """HTTP requests through web from the node (each one makes web ask db): p50/p99 in ms."""
    r = host.transport.run(f"python3 -c {shlex.quote(_HTTP)} {shlex.quote(url)}", timeout=HTTP_SECONDS + 20, warn=True)
    if not r.ok:
        return {"error": (r.stderr or r.stdout).strip()[-200:]}
    lat = json.loads(r.stdout.strip().splitlines()[-1])
    return {
        "n": len(lat),
        "p50_ms": round(percentile(lat, 50) * 1e3, 2),
        "p99_ms": round(percentile(lat, 99) * 1e3, 2),
        "command": host.transport.repeat(
            f"for i in $(seq {HTTP_COUNT}); do curl -s -o /dev/null -w '%{{time_total}}\\n' {shlex.quote(url)}; done"
        ),
    }


def connects(place: Place, ip: str, port: int) -> bool:
    return place.run(sh("nc", "-z", "-w", 2, ip, port), timeout=15).ok


def link_of(place: Place) -> Dict[str, str]:
    """The place's interface towards `place.ip`'s network: name, kind, MTU, and its peer's index."""
    r = place.run("ip -d -o link show", timeout=15)
    addr = place.run("ip -o -4 addr show", timeout=15).stdout
    dev = next((line.split()[1] for line in addr.splitlines() if f" {place.ip}/" in line), "eth0")
    for line in r.stdout.splitlines():
        name = line.split(":")[1].strip() if ":" in line else ""
        if name.split("@")[0] == dev:
            mtu = line.split(" mtu ")[1].split()[0] if " mtu " in line else "?"
            kind = "veth" if "veth" in line else "?"
            peer = name.split("@if")[1] if "@if" in name else ""
            return {"dev": dev, "kind": kind, "mtu": mtu, "peer_index": peer}
    return {"dev": dev, "kind": "?", "mtu": "?", "peer_index": ""}


def peer_side(host: Host, peer_index: str) -> str:
    """Where the other end of a veth is on its node: its bridge (docker0, br-...) in the
    node's namespace, or an overlay's namespace holding br0 and a vxlan device."""
    if not peer_index.isdigit():  # read from `ip link` of a task: an interface index, nothing else
        return ""
    links = enter.in_netns_file("$ns", "ip -o link show")
    vxlans = enter.in_netns_file("$ns", "ip -d -o link show type vxlan")
    script = (
        f"l=$(ip -o link show | grep '^{peer_index}: '); "
        f'if [ -n "$l" ]; then echo "root $l"; exit 0; fi; '
        f"for ns in /var/run/docker/netns/*; do "
        f"l=$({links} 2>/dev/null | grep '^{peer_index}: '); "
        f'[ -n "$l" ] && {{ echo "overlay $l"; {vxlans}; exit 0; }}; '
        f"done; true"
    )
    return host.transport.run(script, timeout=20, warn=True).stdout


def describe_path(host: Host, link: Dict[str, str], kind: str) -> Dict[str, object]:
    """The interfaces a packet crosses, as the node shows them."""
    side = peer_side(host, link["peer_index"])
    hops = [f"{link['dev']} ({link['kind']}, MTU {link['mtu']})"]
    vni = ""
    bridge = ""
    for line in side.splitlines():
        if " master " in line:
            bridge = line.split(" master ")[1].split()[0]
        if " vxlan id " in line:
            vni = line.split(" vxlan id ")[1].split()[0]
    if kind == "raw":
        hops += ["veth peer in the other namespace"]
    elif vni:
        hops += [
            f"veth -> {bridge or 'br0'} (bridge in the overlay's namespace)",
            f"vxlan (VNI {vni}, UDP 4789)",
            f"{host.name}'s underlay ({host.data_addr})",
            "other node: underlay -> vxlan -> br0 -> veth",
        ]
    elif bridge:
        hops += [f"veth -> {bridge} (bridge on {host.name})", "veth of the other container"]
    return {"hops": hops, "mtu": link["mtu"], "vni": vni, "bridge": bridge}


def capture_during(host: Host, fn, marker: str):
    """Capture on the node's underlay (the interface holding its data-path address: eth0 on
    a dind node, the private network's on a VM) while fn() runs: what left the node.
    Returns (fn's result, WireSummary or None, error)."""

    f = f"/tmp/swarmlab-cmp-{marker}.pcap"
    host.transport.run(
        "setsid "
        + sh("timeout", int(RTT_SECONDS) + 25, "tcpdump", "-i")
        + " "
        + underlay_dev(host)
        + " "
        + sh("-U", "-n", "-c", 2000, "-w", f, f"udp port {wire.VXLAN_PORT} or ip proto 50 or tcp port {RTT_PORT}")
        + " </dev/null >/dev/null 2>&1 & echo $! > "
        + sh(f + ".pid"),
        timeout=15,
    )
    time.sleep(1.0)
    try:
        result = fn()
    finally:
        time.sleep(0.5)
        r = host.transport.run(
            "kill $(cat " + sh(f + ".pid") + "); sleep 0.3; " + sh("base64", f) + "; " + sh("rm", "-f", f, f + ".pid"),
            timeout=20,
            warn=True,
        )
    try:
        with tempfile.NamedTemporaryFile(suffix=".pcap") as tmp:
            tmp.write(base64.b64decode(r.stdout))
            tmp.flush()
            return result, wire.summarise(tmp.name, marker.encode()), ""
    except Exception as exc:  # a capture that failed is reported, never guessed
        return result, None, f"capture failed: {exc}"

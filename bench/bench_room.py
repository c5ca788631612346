#!/usr/bin/env python3
"""Capacity of a room (not a test): N trainee labs of 3 dind nodes on this machine.
Per run: the time `room start` takes to make them all (to its links), the memory they hold
(MemAvailable before and after; what the node containers' cgroups count), the CPU of the
idle room (the whole machine's, over IDLE_FOR seconds once they settled), a Check's time
with all of them idle, and the terminal's keystroke round trip (a key sent on the
WebSocket until the shell's echo of it comes back). Then `room stop`.
With --engines N, the labs are spread over N stand-in servers of this machine reached over
SSH (tests/sshhosts.py: dind nodes running sshd and an engine of their own, so the labs'
nodes are nested): `room start --engines`, a Check and a keystroke go through each engine's
SSH tunnel. The servers are made once for all runs; the first run copies swarmlab's images
to them (make_s then includes the copy), the others find them there. Memory is not read
then (the nested nodes' cgroups are the servers').
Bounded: every wait has a deadline, KEYS keystrokes, CHECKS checks.
Usage: python3 bench/bench_room.py [--trainees 10] [--runs 3] [--lesson drained-node] [--engines 2]"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from wsproto.connection import Connection, ConnectionType
from wsproto.events import BytesMessage, TextMessage

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.wsclient import opening  # noqa: E402
ROOM = "benchroom"
SETTLE, IDLE_FOR, KEYS, CHECKS = 30, 30, 20, 3


def mem_available() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    raise SystemExit("no MemAvailable in /proc/meminfo")


def busy_jiffies():
    cpu = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = cpu[3] + cpu[4]
    return sum(cpu) - idle, sum(cpu)


def nodes_memory() -> int:
    out = subprocess.run(["docker", "ps", "-q", "--filter", "label=io.swarmlab.role=node"],
                         capture_output=True, text=True, check=True, timeout=60).stdout.split()
    total = 0
    for cid in out:
        name = subprocess.run(["docker", "inspect", "-f", "{{index .Config.Labels \"io.swarmlab.lab\"}} {{.Id}}", cid],
                              capture_output=True, text=True, check=True, timeout=60).stdout.split()
        if not name[0].startswith(f"{ROOM}-"):
            continue
        for f in (f"/sys/fs/cgroup/memory/docker/{name[1]}/memory.usage_in_bytes",  # cgroup v1 (this machine)
                  f"/sys/fs/cgroup/docker/{name[1]}/memory.current",
                  f"/sys/fs/cgroup/system.slice/docker-{name[1]}.scope/memory.current"):
            if os.path.exists(f):
                total += int(Path(f).read_text())
                break
    return total


def check_seconds(base: str, trainee: dict) -> float:
    token = trainee["link"].split("token=")[1]
    req = urllib.request.Request(f"{base}/t/{trainee['trainee']}/api/check", data=b"{}", method="POST",
                                 headers={"X-Swarmlab-Token": token, "Content-Type": "application/json"})
    t0 = time.monotonic()
    with urllib.request.urlopen(req, timeout=300) as r:
        json.loads(r.read())
    return time.monotonic() - t0


def keystrokes(base: str, trainee: dict) -> list:
    token = trainee["link"].split("token=")[1]
    sock, status = opening(base, f"/t/{trainee['trainee']}/ws/node-1", f"X-Swarmlab-Token: {token}")
    if status != 101:
        raise SystemExit(f"the terminal's socket was refused: {status}")
    ws = Connection(ConnectionType.CLIENT)

    def drain(until_seen: bytes, within: float) -> bool:
        seen, end = b"", time.monotonic() + within
        sock.settimeout(1)
        while until_seen not in seen and time.monotonic() < end:
            try:
                ws.receive_data(sock.recv(65536))
            except socket.timeout:
                continue
            seen += b"".join(e.data for e in ws.events() if isinstance(e, BytesMessage))
        return until_seen in seen

    drain(b"#", 20)  # the prompt
    rtts = []
    for i in range(KEYS):
        ch = "abcdefghijklmnopqrstuvwxyz"[i % 26]
        t0 = time.monotonic()
        sock.sendall(ws.send(TextMessage(data=json.dumps({"i": ch}))))
        if drain(ch.encode(), 10):
            rtts.append((time.monotonic() - t0) * 1000)
    sock.sendall(ws.send(TextMessage(data=json.dumps({"i": "\x15"}))))  # the line typed, erased
    sock.close()
    return rtts


def one_run(trainees: int, lesson: str, engines: list) -> dict:
    """engines: [] (this machine's engine) or ["--engines", FILE]."""
    stop = [sys.executable, "-m", "swarmlab", "room", "stop", "--name", ROOM, *engines]
    subprocess.run(stop, cwd=ROOT, capture_output=True, timeout=900)
    before = mem_available()
    t0 = time.monotonic()
    server = subprocess.Popen([sys.executable, "-m", "swarmlab", "room", "start", "--name", ROOM, "--trainees",
                               str(trainees), "--lesson", lesson, "--port", "0", "--json", *engines], cwd=ROOT,
                              text=True, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        text, line = "", ""
        while line.rstrip() != "}":  # the envelope, pretty-printed, ends; the server goes on
            line = server.stdout.readline()
            if not line:
                raise SystemExit(f"room start ended: {text}")
            text += line
        doc = json.loads(text)
        made = time.monotonic() - t0
        failed = [t["trainee"] for t in doc["data"]["trainees"] if t["error"]]
        base = doc["data"]["board"].split("/board/")[0]
        time.sleep(SETTLE)
        b0, t0_ = busy_jiffies()
        time.sleep(IDLE_FOR)
        b1, t1_ = busy_jiffies()
        cores = os.cpu_count() or 1
        idle_cpu = (b1 - b0) / (t1_ - t0_) * cores
        memory = before - mem_available()
        cgroups = nodes_memory() if not engines else 0
        checks = [check_seconds(base, doc["data"]["trainees"][i % trainees]) for i in range(CHECKS)]
        rtts = keystrokes(base, doc["data"]["trainees"][0])
    finally:
        server.terminate()
        server.wait(60)
        subprocess.run(stop, cwd=ROOT, capture_output=True, timeout=900)
    return {"make_s": round(made, 1), "failed": failed,
            "engines": sorted({t["engine"] for t in doc["data"]["trainees"]}), "memory_gib": round(memory / 2**30, 2),
            "nodes_cgroups_gib": round(cgroups / 2**30, 2), "idle_cores": round(idle_cpu, 2),
            "check_s": [round(c, 2) for c in checks], "keystroke_ms": [round(r, 1) for r in rtts]}


@contextlib.contextmanager
def stand_ins(count: int):
    """[] for this machine's engine, or ["--engines", FILE] of `count` servers made for the
    bench (and destroyed after it, whatever happened)."""
    if not count:
        yield []
        return
    import docker

    from swarmlab.providers.dind import DindProvider
    from tests.sshhosts import make_servers

    engine = docker.from_env()
    try:
        with tempfile.TemporaryDirectory() as d:
            names = {f"far-{i}": ("manager", "a") for i in range(1, count + 1)}
            servers = make_servers(engine, "benchengines", names, Path(d))
            yield ["--engines", str(servers["inventory"])]
    finally:
        DindProvider(engine).destroy("benchengines")


def spread(values):
    return f"{min(values):.2f} / {statistics.median(values):.2f} / {max(values):.2f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--trainees", type=int, default=10)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--lesson", default="drained-node")
    ap.add_argument("--engines", type=int, default=0, help="stand-in servers to spread the labs over (0: none)")
    args = ap.parse_args()
    with stand_ins(args.engines) as engines:
        runs = []
        for i in range(args.runs):
            runs.append(one_run(args.trainees, args.lesson, engines))
            print(f"run {i + 1}: {json.dumps(runs[-1])}", flush=True)
    out = ROOT / "bench" / "out"
    out.mkdir(exist_ok=True)
    name = f"room-engines-{args.engines}.json" if args.engines else "room.json"
    (out / name).write_text(json.dumps({"trainees": args.trainees, "lesson": args.lesson, "engines": args.engines,
                                        "runs": runs}, indent=2))
    print(f"{args.trainees} labs, min / median / max of {args.runs} runs")
    print(f"  make them all (s):        {spread([r['make_s'] for r in runs])}")
    print(f"  memory, MemAvailable (GiB): {spread([r['memory_gib'] for r in runs])}")
    print(f"  memory, node cgroups (GiB): {spread([r['nodes_cgroups_gib'] for r in runs])}")
    print(f"  idle CPU (cores of {os.cpu_count()}): {spread([r['idle_cores'] for r in runs])}")
    print(f"  a Check, all idle (s):    {spread([c for r in runs for c in r['check_s']])}")
    print(f"  keystroke round trip (ms): {spread([k for r in runs for k in r['keystroke_ms']])}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark (issues #14, #15; not a test): what a command on a dind node costs, entered
directly (nsenter, the default where the engine is this machine's) against `docker exec`
(SWARMLAB_NSENTER=0), and what that makes of the read-side commands of a default lab.

  per command   wall and CPU (the whole machine's, from /proc/stat, less the idle lab's
                own) of N runs of `true` and of `docker node ls` on node-1
  per CLI run   `status`, `verify`, `lesson check` (lesson flow started), medians of RUNS

Brings up its own lab (`bench-nodecmd`) and removes it; traffic stays on this machine;
every loop is bounded by N and RUNS.
Usage: python3 bench/bench_node_commands.py [--runs 3] [--n 30] [--out bench/out/node_commands.json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAB = "bench-nodecmd"
STATE = "/tmp/swarmlab-bench-nodecmd"


def busy() -> tuple:
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    return sum(v), v[3] + v[4]


def measured(fn, idle_cores: float) -> dict:
    """fn's wall seconds and the machine's CPU seconds over it, less the idle lab's share."""
    t1, i1 = busy()
    w = time.monotonic()
    fn()
    w = time.monotonic() - w
    t2, i2 = busy()
    cores = os.cpu_count() or 1
    cpu = cores * w * (1 - (i2 - i1) / max(1, t2 - t1)) - idle_cores * w
    return {"wall": round(w, 3), "cpu": round(max(0.0, cpu), 3)}


def cli(*args, nsenter: bool) -> None:
    env = dict(os.environ, SWARMLAB_STATE_DIR=STATE, SWARMLAB_NSENTER="1" if nsenter else "0")
    p = subprocess.run([sys.executable, "-m", "swarmlab", *args], env=env, capture_output=True, timeout=300)
    if p.returncode not in (0, 1):
        raise SystemExit(f"{args}: exit {p.returncode}: {p.stderr.decode()[-400:]}")


def per_command(n: int, idle: float) -> dict:
    from swarmlab.transport.docker_exec import DockerExecTransport

    out = {}
    for way, enter in (("nsenter", True), ("docker exec", False)):
        t = DockerExecTransport(f"swarmlab-{LAB}-node-1", "node-1", enter=enter)
        for cmd in ("true", "docker node ls"):
            m = measured(lambda: [t.run(cmd) for _ in range(n)], idle)
            out[f"{way}: {cmd}"] = {"wall_ms": round(1000 * m["wall"] / n, 1), "cpu_ms": round(1000 * m["cpu"] / n, 1)}
    return out


def per_cli(runs: int, idle: float) -> dict:
    out = {}
    for name, args in (("status", ("status", LAB)), ("verify", ("verify", LAB)), ("lesson check", ("lesson", "check", LAB))):
        for way, enter in (("nsenter", True), ("docker exec", False)):
            ms = [measured(lambda: cli(*args, nsenter=enter), idle) for _ in range(runs)]
            out[f"{way}: {name}"] = {"wall_s": statistics.median(m["wall"] for m in ms),
                                     "cpu_s": statistics.median(m["cpu"] for m in ms),
                                     "runs": [m["wall"] for m in ms]}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--n", type=int, default=30)
    ap.add_argument("--out", default=str(ROOT / "bench/out/node_commands.json"))
    a = ap.parse_args()
    try:
        cli("up", "--name", LAB, nsenter=True)
        cli("lesson", "start", "flow", LAB, nsenter=True)
        time.sleep(10)
        idle = measured(lambda: time.sleep(20), 0.0)["cpu"] / 20
        result = {"idle_lab_cores": round(idle, 3), "per_command": per_command(a.n, idle),
                  "per_cli": per_cli(a.runs, idle)}
    finally:
        cli("down", LAB, nsenter=True)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

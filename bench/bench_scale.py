#!/usr/bin/env python3
"""Benchmark of lab size (not a test; issue #14): for each node count, the default
scenario with --nodes N:

  up        to a verified stack (nodes, swarm, images into nodes, deploy, waits, flow check)
  verify    every check
  down      everything removed
  memory    after IDLE seconds idle: each node's memory by `docker stats` (median worker,
            median manager), and the host engine's own (dockerd + containerd RSS, the
            nodes' inner engines left out)
  cpu       the host engine's CPU seconds (dockerd + containerd) during `up`

Everything runs against this machine's engine only; one lab at a time, every loop bounded
by the list of sizes. Usage: python3 bench/bench_scale.py [--sizes 3,10,20,30,50]
[--out bench/out/scale.json]
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
LAB = "scale"
IDLE = 20


def cli(*args, timeout=1800):
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "swarmlab", *args, "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    secs = round(time.monotonic() - started, 1)
    doc = json.loads(proc.stdout) if proc.stdout.strip().startswith("{") else {}
    return secs, proc.returncode, doc, proc.stderr


def pids(name):
    """The host's own processes of that name: the nodes' inner engines have the same names
    and are visible from here, but live in other PID namespaces."""
    out = subprocess.run(["pgrep", "-x", name], capture_output=True, text=True).stdout.split()
    host_ns = os.readlink("/proc/self/ns/pid")
    return [int(p) for p in out if _ns(p) == host_ns]


def _ns(pid):
    try:
        return os.readlink(f"/proc/{pid}/ns/pid")
    except OSError:
        return None


def engine_rss_mib():
    total = 0
    for pid in pids("dockerd") + pids("containerd"):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return round(total / 1024, 1)


def engine_cpu_s():
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids("dockerd") + pids("containerd"):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / tick


def node_memory(lab, roles):
    """node -> MiB by docker stats, for the lab's nodes."""
    fmt = "{{.Name}} {{.MemUsage}}"
    out = subprocess.run(["docker", "stats", "--no-stream", "--format", fmt], capture_output=True,
                         text=True, timeout=300).stdout
    mem = {}
    prefix = f"swarmlab-{lab}-"
    for line in out.splitlines():
        name, usage = line.split(" ", 1)
        if name.startswith(prefix):
            value, unit = usage.split("/")[0].strip()[:-3], usage.split("/")[0].strip()[-3:]
            mem[name[len(prefix):]] = float(value) * (1024 if unit == "GiB" else 1 / 1024 if unit == "KiB" else 1)
    by_role = {r: [m for n, m in mem.items() if roles.get(n) == r] for r in ("manager", "worker")}
    return {r: round(statistics.median(v), 1) if v else None for r, v in by_role.items()}


def one(n):
    cpu0 = engine_cpu_s()
    up_s, rc, doc, err = cli("up", "--name", LAB, "--nodes", str(n))
    row = {"nodes": n, "up_s": up_s, "up_ok": rc == 0, "engine_cpu_up_s": round(engine_cpu_s() - cpu0, 1)}
    if rc != 0:
        row["error"] = (doc.get("errors") or [err[-600:]])[0][:600]
        cli("down", LAB)
        return row
    row["steps"] = doc["data"]["up"]["steps"]
    verify_s, vrc, vdoc, _ = cli("verify", LAB)
    row.update(verify_s=verify_s, verify_ok=vrc == 0,
               failed=[c["name"] for c in vdoc.get("data", {}).get("checks", []) if c["status"] == "failed"])
    time.sleep(IDLE)
    roles = {x["name"]: x["role"] for x in doc["data"]["nodes"]}
    row["mem_mib"] = node_memory(LAB, roles)
    row["engine_rss_mib"] = engine_rss_mib()
    row["down_s"], _, _, _ = cli("down", LAB)
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="3,10,20,30,50")
    ap.add_argument("--out", default=str(ROOT / "bench/out/scale.json"))
    args = ap.parse_args()
    rows = []
    for n in [int(x) for x in args.sizes.split(",")]:
        row = one(n)
        rows.append(row)
        print(json.dumps(row), flush=True)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"when": time.strftime("%Y-%m-%d %H:%M"), "rows": rows}, indent=1))
    print(f"{'nodes':>5} {'up s':>6} {'verify s':>8} {'down s':>6} {'worker MiB':>10} {'manager MiB':>11} "
          f"{'engine MiB':>10} {'engine cpu s':>12}")
    for r in rows:
        m = r.get("mem_mib") or {}
        print(f"{r['nodes']:>5} {r['up_s']:>6} {r.get('verify_s', '-'):>8} {r.get('down_s', '-'):>6} "
              f"{m.get('worker') or '-':>10} {m.get('manager') or '-':>11} {r.get('engine_rss_mib', '-'):>10} "
              f"{r['engine_cpu_up_s']:>12}")


if __name__ == "__main__":
    main()

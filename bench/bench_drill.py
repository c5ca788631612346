#!/usr/bin/env python3
"""Benchmark of `swarmlab drill` (not a test): how long Swarm takes to react to each fault
on the default 3-node dind lab, and how long the lab takes to be whole after the heal.

  drain node-2              node drained, its web task gone, the replacement waiting
  kill-node node-3          node-3 marked down (db and redis wait: only it is tier: data)
  cut-link node-2 node-3    Swarm's view while the link is down (it sees nothing)
  kill-node <leader>        on a lab of 3 managers: the election, then the leader down

Each drill runs RUNS times (bounded, --hold 2); the lab is made once per shape and removed.
Traffic goes only to the lab's own containers on this machine.
Usage: python3 bench/bench_drill.py [--runs 3] [--out bench/out/drill.json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def cli(*args):
    proc = subprocess.run([sys.executable, "-m", "swarmlab", *args, "--json"], cwd=ROOT, capture_output=True,
                          text=True, timeout=1200)
    if proc.returncode != 0:
        raise SystemExit(f"swarmlab {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout)["data"]


def measure(report):
    checks = {c["name"]: c for c in report["checks"]}
    reacted = next((c["duration"] for n, c in checks.items() if n.endswith("swarm reacted")), None)
    heal = next(e["t"] for e in report["timeline"] if e["phase"] == "heal")
    silent = [e["t"] for e in report["timeline"] if e["what"] == "managers" and e["now"] == "answering"]
    return {"reacted_s": reacted, "recovered_s": checks["recovered"]["duration"],
            "first_flow_change_s": next((e["t"] for e in report["timeline"]
                                         if e["phase"] == "break" and e["what"].startswith("flow via")), None),
            "managers_answer_again_s": silent[0] if silent else None,
            "flow_paths_lost_while_broken": sum(1 for e in report["timeline"] if e["phase"] == "break"
                                              and e["what"].startswith("flow via") and not e["now"].startswith("ok")),
            "heal_at_s": heal, "total_s": report["seconds"]}


def med(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 1) if values else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "drill.json"))
    a = ap.parse_args()
    results = {}
    lab = "bench-drill"
    cli("up", "--name", lab)
    try:
        for name, args in (("drain node-2", ["drain", "node-2"]), ("kill-node node-3", ["kill-node", "node-3"]),
                           ("cut-link node-2 node-3", ["cut-link", "node-2", "--peer", "node-3"])):
            runs = [measure(cli("drill", *args, lab, "--hold", "2")) for _ in range(a.runs)]
            results[name] = runs
            print(name, {k: med([r[k] for r in runs]) for k in runs[0]}, flush=True)
    finally:
        cli("down", lab)
    lab3 = "bench-drill3"
    cli("up", "--name", lab3, "--managers", "3", "--nodes", "3")
    try:
        runs = []
        for _ in range(a.runs):
            leader = next(n["name"] for n in cli("status", lab3)["nodes"] if n["manager"] == "leader")
            runs.append(measure(cli("drill", "kill-node", leader, lab3, "--hold", "2")))
        results["kill-node leader (3 managers)"] = runs
        print("kill-node leader", {k: med([r[k] for r in runs]) for k in runs[0]}, flush=True)
    finally:
        cli("down", lab3)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark of `swarmlab drill` (not a test): every shipped drill file of
scenarios/drills/, RUNS times each, on the default 3-node dind lab (or, for a drill that
needs three managers, a lab of three managers); the time each expectation took to hold
(Swarm reacting, the lab whole again, a rollback, a refusal) and the whole drill. A kill
of the leader of three managers runs too (the election).

The lab is made once per shape and removed. Traffic goes only to the lab's own containers
on this machine; every drill is bounded by its file's `within` bounds.
Usage: python3 bench/bench_drill.py [--runs 3] [--only DRILL] [--out bench/out/drill.json]
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
    """Seconds each expectation took to hold (the first check of each name), and in all."""
    out = {"total_s": report["seconds"]}
    for c in report["checks"]:
        if c["status"] == "passed" and c["duration"] and c["name"] not in out:
            out[c["name"] + " (s)"] = c["duration"]
    out["first_flow_change_s"] = next((e["t"] for e in report["timeline"]
                                       if e["phase"] == "break" and e["what"].startswith("flow via")), None)
    return out


def med(values):
    values = [v for v in values if v is not None]
    return round(statistics.median(values), 1) if values else None


def summary(runs):
    keys = sorted({k for r in runs for k in r})
    return {k: med([r.get(k) for r in runs]) for k in keys}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "drill.json"))
    ap.add_argument("--only", help="one drill id (a lab of its shape is made for it alone)")
    a = ap.parse_args()
    results = {}
    drills = [d for d in cli("drill", "list") if a.only in (None, d["id"])]
    for lab, up, chosen in (("bench-drill", [], [d for d in drills if not d["needs"].get("managers")]),
                            ("bench-drill3", ["--managers", "3", "--nodes", "3"],
                             [d for d in drills if d["needs"].get("managers")])):
        if not chosen:
            continue
        cli("up", "--name", lab, *up)
        try:
            for d in chosen:
                runs = [measure(cli("drill", "run", d["id"], lab, "--hold", "2")) for _ in range(a.runs)]
                results[d["id"]] = runs
                print(d["id"], summary(runs), flush=True)
            if up:
                runs = []
                for _ in range(a.runs):
                    leader = next(n["name"] for n in cli("status", lab)["nodes"] if n["manager"] == "leader")
                    runs.append(measure(cli("drill", "kill-node", leader, lab, "--hold", "2")))
                results["kill-node leader (3 managers)"] = runs
                print("kill-node leader", summary(runs), flush=True)
        finally:
            cli("down", lab)
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()

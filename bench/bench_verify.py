#!/usr/bin/env python3
"""Benchmark of `swarmlab verify` on the default 3-node lab (not a test): brings the lab
up if needed, runs verify RUNS times (the first may load nothing: probes need no image
transfer), and reports the median wall time and each check's median duration.
Usage: python3 bench/bench_verify.py [--runs 3] [--keep]"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAB = "bench-verify"


def cli(*args):
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "swarmlab", *args, "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    return time.monotonic() - started, proc.returncode, json.loads(proc.stdout)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="leave the lab up afterwards")
    args = ap.parse_args()
    _, rc, doc = cli("up", "--name", LAB)
    if rc != 0:
        raise SystemExit(f"up failed: {doc['errors']}")
    walls, per_check, failures = [], {}, []
    for _ in range(args.runs):
        secs, rc, doc = cli("verify", LAB)
        walls.append(secs)
        if rc != 0:
            failures.append([c for c in doc["data"]["checks"] if c["status"] == "failed"])
        for c in doc["data"]["checks"]:
            group = c["name"].split(" ")[0].rstrip(":")
            per_check.setdefault(group, []).append(c["duration"])
    if not args.keep:
        cli("down", LAB)
    report = {"runs": args.runs, "verify_wall_s": [round(w, 1) for w in walls],
              "median_s": round(statistics.median(walls), 1),
              "check_median_s": {k: round(statistics.median(v), 1) for k, v in sorted(per_check.items())},
              "failed_runs": failures}
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

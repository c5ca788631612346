#!/usr/bin/env python3
"""What the node's hardening costs (issue #30; not a test): a warm `up` of the default lab,
its `verify`, and `down`, RUNS times, from the checkout given (run it once on a checkout
without the hardening and once with it, and compare). Wall clock of the CLI, Python
start-up included; min / median / max. Everything runs against this machine's engine only,
and every loop is bounded by RUNS.

Usage: python3 bench/bench_hardening.py [--runs 3] [--repo PATH] [--name bench-hard]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed(repo: Path, *args: str) -> float:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "swarmlab", *args, "--json"], cwd=repo, capture_output=True,
                          text=True, timeout=900)
    took = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return took


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--repo", default=str(ROOT))
    ap.add_argument("--name", default="bench-hard")
    a = ap.parse_args()
    repo = Path(a.repo)
    got = {"up": [], "verify": [], "down": []}
    for _ in range(max(1, min(a.runs, 20))):
        got["up"].append(timed(repo, "up", "--name", a.name))
        got["verify"].append(timed(repo, "verify", a.name))
        got["down"].append(timed(repo, "down", a.name))
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True, text=True)
    print(json.dumps({"repo": str(repo), "commit": commit.stdout.strip(), "date": time.strftime("%Y-%m-%d"),
                      **{k: {"min": round(min(v), 1), "median": round(statistics.median(v), 1),
                             "max": round(max(v), 1), "runs": [round(x, 1) for x in v]} for k, v in got.items()}},
                     indent=1))


if __name__ == "__main__":
    main()

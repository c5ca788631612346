#!/usr/bin/env python3
"""Benchmark of the lessons (issue #15; not a test): for each lesson named, medians over
RUNS runs of the CLI's wall time for

  start         on a lab already up (the previous lesson's start left in place)
  check         every step graded (the lesson's start: steps fail)
  solution      `solution --apply`, until every step holds
  reset         back to the start after the solution (services rolled back)
  reset again   back to the start when nothing changed since

Everything runs against this machine's engine only; every loop is bounded by RUNS.
Usage: python3 bench/bench_lessons.py [--runs 3] [--lessons detached-service,drained-node]
       [--out bench/out/lessons.json]
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
LAB = "bench-lesson"


def cli(*args):
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "swarmlab", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=900)
    return time.monotonic() - started, proc


def one(lesson: str) -> dict:
    out = {}
    for name, args, want in (("start", ["lesson", "start", lesson, LAB], 0), ("check", ["lesson", "check", LAB], 1),
                             ("solution", ["lesson", "solution", LAB, "--apply"], 0),
                             ("reset", ["lesson", "reset", LAB], 0), ("reset again", ["lesson", "reset", LAB], 0)):
        secs, proc = cli(*args)
        if proc.returncode != want:
            raise SystemExit(f"swarmlab {' '.join(args)} exited {proc.returncode}:\n{proc.stdout[-1500:]}{proc.stderr[-1500:]}")
        out[name] = round(secs, 1)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--lessons", default="detached-service,drained-node,vxlan-blocked,user-network")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "lessons.json"))
    a = ap.parse_args()
    lessons = a.lessons.split(",")
    secs, proc = cli("up", "--name", LAB)
    if proc.returncode:
        raise SystemExit(proc.stderr[-2000:])
    print(f"lab up in {secs:.1f}s", file=sys.stderr)
    runs = {x: [] for x in lessons}
    try:
        for _ in range(max(1, min(a.runs, 10))):
            for x in lessons:
                runs[x].append(one(x))
                print(x, runs[x][-1], file=sys.stderr)
    finally:
        cli("down", LAB)
    medians = {x: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for x, rs in runs.items()}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps({"runs": runs, "medians": medians}, indent=2))
    print(json.dumps(medians, indent=2))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark of a lab that comes back (issue #17; not a test): medians over RUNS runs of

  up warm      images and seeds there, no lab: to a verified stack (`up` runs the flow check);
               each step's seconds from `up`'s own report
  back         the host engine restarted under the running lab (SIGTERM to dockerd, started
               again): seconds from the engine answering again until `status` says the lab
               is whole, and until `verify` passes
  resume       every node stopped (`docker stop`, as a machine shut down), then `swarmlab up`:
               the resume, to a verified stack

Restarting the engine needs the dockerd scripts/setup.sh started (no systemd). Everything
runs against this machine's engine only; every loop is bounded by RUNS and a deadline.
Usage: python3 bench/bench_restart.py [--runs 3] [--skip-warm] [--skip-restart] [--out bench/out/restart.json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import docker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from engine_restart import restart_engine, why_not_restartable  # noqa: E402
from swarmlab import labels as L  # noqa: E402

LAB = "bench-back"


def cli(*args, check=True):
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "swarmlab", *args, "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=900)
    secs = time.monotonic() - started
    if check and proc.returncode != 0:
        raise SystemExit(f"swarmlab {' '.join(args)} failed:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    try:
        return secs, json.loads(proc.stdout), proc
    except ValueError:
        return secs, {}, proc


def wait_whole(deadline_s=300):
    """Seconds until `status` says the lab is whole (polled), and the last report."""
    started = time.monotonic()
    doc = {}
    while time.monotonic() - started < deadline_s:
        _, doc, proc = cli("status", LAB, check=False)
        if proc.returncode == 0 and doc.get("data", {}).get("whole"):
            return time.monotonic() - started, doc["data"]
        time.sleep(0.5)
    raise SystemExit(f"lab not whole after {deadline_s}s: {doc.get('data', {}).get('lacking')}")


def verify_until_passed(deadline_s=120):
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        _, doc, proc = cli("verify", LAB, check=False)
        if proc.returncode == 0:
            return time.monotonic() - started
    raise SystemExit(f"verify did not pass within {deadline_s}s")


def median(xs):
    return round(statistics.median(xs), 2) if xs else None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-restart", action="store_true")
    ap.add_argument("--skip-warm", action="store_true")
    ap.add_argument("--out", default="bench/out/restart.json")
    a = ap.parse_args()
    client = docker.from_env()
    res = {"up_warm": [], "up_steps": [], "back_engine": [], "back_whole": [], "back_verified": [],
           "resume_up": []}
    cli("down", LAB)
    cli("up", "--name", LAB)       # seeds and images made: the runs below are warm
    for _ in range(0 if a.skip_warm else a.runs):
        cli("down", LAB)
        secs, doc, _ = cli("up", "--name", LAB)
        res["up_warm"].append(round(secs, 2))
        res["up_steps"].append(doc["data"]["up"]["steps"])
        print(f"up warm {secs:.1f}s: {doc['data']['up']['steps']}", flush=True)
    why = None if not a.skip_restart else "--skip-restart"
    why = why or why_not_restartable()
    for _ in range(a.runs if why is None else 0):
        res["back_engine"].append(round(restart_engine(), 2))
        whole, _ = wait_whole()
        res["back_whole"].append(round(whole, 2))
        res["back_verified"].append(round(whole + verify_until_passed(), 2))
        print(f"back: engine {res['back_engine'][-1]}s, whole +{whole:.1f}s, verified +{res['back_verified'][-1]}s",
              flush=True)
    for _ in range(a.runs):
        for c in client.containers.list(filters=L.lab_filter(LAB, L.ROLE_NODE)):
            c.stop()
        secs, doc, _ = cli("up", "--name", LAB)
        res["resume_up"].append(round(secs, 2))
        print(f"resume up {secs:.1f}s: {doc['data']['up']['steps']}", flush=True)
    cli("down", LAB)
    summary = {k: median(v) for k, v in res.items() if v and isinstance(v[0], (int, float))}
    out = {"runs": res, "medians": summary, "restart_skipped": why}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=2))
    print(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""The headline figures (bench/RESULTS.md), measured again (not a test; issue #34): RUNS runs of each,
quoted as min / median / max with the date and the commit.

  up warm       images and seeds there, no lab: `up` of the default lab to a verified stack
  verify        every check on the default lab
  compare       the default lab's compare (its iperf3 and RTT runs included)
  back, whole   from the engine restart command (SIGTERM to dockerd) until `status` says whole
  back, verified  the same, until `verify` passes
  up 50 nodes   `up --nodes 50` to a verified stack (then down)

Everything runs against this machine's engine only, one lab at a time; every loop is bounded
by RUNS and a deadline. Restarting the engine needs the dockerd scripts/setup.sh started.
Usage: python3 bench/headline.py [--runs 5] [--skip compare,scale,restart] [--out bench/out/headline.json]
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
sys.path.insert(0, str(ROOT / "tests" / "integration"))

from engine_restart import restart_engine, why_not_restartable  # noqa: E402

LAB = "bench-headline"
ROWS = {"up_warm": "warm `up` of the default lab, to a verified stack",
        "verify": "`verify` on the default lab",
        "compare": "`compare` on the default lab",
        "back_whole": "back after an engine restart, from the restart command: whole",
        "back_verified": "the same, until `verify` passes",
        "up_50": "`up --nodes 50`, to a verified stack"}


def cli(*args, check=True, timeout=1800):
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "swarmlab", *args, "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise SystemExit(f"swarmlab {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return time.monotonic() - started, proc


def until(what, deadline_s, *args):
    """Seconds until `swarmlab ARGS` exits 0 (polled, at most deadline_s)."""
    started = time.monotonic()
    while time.monotonic() - started < deadline_s:
        _, proc = cli(*args, check=False)
        ok = proc.returncode == 0 and (args[0] != "status" or json.loads(proc.stdout)["data"].get("whole"))
        if ok:
            return time.monotonic() - started
        time.sleep(0.5)
    raise SystemExit(f"{what} not within {deadline_s}s")


def measure(runs: int, skip: set) -> dict:
    res = {k: [] for k in ROWS}
    cli("down", LAB)
    cli("up", "--name", LAB)          # images and seeds made: what follows is warm
    for _ in range(runs):
        cli("down", LAB)
        res["up_warm"].append(cli("up", "--name", LAB)[0])
        res["verify"].append(cli("verify", LAB)[0])
        if "compare" not in skip:
            res["compare"].append(cli("compare", LAB)[0])
        print({k: round(v[-1], 1) for k, v in res.items() if v}, flush=True)
    why = "--skip restart" if "restart" in skip else why_not_restartable()
    for _ in range(runs if why is None else 0):
        engine = restart_engine()
        whole = engine + until("whole", 300, "status", LAB)
        res["back_whole"].append(whole)
        res["back_verified"].append(whole + until("verify", 120, "verify", LAB))
        print(f"back: whole {whole:.1f}s, verified {res['back_verified'][-1]:.1f}s", flush=True)
    cli("down", LAB)
    for _ in range(0 if "scale" in skip else runs):
        res["up_50"].append(cli("up", "--name", LAB, "--nodes", "50")[0])
        cli("down", LAB)
        print(f"up 50: {res['up_50'][-1]:.1f}s", flush=True)
    return {"runs": {k: [round(x, 2) for x in v] for k, v in res.items()}, "restart_skipped": why}


def table(out: dict) -> str:
    rows = [f"| {ROWS[k]} | {min(v):.1f} / {statistics.median(v):.1f} / {max(v):.1f} s | {len(v)} |"
            for k, v in out["runs"].items() if v]
    return "\n".join([f"{out['date']}, commit {out['commit']}, this machine "
                      f"({out['cores']} cores); min / median / max of each:", "",
                      "| figure | min / median / max | runs |", "|---|---|---|", *rows])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--skip", default="", help="comma-separated: compare, restart, scale")
    ap.add_argument("--out", default="bench/out/headline.json")
    a = ap.parse_args()
    import os

    out = measure(max(1, min(a.runs, 20)), set(filter(None, a.skip.split(","))))
    out.update(date=time.strftime("%Y-%m-%d"), cores=os.cpu_count(),
               commit=subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                     text=True).stdout.strip())
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=2))
    Path(a.out).with_suffix(".md").write_text(table(out) + "\n")
    print(table(out))


if __name__ == "__main__":
    main()

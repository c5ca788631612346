#!/usr/bin/env python3
"""Benchmark of the pages (issue #16; not a test) on the default 3-node lab: `report` wall
time, live and from what was kept; `swarmlab ui` in headless Chromium — how long after a
`docker node update --availability drain` the page no longer shows web's task on the
node, and after `active` again how long until it shows it back (Swarm's own start of the
task included). Bounded: RUNS drains of at most 60 s each.
Usage: python3 bench/bench_pages.py [--runs 5] [--keep]"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.browser import chromium  # noqa: E402

LAB = "bench-pages"


def cli(*args):
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "swarmlab", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=900)
    if proc.returncode != 0:
        raise SystemExit(f"{args[0]} failed: {proc.stderr[-800:]}")
    return time.monotonic() - started


def until(what, seconds, step=0.05):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if what():
            return time.monotonic()
        time.sleep(step)
    raise SystemExit("the page did not change within the bound")


def node(availability):
    subprocess.run(["docker", "exec", f"swarmlab-{LAB}-node-1", "docker", "node", "update", "--availability",
                    availability, "node-2"], check=True, capture_output=True, timeout=60)


def pages(runs):
    ui = subprocess.Popen([sys.executable, "-m", "swarmlab", "ui", LAB, "--port", "0"], cwd=ROOT, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    gone, back = [], []
    try:
        url = ui.stdout.readline().split(" live at ")[1].strip()
        with chromium() as browser:
            browser.get(url)
            web = lambda: browser.find_elements(   # noqa: E731
                "css selector", '#hosts [data-node="node-2"] .task[data-service="app_web"]')
            until(web, 30)
            for _ in range(runs):
                t0 = time.monotonic()
                node("drain")
                gone.append(until(lambda: not web(), 60) - t0)
                t0 = time.monotonic()
                node("active")
                back.append(until(web, 60) - t0)
    finally:
        node("active")
        ui.terminate()
        ui.wait(10)
    return gone, back


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="leave the lab up afterwards")
    args = ap.parse_args()
    cli("up", "--name", LAB)
    cli("verify", LAB)
    live = [cli("report", LAB, "-o", str(ROOT / "bench" / "out" / "report")) for _ in range(3)]
    kept = [cli("report", LAB, "--kept", "-o", str(ROOT / "bench" / "out" / "report")) for _ in range(3)]
    gone, back = pages(args.runs)
    out = {"report_live_s": live, "report_kept_s": kept, "drain_seen_s": gone, "active_seen_s": back}
    for k, v in out.items():
        print(f"{k}: median {statistics.median(v):.2f} (runs {', '.join(f'{x:.2f}' for x in v)})")
    (ROOT / "bench" / "out" / "pages.json").write_text(json.dumps(out, indent=1))
    if not args.keep:
        cli("down", LAB)


if __name__ == "__main__":
    main()

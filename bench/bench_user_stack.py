#!/usr/bin/env python3
"""Benchmark (issue #14; not a test): is a 3-node lab of a user's own stack as quick to
come up as the default lab? Medians over RUNS runs, CLI wall time, each lab brought up
from nothing (images and seeds there) and taken down again:

  default    `swarmlab up` (scenarios/default.yaml: web, db, redis)
  --stack    `swarmlab up --stack FILE`: the same three services written as a user would
             for `docker stack deploy` (short image names of their own, present on the
             engine; the networks declared in the file; no scenario)

Everything runs against this machine's engine only; every loop is bounded by RUNS.
Usage: python3 bench/bench_user_stack.py [--runs 3] [--out bench/out/user_stack.json]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docker
import yaml

ROOT = Path(__file__).resolve().parents[1]
# the user's names for the images (ours, tagged: as if they had pulled or built them)
USER_IMAGES = {"swarmlab.local/web:bookworm": "acme/web:1", "swarmlab.local/db:bookworm": "acme/db:15",
               "swarmlab.local/redis:bookworm": "acme/cache:7"}


def user_stack(d: Path) -> Path:
    stack = yaml.safe_load((ROOT / "scenarios" / "stacks" / "web-db-redis.yml").read_text())
    for svc in stack["services"].values():
        svc["image"] = USER_IMAGES[svc["image"]]
    stack["networks"] = {"frontend": {}, "backend": {"driver": "overlay", "driver_opts": {"encrypted": ""}}}
    stack["secrets"] = {"db_password": {"file": "./db_password.txt"}}
    (d / "db_password.txt").write_text("bench-only-password\n")
    path = d / "shop.yml"
    path.write_text(yaml.safe_dump(stack, sort_keys=False))
    return path


def timed(*args) -> float:
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "swarmlab", *args, "--json"], cwd=ROOT, capture_output=True,
                          text=True, timeout=900)
    if proc.returncode != 0:
        raise SystemExit(f"swarmlab {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-2000:]}")
    return time.monotonic() - started


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "user_stack.json"))
    a = ap.parse_args()
    engine = docker.from_env()
    for ours, theirs in USER_IMAGES.items():
        engine.images.get(ours).tag(theirs)
    got = {"default": [], "--stack": []}
    try:
        with tempfile.TemporaryDirectory() as d:
            stack = user_stack(Path(d))
            for _ in range(max(1, min(a.runs, 10))):
                got["default"].append(timed("up", "--name", "bench-default"))
                timed("down", "bench-default")
                got["--stack"].append(timed("up", "--stack", str(stack), "--name", "bench-user"))
                timed("down", "bench-user")
    finally:
        for theirs in USER_IMAGES.values():
            engine.images.remove(theirs, noprune=True)
    out = {k: {"median_s": round(statistics.median(v), 1), "runs_s": [round(x, 1) for x in v]} for k, v in got.items()}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=1))
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Benchmark of the SSH inventory provider (not a test), on three dind nodes running sshd
(tests/sshhosts.py) that stand in for servers:

  preflight   SSH, sudo, Docker, tools, addresses, swarm state, clock skew, IPVS/ESP and
              the port check between every pair of hosts
  up fresh    hosts without images or swarm: preflight + images over SSH + swarm + deploy
  up again    converging the running lab (nothing to load)
  verify      every check of `swarmlab verify`, through SSH
  down        stack, networks, secrets, volumes, loaded images removed; the swarm left
  stream      a 200 MiB stream into `wc -c` on a host: paramiko (our transport) against
              OpenSSH's ssh, the same key, pinned the same way

Every loop is bounded by RUNS; traffic goes only to this machine's own containers.
Usage: python3 bench/bench_ssh.py [--runs 3] [--out bench/out/ssh.json]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from swarmlab.config.inventory import load_inventory  # noqa: E402
from swarmlab.providers.dind import DindProvider  # noqa: E402
from swarmlab.providers.ssh import SSHProvider  # noqa: E402
from tests.sshhosts import make_servers  # noqa: E402

HOSTS, LAB = "bench-sshhosts", "bench-ssh"
NAMES = {"alpha": ("manager", "app"), "beta": ("worker", "app"), "gamma": ("worker", "data")}


def cli(*args):
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "swarmlab", *args, "--json"], cwd=ROOT, capture_output=True,
                          text=True, timeout=900)
    if proc.returncode != 0:
        raise SystemExit(f"swarmlab {' '.join(args)} failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout)["data"], time.monotonic() - t0


def stream(servers, mib=200):
    blob = servers["dir"] / "blob"
    blob.write_bytes(os.urandom(1 << 20) * mib)
    h = servers["hosts"]["beta"]
    t = SSHProvider(load_inventory(servers["inventory"])).transports["beta"]
    t.run("true")
    kh = servers["dir"] / "kh"
    kh.write_text(f"{h['ip']} {h['host_key']}\n")
    out = {"paramiko": [], "openssh": []}
    for _ in range(3):
        with open(blob, "rb") as f:
            t0 = time.monotonic()
            assert t.run("wc -c", stdin=f, timeout=120).stdout.strip() == str(mib << 20)
            out["paramiko"].append(round(mib / (time.monotonic() - t0), 1))
        with open(blob, "rb") as f:
            t0 = time.monotonic()
            subprocess.run(["ssh", "-i", str(servers["dir"] / "id"), "-o", f"UserKnownHostsFile={kh}",
                            "-o", "StrictHostKeyChecking=yes", "-o", "BatchMode=yes", f"root@{h['ip']}", "wc -c"],
                           stdin=f, check=True, capture_output=True)
            out["openssh"].append(round(mib / (time.monotonic() - t0), 1))
    blob.unlink()
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "ssh.json"))
    a = ap.parse_args()
    engine = docker.from_env(timeout=300)
    res = {"up_fresh": [], "up_again": [], "verify": [], "down": [], "preflight": [], "steps": []}
    with tempfile.TemporaryDirectory() as d:
        servers = make_servers(engine, HOSTS, NAMES, Path(d))
        inv = str(servers["inventory"])
        try:
            for _ in range(max(1, min(a.runs, 5))):
                t0 = time.monotonic()
                p = SSHProvider(load_inventory(inv))
                p.preflight()
                res["preflight"].append(round(time.monotonic() - t0, 2))
                p.close()
                rep, secs = cli("up", "--inventory", inv, "--name", LAB)
                res["up_fresh"].append(round(secs, 1))
                res["steps"].append(rep["up"]["steps"])
                res["up_again"].append(round(cli("up", "--inventory", inv, "--name", LAB)[1], 1))
                rep, secs = cli("verify", "--inventory", inv, LAB)
                res["verify"].append(round(secs, 1))
                res["down"].append(round(cli("down", "--inventory", inv, LAB)[1], 1))
            res["stream_mib_s"] = stream(servers)
        finally:
            subprocess.run([sys.executable, "-m", "swarmlab", "down", "--inventory", inv, LAB], cwd=ROOT,
                           capture_output=True)
            DindProvider(engine).destroy(HOSTS)
    res["median"] = {k: statistics.median(v) for k, v in res.items() if isinstance(v, list) and v
                     and isinstance(v[0], (int, float))}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(res, indent=2))
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()

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

  registry    images through a registry named in the inventory (pushed once, pulled by
              each host) against over SSH, on two hosts: `up` from fresh hosts, each way
  api-vs-cli  one Docker call over the same paramiko connection, two ways: the docker CLI
              run per command (what the provider does) against the Engine API spoken over
              one `docker system dial-stdio` channel (what docker-py's ssh:// does)

Every loop is bounded by RUNS (and CALLS); traffic goes only to this machine's own containers.
Usage: python3 bench/bench_ssh.py [--runs 3] [--only api-vs-cli|registry] [--out bench/out/ssh.json]
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
from tests.sshhosts import make_servers, servers_for  # noqa: E402

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


class _ChannelSock:
    """What http.client needs of a socket, over a paramiko channel."""

    def __init__(self, chan):
        self.chan = chan

    def makefile(self, mode, *args, **kwargs):
        return self.chan.makefile(mode)


def api_vs_cli(servers, calls=30):
    """Seconds per call: `docker version` through the CLI, a command each, against
    GET /version over one dial-stdio channel (HTTP keep-alive), on the same connection."""
    import http.client

    t = SSHProvider(load_inventory(servers["inventory"])).transports["beta"]
    t.run("true")   # connected
    cli_s = []
    for _ in range(calls):
        t0 = time.monotonic()
        assert t.run("docker version --format '{{json .Server}}'").ok
        cli_s.append(time.monotonic() - t0)
    t0 = time.monotonic()
    chan = t._client().get_transport().open_session()
    chan.exec_command("docker system dial-stdio")
    api_s, first = [], None
    for _ in range(calls):
        t1 = time.monotonic()
        chan.sendall(b"GET /version HTTP/1.1\r\nHost: docker\r\n\r\n")
        resp = http.client.HTTPResponse(_ChannelSock(chan))
        resp.begin()
        assert resp.status == 200 and b"ApiVersion" in resp.read()
        api_s.append(time.monotonic() - t1)
        first = first if first is not None else time.monotonic() - t0
    chan.close()
    ms = lambda v: round(statistics.median(v) * 1000, 1)  # noqa: E731
    return {"calls": calls, "cli_ms_median": ms(cli_s), "cli_ms_max": round(max(cli_s) * 1000, 1),
            "api_ms_median": ms(api_s), "api_ms_max": round(max(api_s) * 1000, 1),
            "api_first_call_with_channel_ms": round(first * 1000, 1)}


def registry_vs_ssh(engine, runs):
    """`up` of the two-host lab on fresh hosts, images through the registry, then over SSH."""
    import yaml

    names = {"alpha": ("manager", "app"), "gamma": ("worker", "data")}
    scenario = str(ROOT / "tests" / "data" / "registry" / "lab.yaml")
    out = {"registry": [], "ssh": [], "registry_images_s": [], "ssh_images_s": []}
    with tempfile.TemporaryDirectory() as d, servers_for(engine, HOSTS, LAB, names, Path(d), registry=True) as servers:
        with_reg = servers["inventory"]
        without = Path(d) / "no-registry.yaml"
        without.write_text(yaml.safe_dump({k: v for k, v in servers["doc"].items() if k != "registry"}))
        for _ in range(max(1, min(runs, 5))):
            for way, inv in (("registry", with_reg), ("ssh", without)):
                rep, secs = cli("up", scenario, "--inventory", str(inv), "--name", LAB)
                out[way].append(round(secs, 1))
                out[f"{way}_images_s"].append(rep["up"]["steps"].get("images into nodes"))
                cli("down", "--inventory", str(inv), LAB)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "ssh.json"))
    ap.add_argument("--only", choices=["api-vs-cli", "registry"], help="run only this part")
    a = ap.parse_args()
    engine = docker.from_env(timeout=300)
    if a.only == "registry":
        print(json.dumps(registry_vs_ssh(engine, a.runs), indent=2))
        return
    if a.only == "api-vs-cli":
        with tempfile.TemporaryDirectory() as d:
            try:
                res = api_vs_cli(make_servers(engine, HOSTS, NAMES, Path(d)))
            finally:
                DindProvider(engine).destroy(HOSTS)
        print(json.dumps(res, indent=2))
        return
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
            res["api_vs_cli"] = api_vs_cli(servers)
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

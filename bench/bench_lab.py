#!/usr/bin/env python3
"""Benchmark of the lab core (not a test): medians over RUNS runs of

  up cold    no swarmlab images on the engine: build + nodes + swarm + deploy + flow check
  up warm    images built, no lab: nodes + swarm + images into nodes + deploy + flow check
  up again   converging a running lab
  down       removing the lab
  images     first time: making each seed (one docker load per set of images, during
             a cold up); every new node after that: linking its seed (from its log);
             already present: the check that finds them (what a second up pays), per node
  memory     per idle node after IDLE seconds: the engine's anonymous memory (dockerd,
             containerd), its page cache, and the tasks' memory (their cgroup tree)

Everything runs against this machine's engine only; every loop is bounded by RUNS.
Usage: python3 bench/bench_lab.py [--runs 3] [--skip-cold] [--out bench/out/lab.json]
"""
from __future__ import annotations

import argparse
import json
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

import docker

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from swarmlab import naming  # noqa: E402
from swarmlab.config import load_scenario  # noqa: E402
from swarmlab.images import BASE_IMAGE, IMAGES, image_ref  # noqa: E402
from swarmlab.providers.dind import DindProvider  # noqa: E402
from swarmlab.config import stack as stackmod  # noqa: E402

LAB = "bench"
IDLE = 20


def cli(*args):
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "swarmlab", *args, "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=1200)
    secs = time.monotonic() - started
    if proc.returncode != 0:
        raise SystemExit(f"swarmlab {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return secs, json.loads(proc.stdout)["data"], proc.stderr


def seeds_made(stderr):
    """seed -> seconds, from up's progress ("seed NAME: IMAGES loaded once (12.9s)")."""
    return {m.group(2): float(m.group(3)) for m in re.finditer(r"seed (\S+): (.+?) loaded once \(([\d.]+)s\)", stderr)}


def seed_links(client, lab):
    """node -> milliseconds its entrypoint took to link its images from the seed."""
    out = {}
    for node in ("node-1", "node-2", "node-3"):
        logs = client.containers.get(naming.container_name(lab, node)).logs().decode(errors="replace")
        m = re.search(r"images linked from the seed in (\d+) ms", logs)
        out[node] = int(m.group(1)) if m else None
    return out


def median(xs):
    return round(statistics.median(xs), 2) if xs else None


def remove_images(client):
    for ref in [image_ref(n) for n in IMAGES] + [BASE_IMAGE]:
        try:
            client.images.remove(ref, force=True)
        except docker.errors.ImageNotFound:
            pass
    client.images.prune(filters={"dangling": True})


def node_memory(client, lab, node):
    cont = client.containers.get(naming.container_name(lab, node))
    stat = {}
    for line in Path(f"/sys/fs/cgroup/memory/docker/{cont.id}/memory.stat").read_text().splitlines():
        k, v = line.split()
        stat[k] = int(v)
    tasks = int(Path(f"/sys/fs/cgroup/memory{naming.cgroup_parent(lab, node)}/memory.usage_in_bytes").read_text())
    mb = lambda b: round(b / 2**20, 1)  # noqa: E731
    return {"engine_anon_mb": mb(stat["total_rss"]), "engine_page_cache_mb": mb(stat["total_cache"]),
            "docker_stats_mb": mb(stat["total_rss"] + stat["total_cache"] - stat["total_inactive_file"]),
            "tasks_mb": mb(tasks)}


def image_transfer(client, lab):
    """Per node: the time to find that a node already has its images (what a second up pays)."""
    spec = load_scenario(ROOT / "scenarios" / "default.yaml", name=lab)
    prov = DindProvider(client)
    out = {}
    for host in prov.hosts(lab):
        node = next(n for n in spec.nodes if n.name == host.name)
        refs = stackmod.images_for_node(spec.stack, host.name, host.role, dict(node.labels))
        ids = {client.images.get(r).id for r in refs}
        t = host.transport
        started = time.monotonic()
        have = t.run("docker image inspect --format '{{.Id}}' " + " ".join(refs) + " 2>/dev/null; true")
        present_s = time.monotonic() - started
        assert ids <= set(have.stdout.split()), f"{host.name} lacks its images"
        out[host.name] = {"images": refs, "already_present_check_s": round(present_s, 2)}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-cold", action="store_true")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "lab.json"))
    args = ap.parse_args()
    client = docker.from_env(timeout=600)
    cli("down", LAB)
    res = {"cold_up_s": [], "warm_up_s": [], "again_up_s": [], "down_s": [], "warm_steps": [],
           "images_into_nodes_s": [], "present_check": None, "memory": None}
    for i in range(args.runs):
        if not args.skip_cold:
            remove_images(client)
            secs, data, err = cli("up", "--name", LAB)
            res["cold_up_s"].append(round(secs, 1))
            for images, t in seeds_made(err).items():
                res.setdefault("seed_make_s", {}).setdefault(images, []).append(t)
            secs, _, _ = cli("down", LAB)
            res["down_s"].append(round(secs, 1))
        secs, data, _ = cli("up", "--name", LAB)
        res["warm_up_s"].append(round(secs, 1))
        res["warm_steps"].append(data["up"]["steps"])
        res["images_into_nodes_s"].append(data["up"]["steps"]["images into nodes"])
        for node, ms in seed_links(client, LAB).items():
            res.setdefault("seed_link_ms_" + node, []).append(ms)
        secs, data, _ = cli("up", "--name", LAB)
        res["again_up_s"].append(round(secs, 1))
        if i == 0:
            res["present_check"] = image_transfer(client, LAB)
            time.sleep(IDLE)
            res["memory"] = {n: node_memory(client, LAB, n) for n in ("node-1", "node-2", "node-3")}
        secs, _, _ = cli("down", LAB)
        res["down_s"].append(round(secs, 1))
    summary = {k: median(v) for k, v in res.items()
               if (k.endswith("_s") or k.startswith("seed_link_ms")) and isinstance(v, list)}
    summary["seed_make_s"] = {k: median(v) for k, v in res.get("seed_make_s", {}).items()}
    report = {"machine": {"cpus": subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip(),
                          "kernel": platform.release(),
                          "engine": client.version()["Version"]},
              "runs": args.runs, "medians": summary, "raw": res}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

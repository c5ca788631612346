#!/usr/bin/env python3
"""Benchmark of `swarmlab compare` (not a test): RUNS runs of compare on a running lab,
the medians per variant and their ratio to the raw veth path, compare's wall time, and,
in the same run, iperf3 run by hand on compare's overlay path (web task -> db task across
hosts), to check that the tool's own throughput figure agrees with it within 10 %.

Traffic only between the lab's own namespaces; every loop bounded by RUNS.
Usage: python3 bench/bench_compare.py [--runs 3] [--lab bench-cmp] [--out bench/out/compare.json]
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


def cli(*args, timeout=900):
    started = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "swarmlab", *args, "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        raise SystemExit(f"swarmlab {' '.join(args)} failed:\n{proc.stderr[-3000:]}")
    return time.monotonic() - started, json.loads(proc.stdout)["data"]


def by_hand(lab, client_task, client_node, server_task, server_node, server_ip, runs=3):
    """iperf3 between the same two tasks, typed as a reader would (docker exec + nsenter)."""
    pid = "$(docker inspect --format '{{{{.State.Pid}}}}' {})"
    got = []
    for _ in range(runs):
        srv = subprocess.Popen(["docker", "exec", f"swarmlab-{lab}-{server_node}", "sh", "-c",
                                f"nsenter -n -t {pid.format(server_task)} timeout 30 iperf3 -s -1 -p 5202"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        out = subprocess.run(["docker", "exec", f"swarmlab-{lab}-{client_node}", "sh", "-c",
                              f"nsenter -n -t {pid.format(client_task)} iperf3 -c {server_ip} -p 5202 -t 2 -J"],
                             capture_output=True, text=True, timeout=60)
        srv.wait(timeout=40)
        got.append(json.loads(out.stdout)["end"]["sum_received"]["bits_per_second"] / 1e9)
    return got


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--lab", default="bench-cmp")
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "compare.json"))
    args = ap.parse_args()
    cli("up", "--name", args.lab)
    res = {"compare_s": [], "variants": {}, "by_hand_gbps": [], "tool_overlay_gbps": []}
    try:
        for _ in range(args.runs):
            secs, data = cli("compare", args.lab)
            res["compare_s"].append(round(secs, 1))
            for v in data["variants"]:
                if not v["measured"]:
                    res["variants"].setdefault(v["key"], {"why_not": v["why_not"]})
                    continue
                d = res["variants"].setdefault(v["key"], {"rtt_p50_us": [], "rtt_p99_us": [], "gbps": [], "http_p50_ms": []})
                d["rtt_p50_us"].append(v["rtt"]["p50_us"])
                d["rtt_p99_us"].append(v["rtt"]["p99_us"])
                d["gbps"].append(v["throughput"]["median_gbps"])
                if v.get("http"):
                    d["http_p50_ms"].append(v["http"]["p50_ms"])
            back = next(v for v in data["variants"] if v["key"] == "overlay-backend")
            res["tool_overlay_gbps"].append(back["throughput"]["median_gbps"])
            # same run: the same two tasks, by hand (task names from compare's own labels)
            client_task = back["client"].split(" on ")[0]
            server_task = back["server"].split(" on ")[0]
            names = subprocess.run(["docker", "exec", f"swarmlab-{args.lab}-{back['client_node']}", "docker", "ps",
                                    "--format", "{{.Names}}"], capture_output=True, text=True).stdout.split()
            client_full = next(n for n in names if n.startswith(client_task + "."))
            names = subprocess.run(["docker", "exec", f"swarmlab-{args.lab}-{back['server_node']}", "docker", "ps",
                                    "--format", "{{.Names}}"], capture_output=True, text=True).stdout.split()
            server_full = next(n for n in names if n.startswith(server_task + "."))
            hand = by_hand(args.lab, client_full, back["client_node"], server_full, back["server_node"], back["server_ip"])
            res["by_hand_gbps"].append(round(statistics.median(hand), 3))
    finally:
        cli("down", args.lab)
    med = lambda xs: round(statistics.median(xs), 2) if xs else None  # noqa: E731
    raw = med(res["variants"]["raw"]["gbps"]), med(res["variants"]["raw"]["rtt_p50_us"])
    summary = {}
    for key, d in res["variants"].items():
        if "why_not" in d:
            summary[key] = d
            continue
        summary[key] = {"rtt_p50_us": med(d["rtt_p50_us"]), "rtt_p99_us": med(d["rtt_p99_us"]),
                        "gbps": med(d["gbps"]), "http_p50_ms": med(d["http_p50_ms"]),
                        "rtt_vs_raw": round(med(d["rtt_p50_us"]) / raw[1], 2),
                        "gbps_vs_raw": round(med(d["gbps"]) / raw[0], 2)}
    tool, hand = med(res["tool_overlay_gbps"]), med(res["by_hand_gbps"])
    report = {"runs": args.runs, "compare_s_median": med(res["compare_s"]), "summary": summary,
              "overlay_tool_vs_by_hand": {"tool_gbps": tool, "by_hand_gbps": hand,
                                          "difference_pct": round(abs(tool - hand) / hand * 100, 1)},
              "raw": res}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

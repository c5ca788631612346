"""How fast and how small a refusal is (issue #12): every file of tests/data/invalid and
the generated monsters through the real command line, with the engine hidden (nothing
can be built): exit code, wall time and peak RSS of each process (os.wait4).

Usage: python3 bench/bench_bad_input.py [--out bench/out/bad_input.json]"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.corpus import cli_args, corpus  # noqa: E402
from tests.unit.test_bad_input import _big, _bomb, _deep, _fifo, run_measured  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(ROOT / "bench" / "out" / "bad_input.json"))
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="swarmlab-bench-"))
    rows = []
    for p in corpus():
        args, env = cli_args(p, tmp)
        code, _, _, seconds, rss = run_measured(args, env)
        rows.append({"file": p.name, "exit": code, "seconds": round(seconds, 3), "rss_mib": round(rss / 1024, 1)})
    for make in (_deep, _big, _fifo, _bomb):
        d = Path(tempfile.mkdtemp(prefix="swarmlab-bench-"))
        make(d / "m.yaml")
        code, _, _, seconds, rss = run_measured(["up", str(d / "m.yaml")])
        rows.append({"file": make.__name__.strip("_"), "exit": code, "seconds": round(seconds, 3),
                     "rss_mib": round(rss / 1024, 1)})
    secs = [r["seconds"] for r in rows]
    summary = {"files": len(rows), "exit_codes": sorted({r["exit"] for r in rows}),
               "seconds_median": round(statistics.median(secs), 2), "seconds_max": round(max(secs), 2),
               "rss_mib_max": max(r["rss_mib"] for r in rows)}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps({"summary": summary, "rows": rows}, indent=2))
    print(json.dumps(summary))


if __name__ == "__main__":
    main()

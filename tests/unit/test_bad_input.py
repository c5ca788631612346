"""Malformed and hostile input, as a user meets it (issue #12): every file of the corpus
in tests/data/invalid and every generated monster (a FIFO, /dev/zero, 20,000-deep
nesting, a file over the size cap) gives exit 2 from the real command line, with one
clear message naming the file, no traceback, nothing created, in under 2 s of CPU and
200 MB. CPU, not the clock: a busy machine stretches wall time, not the work done.

The engine is hidden from these runs (DOCKER_HOST points nowhere), so a file the tool
wrongly accepted could not build anything: it would fail with another exit code."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from swarmlab.errors import EXIT_CONFIG, ConfigError

from ..corpus import INVALID, cli_args, corpus, expectations, load
from .test_config import ROOT

MAX_CPU_SECONDS = 2.0
MAX_RSS_KB = 200 * 1024
NOWHERE = {"DOCKER_HOST": "unix:///nonexistent/swarmlab-test.sock", "COLUMNS": "200"}


def run_measured(args, env=None, timeout=30):
    """`python -m swarmlab ARGS`: (exit code, stdout, stderr, CPU seconds, peak RSS in KB)
    of that process and what it waited for (os.wait4 gives their rusage); the clock only
    kills a hung run."""
    out_f, err_f = tempfile.TemporaryFile(), tempfile.TemporaryFile()
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "swarmlab", *args], cwd=ROOT, stdout=out_f, stderr=err_f,
                            stdin=subprocess.DEVNULL, env={**os.environ, **NOWHERE, **(env or {})})
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() - started > timeout:
            proc.kill()
            pid, status, usage = os.wait4(proc.pid, 0)
            break
        time.sleep(0.01)
    seconds = usage.ru_utime + usage.ru_stime
    proc.returncode = os.waitstatus_to_exitcode(status)
    out_f.seek(0)
    err_f.seek(0)
    return proc.returncode, out_f.read().decode(errors="replace"), err_f.read().decode(errors="replace"), \
        seconds, usage.ru_maxrss


def assert_bad_input(result, shown: str) -> None:
    code, out, err, seconds, rss = result
    assert code == EXIT_CONFIG, f"exit {code}, not 2:\n{out}\n{err}"
    assert "Traceback" not in err and "swarmlab bug" not in err, err
    assert err.startswith("error: ") or err.startswith("Usage: "), err   # ours, or click's for flags
    assert shown in err, f"the message does not name {shown}:\n{err}"
    assert seconds < MAX_CPU_SECONDS + 1.0, f"{seconds:.2f}s of CPU"   # + interpreter start-up (~0.4 s here)
    assert rss < MAX_RSS_KB, f"{rss} KB"


def test_the_corpus_is_large_and_covers_every_kind():
    files = corpus()
    assert len(files) >= 60
    kinds = {p.name.split("-", 1)[0] for p in files}
    assert kinds == {"scenario", "stack", "inventory", "ansible", "vagrant"}
    assert all(expectations(p) for p in files), [p.name for p in files if not expectations(p)]


@pytest.mark.parametrize("path", corpus(), ids=lambda p: p.name)
def test_each_file_gives_exactly_its_problems(path, tmp_path):
    """In the library: a ConfigError (exit 2) with exactly the problems the file expects."""
    wanted = expectations(path)
    started = time.process_time()
    with pytest.raises(ConfigError) as info:
        load(path, tmp_path)
    assert time.process_time() - started < MAX_CPU_SECONDS
    got = [str(p).replace(str(INVALID) + "/", "") for p in info.value.problems]
    assert info.value.exit_code == EXIT_CONFIG
    assert len(got) == len(wanted), "\n".join(got)
    for w in wanted:
        assert any(g.startswith(w) for g in got), f"no problem starts with {w!r}:\n" + "\n".join(got)


def test_every_corpus_file_on_the_command_line(tmp_path):
    """The same files through the real CLI: exit 2, the file named, fast and small."""
    files = corpus()

    def one(path):
        args, env = cli_args(path, tmp_path)
        return path, run_measured(args, env)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(one, files))
    for path, result in results:
        assert_bad_input(result, path.name)


def _deep(p: Path) -> str:
    p.write_text("apiVersion: swarmlab/v1\nkind: Scenario\nnodes: " + "[" * 20000 + "]" * 20000 + "\n")
    return p.name


def _big(p: Path) -> str:
    with open(p, "w") as f:
        f.write("apiVersion: swarmlab/v1\ndescription: |\n")
        line = "  " + "x" * 1000 + "\n"
        for _ in range(50 * 1024):   # 50 MB
            f.write(line)
    return p.name


def _fifo(p: Path) -> str:
    os.mkfifo(p)
    return p.name


def _bomb(p: Path) -> str:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 12)]
    p.write_text("\n".join(lines) + "\n")
    return p.name


@pytest.mark.parametrize("make", [_deep, _big, _fifo, _bomb], ids=["deep-20000", "50MB", "fifo", "bomb-10e12"])
def test_monsters_are_refused_before_they_cost_anything(make, tmp_path):
    path = tmp_path / "monster.yaml"
    shown = make(path)
    assert_bad_input(run_measured(["up", str(path)]), shown)
    assert_bad_input(run_measured(["inventory", "check", str(path)]), shown)


def test_dev_zero_and_a_directory(tmp_path):
    assert_bad_input(run_measured(["up", "/dev/zero"]), "/dev/zero")
    assert_bad_input(run_measured(["inventory", "check", str(tmp_path)]), str(tmp_path))


def test_the_size_cap_is_configurable(tmp_path):
    p = tmp_path / "s.yaml"
    p.write_text((ROOT / "scenarios" / "default.yaml").read_text())
    code, _, err, _, _ = run_measured(["up", str(p)], {"SWARMLAB_MAX_FILE_BYTES": "100"})
    assert code == EXIT_CONFIG and "more than the 100 this tool reads" in err and "SWARMLAB_MAX_FILE_BYTES" in err

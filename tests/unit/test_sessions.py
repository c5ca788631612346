"""The locks test sessions side by side share (tests/sessions.py), in real processes with
a lock folder of their own: a restart waits for the test running beside it, and a test that
starts meanwhile waits for the restart."""
import fcntl
import os
import select
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HOLDER = """
import sys, types
from tests import sessions
marks = [types.SimpleNamespace(name=n) for n in sys.argv[1].split(",")]
with sessions.held(types.SimpleNamespace(iter_markers=lambda: iter(marks))):
    print("held", flush=True)
    sys.stdin.readline()
"""


def holder(tmp, marks):
    return subprocess.Popen([sys.executable, "-c", HOLDER, marks], cwd=ROOT, text=True, stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, env={**os.environ, "TMPDIR": str(tmp), "PYTEST_XDIST_WORKER": ""})


def said_held(proc, wait=30.0) -> bool:
    """Whether the holder says it holds its locks within `wait` seconds (a liveness bound:
    it is only waited out when the holder is meant to be blocked, and then never read as a figure)."""
    ready, _, _ = select.select([proc.stdout], [], [], wait)
    return bool(ready) and proc.stdout.readline().strip() == "held"


def release(proc):
    proc.stdin.write("\n")
    proc.stdin.flush()
    assert proc.wait(timeout=30) == 0


def turnstile_taken(tmp) -> bool:
    fd = os.open(tmp / "swarmlab-test-turnstile.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def test_a_restart_waits_for_the_test_beside_it_and_blocks_the_next(tmp_path):
    running = holder(tmp_path, "integration")
    assert said_held(running)
    restart = holder(tmp_path, "integration,engine_alone")
    deadline = time.monotonic() + 30
    while not turnstile_taken(tmp_path):          # the restart is waiting for the engine now
        assert time.monotonic() < deadline and restart.poll() is None
        time.sleep(0.05)
    nxt = holder(tmp_path, "integration")         # a test of the other session starts meanwhile
    assert not said_held(nxt, 0.5) and not said_held(restart, 0)
    release(running)
    assert said_held(restart)                     # the restart goes first, the new test after it
    assert not said_held(nxt, 0.5)
    release(restart)
    assert said_held(nxt)
    release(nxt)


def test_tests_of_two_sessions_share_the_engine(tmp_path):
    a, b = holder(tmp_path, "integration"), holder(tmp_path, "integration")
    assert said_held(a) and said_held(b)
    release(a)
    release(b)


def test_a_vm_test_has_the_engine_and_the_vms_to_itself(tmp_path):
    """Not marked integration, yet it holds the engine alone: beside dind tests the emulated
    VMs starved (CI, session 22)."""
    dind = holder(tmp_path, "integration")
    assert said_held(dind)
    vm_a = holder(tmp_path, "vagrant")
    assert not said_held(vm_a, 0.5)               # waits for the dind test beside it
    release(dind)
    assert said_held(vm_a)
    nxt = holder(tmp_path, "integration")
    assert not said_held(nxt, 0.5)                # held back while the VM test runs
    release(vm_a)
    assert said_held(nxt)
    release(nxt)
    vm_a = holder(tmp_path, "vagrant")
    assert said_held(vm_a)
    vm_b = holder(tmp_path, "vagrant")
    assert not said_held(vm_b, 0.5)               # one VM test at a time
    release(vm_a)
    assert said_held(vm_b)
    release(vm_b)

"""Test sessions side by side on one machine (two clones, say): what they share and how.

- Every session holds the sessions lock shared while it runs; the seeds no lab uses are
  removed only by a session that finds itself alone (`alone`). The lanes of one run
  (pytest-xdist's workers) are one session: only the process that started them holds it.
- Every integration test holds the engine lock shared from its setup to its teardown; a
  test marked `engine_alone` (it restarts the engine) holds it exclusive, so no test of
  another session is half-way through while the engine goes away. A turnstile taken
  before either keeps a waiting restart from being starved by the other session's tests.
- A test marked `vagrant` or `vagrant_extra` holds the VM lock exclusive: the Vagrantfile's
  VM names and private network are the machine's, one set at a time. It holds the engine
  exclusive too: under software emulation the VMs need both cores, and beside a lane of
  dind tests their swarm starved (verify saw no name resolve on an overlay in 600 s).
Each lock is flock(2) on a file in the temporary folder: released by the kernel when a
session dies, however it dies."""
import contextlib
import fcntl
import os
import tempfile
from pathlib import Path

_DIR = Path(tempfile.gettempdir())


def _fd(name: str) -> int:
    return os.open(_DIR / name, os.O_RDWR | os.O_CREAT, 0o600)


_sessions, _engine, _turnstile, _vms = (_fd(f"swarmlab-test-{n}.lock") for n in ("sessions", "engine", "turnstile", "vms"))
if not os.environ.get("PYTEST_XDIST_WORKER"):
    fcntl.flock(_sessions, fcntl.LOCK_SH)


def alone() -> bool:
    """Whether no other test session runs beside this one (then no lab of its may be about
    to link a seed this one would remove)."""
    try:
        fcntl.flock(_sessions, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fcntl.flock(_sessions, fcntl.LOCK_SH)   # a conversion that failed may have dropped it
        return False
    fcntl.flock(_sessions, fcntl.LOCK_SH)
    return True


@contextlib.contextmanager
def held(item):
    """The locks a test item holds while it runs (setup, call, teardown)."""
    marks = {m.name for m in item.iter_markers()}
    with contextlib.ExitStack() as stack:
        vms = marks & {"vagrant", "vagrant_extra"}
        if vms:
            stack.enter_context(_flock(_vms, fcntl.LOCK_EX))
        if vms or "engine_alone" in marks:
            stack.enter_context(_flock(_turnstile, fcntl.LOCK_EX))
            stack.enter_context(_flock(_engine, fcntl.LOCK_EX))
        elif "integration" in marks:
            with _flock(_turnstile, fcntl.LOCK_EX):
                fcntl.flock(_engine, fcntl.LOCK_SH)
            stack.callback(fcntl.flock, _engine, fcntl.LOCK_UN)
        yield


@contextlib.contextmanager
def _flock(fd: int, how: int):
    fcntl.flock(fd, how)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)

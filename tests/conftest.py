"""Shared fixtures. Integration tests drive the real engine. Each session names its labs
with a prefix of its own (`it`, a run id: SWARMLAB_TEST_RUN, else random, and the lane's
number), and at its end sweeps by label only the labs of that prefix: another session's
labs on the same engine, or a user's, are never touched. What sessions side by side share,
and the locks, are in tests/sessions.py; how a run is split in lanes, in tests/lanes.py."""
import atexit
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import docker
import pytest

from swarmlab import labels as L
from swarmlab.engine import containers

from . import lanes, sessions

ROOT = Path(__file__).resolve().parents[1]
RUN = os.environ.get("SWARMLAB_TEST_RUN") or secrets.token_hex(2)
LANE = os.environ.get("PYTEST_XDIST_WORKER", "").removeprefix("gw")   # pytest-xdist's gw0, gw1…
P = f"it{RUN}{LANE}"   # this lane's labs: P, or P-something
# What the commands keep for `swarmlab report` goes to this session's own folder, not the user's.
STATE_DIR = tempfile.mkdtemp(prefix="swarmlab-test-state-")
os.environ["SWARMLAB_STATE_DIR"] = STATE_DIR
atexit.register(shutil.rmtree, STATE_DIR, True)


def run_cli(*args, timeout=900):
    """Run `python -m swarmlab ARGS` as a user would, from the repository root."""
    return subprocess.run([sys.executable, "-m", "swarmlab", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, "COLUMNS": "200"})


def run_json(*args, timeout=900):
    proc = run_cli(*args, "--json", timeout=timeout)
    try:
        doc = json.loads(proc.stdout)
    except ValueError:
        raise AssertionError(f"no JSON on stdout (exit {proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc, doc


def labelled(client, lab):
    f = L.lab_filter(lab)
    return {"containers": sorted(c.name for c in containers(client, f)),
            "networks": sorted(n.name for n in client.networks.list(filters=f)),
            "volumes": sorted(v.name for v in client.volumes.list(filters=f))}


@pytest.fixture(scope="session")
def engine():
    client = docker.from_env(timeout=300)
    client.ping()  # no engine is a failure here, never a skip: .ci/run starts one
    return client


@pytest.hookimpl(tryfirst=True)   # before xdist reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
    if getattr(config.option, "loadgroup", False):   # xdist sets it in a lane for --dist loadgroup
        lanes.assign(items)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item, nextitem):
    with sessions.held(item):   # what this test shares with another session's (tests/sessions.py)
        yield


@pytest.fixture(scope="session", autouse=True)
def sweep_test_labs(request):
    yield
    # Only a session that ran integration tests made labs to sweep: a unit-test run beside
    # another session (a CI run, say) must not remove that session's labs from under it.
    if not any(item.get_closest_marker("integration") for item in request.session.items):
        return
    client = _engine_if_any()
    if client is None:
        return
    from swarmlab.providers.dind import DindProvider

    labs = {c.labels.get(L.LAB) for c in containers(client, L.lab_filter())}
    labs |= {n.attrs["Labels"].get(L.LAB) for n in client.networks.list(filters=L.lab_filter())}
    labs |= {v.attrs["Labels"].get(L.LAB) for v in client.volumes.list(filters=L.lab_filter())}
    for lab in sorted(x for x in labs if x and (x == P or x.startswith(f"{P}-"))):
        DindProvider(client).destroy(lab)


_RAN = {"integration": False}


def pytest_runtest_logreport(report):
    # in the process that started the lanes too: each lane's reports come to it
    _RAN["integration"] |= "integration" in report.keywords


def pytest_sessionfinish(session):
    """Once every lane has swept its labs: the seed caches the tests made, when no other
    session runs (`docker volume ls` left as it was)."""
    if LANE or not _RAN["integration"] or not sessions.alone():
        return
    from swarmlab.providers import seed

    client = _engine_if_any()
    if client is not None:
        seed.remove_unused(client)


def _engine_if_any():
    try:
        client = docker.from_env()
        client.ping()
    except Exception:
        return None
    return client


def cgroups(name_glob: str) -> list:
    """The host's cgroup folders of that name: under each controller on cgroup v1
    (/sys/fs/cgroup/<controller>/NAME), at the top of the one tree on v2."""
    import glob

    return glob.glob(f"/sys/fs/cgroup/*/{name_glob}") + glob.glob(f"/sys/fs/cgroup/{name_glob}")

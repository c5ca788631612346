"""A lab that the tests of one module share, and what those tests do inside its nodes.

The lab is made by the first test that needs it, and made again for a test that comes after
one that stopped or removed it: no test depends on its place in the file."""
import json
import time

from swarmlab import labels as L

from ..conftest import run_json


def ensure_up(engine, shared: dict, lab: str) -> dict:
    """What `up` said of the lab, after making it again if it is not up with three nodes."""
    running = engine.containers.list(filters=L.lab_filter(lab, L.ROLE_NODE), ignore_removed=True)
    if not shared or len(running) < 3:
        proc, doc = run_json("up", "--name", lab)
        assert proc.returncode == 0, proc.stderr
        assert doc["ok"] is True and doc["schema"] == "swarmlab/v1"
        shared.update(doc["data"])
    return shared


def node_exec(engine, lab: str, node: str, cmd: str):
    cont = engine.containers.get(f"swarmlab-{lab}-{node}")
    code, out = cont.exec_run(["sh", "-c", cmd])
    return code, out.decode(errors="replace")


def db_sql(engine, lab: str, sql: str):
    """SQL in the lab's db task (the default scenario's, on node-3, tier data), as the
    postgres superuser over its socket."""
    node = engine.containers.get(f"swarmlab-{lab}-node-3")
    code, out = node.exec_run(["docker", "ps", "-q", "--filter", "label=com.docker.swarm.service.name=app_db"])
    assert code == 0 and out.strip(), out
    code, out = node.exec_run(["docker", "exec", out.decode().split()[0],
                               "/usr/lib/postgresql/15/bin/psql", "-U", "postgres", "-tAc", sql])
    return code, out.decode(errors="replace")


def wait_whole(lab: str, deadline_s: float = 240) -> list:
    """`status` until it says the lab is whole; every report seen on the way."""
    deadline, seen = time.monotonic() + deadline_s, []
    while True:
        proc, doc = run_json("status", lab)
        seen.append(doc["data"] if proc.returncode == 0 else doc)
        if proc.returncode == 0 and doc["data"]["whole"]:
            return seen
        assert time.monotonic() < deadline, seen[-1]
        time.sleep(1)


def envelope(server):
    """The JSON envelope a serving command prints with --json once it listens (`room start`:
    it goes on serving), read from its stdout."""
    text = ""
    while True:
        line = server.stdout.readline()
        assert line, (text, server.poll() is not None and server.stderr.read())
        text += line
        if line.rstrip() == "}":
            return json.loads(text)

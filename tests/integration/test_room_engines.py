"""A room spread over two Docker engines reached over SSH (`room start --engines FILE`): two
stand-in servers of this machine (dind nodes running sshd and their own engine, whose host
keys are pinned in the inventory), each then holding a trainee's whole lab of three nested
dind nodes. Each trainee's Check grades their lab there, their terminal is a shell on their
node there, their token opens nothing of the other's, the board says which engine holds
which lab, and `room stop --engines` removes both labs from their engines and nothing else."""
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from wsproto import ConnectionType
from wsproto.connection import Connection
from wsproto.events import BytesMessage, TextMessage

from swarmlab import labels as L
from swarmlab.providers.dind import DindProvider

from ..conftest import P, ROOT, run_json
from ..sshhosts import make_servers, on_host
from ..wsclient import opening
from .labs import envelope

pytestmark = pytest.mark.integration

ROOM = f"{P[:8]}e"
LESSON = "drained-node"


def _call(base, path, token, post=False):
    req = urllib.request.Request(base + path, data=b"{}" if post else None, method="POST" if post else "GET",
                                 headers={"X-Swarmlab-Token": token, "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None


def _shell_says(base, trainee, token, line, wanted, within=30):
    """What the trainee's terminal on node-1 shows once `line` is typed, until `wanted` is seen."""
    sock, status = opening(base, f"/t/{trainee}/ws/node-1", f"X-Swarmlab-Token: {token}")
    assert status == 101
    ws, seen = Connection(ConnectionType.CLIENT), b""
    sock.settimeout(1)
    sent, end = False, time.monotonic() + within
    while wanted not in seen and time.monotonic() < end:
        if not sent and b"#" in seen:
            sock.sendall(ws.send(TextMessage(data=json.dumps({"i": line}))))
            sent = True
        try:
            ws.receive_data(sock.recv(65536))
        except socket.timeout:
            continue
        seen += b"".join(e.data for e in ws.events() if isinstance(e, BytesMessage))
    sock.close()
    return seen.decode(errors="replace")


def _lab_on(engine, servers, host, lab):
    return on_host(engine, servers, host, f"docker ps -a --filter label={L.LAB}={lab} --format '{{{{.Names}}}}'").split()


@pytest.fixture(scope="module")
def servers(engine, tmp_path_factory):
    hosts_lab = f"{P}-engines"
    try:
        yield make_servers(engine, hosts_lab, {"far-1": ("manager", "a"), "far-2": ("manager", "b")},
                           tmp_path_factory.mktemp("engines"))
    finally:
        DindProvider(engine).destroy(hosts_lab)


def test_a_room_spread_over_two_engines_over_ssh(engine, servers):
    inventory = str(servers["inventory"])
    start = [sys.executable, "-m", "swarmlab", "room", "start", "--name", ROOM, "--trainees", "2",
             "--lesson", LESSON, "--engines", inventory, "--port", "0", "--json"]
    tunnels = set(Path(tempfile.gettempdir()).glob("swarmlab-engine-*"))
    server = subprocess.Popen(start, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    labs = {}
    try:
        doc = envelope(server)
        assert doc["ok"] and all(not t["error"] for t in doc["data"]["trainees"]), doc
        trainees = {t["trainee"]: t for t in doc["data"]["trainees"]}
        labs = {t["lab"]: t["engine"] for t in trainees.values()}
        assert sorted(labs.values()) == ["far-1", "far-2"], labs           # one lab on each engine
        for lab, host in labs.items():                                     # whole there, and only there
            assert sorted(_lab_on(engine, servers, host, lab)) == [f"swarmlab-{lab}-node-{i}" for i in (1, 2, 3)]
            assert not engine.containers.list(all=True, filters={"label": f"{L.LAB}={lab}"})
        base = doc["data"]["board"].split("/board/")[0]
        board_token = doc["data"]["board"].split("token=")[1]
        a, b = trainees["trainee-1"], trainees["trainee-2"]
        a_token, b_token = a["link"].split("token=")[1], b["link"].split("token=")[1]

        status, board = _call(base, "/board/api/state", board_token)
        assert status == 200 and {t["lab"]: t["engine"] for t in board["trainees"]} == labs
        status, report = _call(base, "/t/trainee-1/api/check", a_token, post=True)
        assert status == 200 and report["lab"] == a["lab"], report
        # the lesson's start, as its brief says: one web replica cannot run (node-2 is drained)
        observed = {s["name"]: (s["status"], s["observed"]) for s in report["steps"]}
        assert observed["every app node takes tasks"] == ("failed", "node-2 ready, drain"), observed
        assert _call(base, "/t/trainee-2/api/check", a_token, post=True)[0] == 403
        assert _call(base, "/board/api/state", a_token)[0] == 403
        sock, status = opening(base, "/t/trainee-2/ws/node-1", f"X-Swarmlab-Token: {a_token}")
        sock.close()
        assert status == 403

        said = _shell_says(base, "trainee-1", a_token, "docker node ls --format 'n={{.Hostname}}'; "
                           "docker info --format 'swarm={{.Swarm.Cluster.ID}}'; echo end-$((6*7))\n", b"end-42")
        assert all(f"n=node-{i}" in said for i in (1, 2, 3)), said
        cluster = on_host(engine, servers, labs[a["lab"]], f"docker exec swarmlab-{a['lab']}-node-1 "
                          "docker info --format '{{.Swarm.Cluster.ID}}'").strip()
        assert f"swarm={cluster}" in said                                  # trainee-1's own swarm, on its engine
        assert b_token not in said
    finally:
        server.terminate()
        server.wait(30)
        proc, doc = run_json("room", "status", "--name", ROOM, "--engines", inventory)
        rows = {r["lab"]: r["engine"] for r in doc["data"]["labs"]} if proc.returncode == 0 else proc.stderr
        proc, stopped = run_json("room", "stop", "--name", ROOM, "--engines", inventory)
    assert rows == labs
    assert set(Path(tempfile.gettempdir()).glob("swarmlab-engine-*")) == tunnels   # each engine's socket closed
    assert proc.returncode == 0 and sorted(stopped["data"]["removed"]) == sorted(labs), proc.stderr
    for lab, host in labs.items():
        assert _lab_on(engine, servers, host, lab) == []
        nets = on_host(engine, servers, host, f"docker network ls -q --filter label={L.LAB}={lab}").split()
        assert nets == []

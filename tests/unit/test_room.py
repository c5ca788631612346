"""The room's rules without a lab: names at the edge, who opens which page, the WebSocket's
bounds, the terminal under a real PTY (a local `sh`), and the server end to end with a
WebSocket client, its lessons and hosts faked (tests/integration/test_room.py drives real
labs in a real browser)."""
import json
import socket
import threading
import time
import urllib.error
import urllib.request
from types import SimpleNamespace

import pytest
from wsproto.connection import ConnectionType
from wsproto.events import BytesMessage, CloseConnection, Ping, Pong, TextMessage

from swarmlab.errors import ConfigError
from swarmlab.room import labs, model
from swarmlab.room.engines import Engine, Engines, local, place
from swarmlab.room.access import Keys, whose
from swarmlab.web import websocket
from swarmlab.web.guard import HEADER, Guard
from swarmlab.web.terminal import Session

from ..wsclient import opening


def test_trainee_names_are_checked_whole_with_their_line(tmp_path):
    f = tmp_path / "names"
    f.write_text("alice\n# a comment\n\nbob  # the second\nAlice\nalice\n" + "x" * 14 + "\ncarol de\ndan fr x\n")
    with pytest.raises(ConfigError) as exc:
        model.names_from(f, ("en", "fr"))
    lines = sorted(p.line for p in exc.value.problems)
    assert lines == [5, 6, 7, 8, 9]
    assert "twice" in str(exc.value.problems[1]) and "en or fr" in str(exc.value.problems[3])
    f.write_text("alice fr\nbob # b\n")
    assert model.names_from(f, ("en", "fr")) == [("alice", "fr"), ("bob", "")]
    f.write_text("# nobody\n")
    with pytest.raises(ConfigError) as exc:
        model.names_from(f)
    assert "holds no name" in str(exc.value.problems[0])
    assert model.numbered(2) == [("trainee-1", ""), ("trainee-2", "")]


def test_the_path_says_whose_page_it_is():
    assert whose("/t/alice/api/state") == ("alice", "api/state")
    assert whose("/t/alice/") == ("alice", "")
    assert whose("/board/ws/alice/node-1") == ("board", "ws/alice/node-1")
    assert whose("/t/") == (None, "/t/")
    assert whose("/") == (None, "/")


def _room():
    return model.Room("r", "drained-node", "en", [model.Trainee("alice", "r-alice"), model.Trainee("bob", "r-bob")])


def test_a_token_opens_its_own_page_only():
    room = _room()
    keys = Keys(Guard("127.0.0.1", 8770), room)
    a, b, trainer = room.trainees[0].token, room.trainees[1].token, room.trainer_token
    host = {"host": "127.0.0.1:8770"}
    assert keys.check("GET", "alice", host, f"token={a}") is None
    assert keys.check("GET", "bob", host, f"token={a}") == "this token does not open this page"
    assert keys.check("GET", "board", host, f"token={a}") == "this token does not open this page"
    assert keys.check("GET", "board", host, f"token={trainer}") is None
    assert keys.check("GET", "alice", {**host, "cookie": f"{keys.cookie('alice')}={a}"}, "") is None
    assert keys.check("GET", "bob", {**host, "cookie": f"{keys.cookie('bob')}={a}"}, "") is not None
    assert keys.check("POST", "alice", host, f"token={a}") == f"a POST needs the {HEADER} header"
    assert keys.check("POST", "alice", {**host, HEADER.lower(): a}, "") is None
    assert keys.check("GET", "carol", host, f"token={a}") == "no such page"
    assert keys.check("GET", "alice", {"host": "evil.example:8770"}, f"token={a}") == "Host is not this server"
    assert keys.check("GET", "alice", {**host, "origin": "http://evil.example"}, f"token={a}") == "Origin is another site"
    assert keys.check("GET", "alice", host, f"token={a}", ws=True) == "Origin is another site"
    assert keys.check("GET", "alice", {**host, "origin": "http://127.0.0.1:8770"}, f"token={a}", ws=True) is None
    assert "Path=/t/alice/" in keys.set_cookie("alice") and "Path=/board/" in keys.set_cookie("board")
    assert keys.link("bob") == f"http://127.0.0.1:8770/t/bob/?token={b}"


def test_the_websocket_opening_follows_rfc_6455():
    key = "dGhlIHNhbXBsZSBub25jZQ=="  # the RFC's own example
    ok = {"upgrade": "websocket", "connection": "keep-alive, Upgrade", "sec-websocket-version": "13",
          "sec-websocket-key": key}
    assert websocket.handshake(ok)["Sec-WebSocket-Accept"] == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    assert websocket.handshake({**ok, "sec-websocket-version": "8"}) is None
    assert websocket.handshake({**ok, "sec-websocket-key": "c2hvcnQ="}) is None
    assert websocket.handshake({**ok, "upgrade": "h2c"}) is None


def test_the_input_budget_refills_at_its_rate():
    now = [0.0]
    b = websocket.Budget(rate=100, burst=200, clock=lambda: now[0])
    assert b.spend(150) and not b.spend(100)
    now[0] = 1.0
    assert b.spend(140) and not b.spend(20)


def test_a_message_over_the_bound_closes_the_socket():
    from wsproto.connection import Connection

    here, there = socket.socketpair()
    ws = websocket.Socket(here)
    client = Connection(ConnectionType.CLIENT)  # after the opening, which is the server's HTTP part
    there.sendall(client.send(TextMessage(data="hi")))
    assert ws.receive() == ["hi"]
    threading.Thread(target=there.sendall, args=(client.send(TextMessage(data="x" * (websocket.MAX_MESSAGE + 1))),),
                     daemon=True).start()
    with pytest.raises(websocket.TooMuch) as exc:
        while True:
            ws.receive()
    assert exc.value.code == 1009


def _read_until(w, wanted: bytes, within: float = 10):
    seen = b""
    ends = time.monotonic() + within
    while wanted not in seen and time.monotonic() < ends:
        import select

        select.select([w.readable], [], [], 0.2)
        seen += w.take()
    return seen


def test_a_shell_under_a_pty_keeps_its_output_for_the_next_page(tmp_path):
    s = Session(["sh"], rows=24, cols=80)
    try:
        w = s.attach()
        s.write(b"echo $((6*7))\n")
        assert b"42" in _read_until(w, b"42")
        s.resize(rows=33, cols=101)
        s.write(b"stty size\n")
        assert b"33 101" in _read_until(w, b"33 101")
        s.detach(w)
        again = s.attach()  # a reload: the recent output first
        assert b"33 101" in _read_until(again, b"33 101")
        s.write(b"exit\n")
        assert s.ended.wait(10)
    finally:
        s.close()
    assert s.proc.poll() is not None


class _Lessons:
    def __init__(self):
        self.checked = []

    def check(self, lab, provider):
        self.checked.append(lab)
        return {"lab": lab, "passed": 1, "of": 2, "solved": False, "steps": []}

    def progress(self, provider):
        return [{"lab": "r-alice", "room": "r", "lesson": "x"}, {"lab": "r-bob", "room": "r", "lesson": "x"},
                {"lab": "r-eve", "room": "other", "lesson": "x"}, {"lab": "r-mallory", "lesson": None, "note": "down"}]


class _Drills:
    """One drill with one question; its run asks it, then waits for the test to let it end."""

    def __init__(self):
        from swarmlab.room.drill import Drills

        self.asked, self.go = threading.Event(), threading.Event()
        self.ran = []
        quiz = SimpleNamespace(question={"en": "Where does web go?", "fr": "Où va web ?"},
                               choices=[({"en": "elsewhere", "fr": "ailleurs"}, None), ({"en": "nowhere"}, None)])
        drill = SimpleNamespace(title={"en": "A node drained"}, quiz=quiz)

        def run(lab, provider, d, say, ask):
            self.ran.append(lab)
            say("drained node-2")
            ask(d.quiz)
            self.asked.set()
            assert self.go.wait(30)
            return {"passed": True, "quiz": [{"right": [0], "choices": [{"observed": "web.2 on node-1"},
                                                                         {"observed": "nothing waits"}]}]}

        self.api = Drills(catalogue=lambda: [{"id": "drain", "title": "A node drained", "params": {"node": "node-2"},
                                               "needs": {}}],
                          find=lambda ref, params: drill, run=run)


def _serve(room, fake, drills=None):
    from swarmlab.room.live import Live
    from swarmlab.room.server import make_server

    host = SimpleNamespace(name="node-1", transport=SimpleNamespace(interactive=lambda: ["sh"]))
    provider = SimpleNamespace(hosts=lambda lab: [host], list_labs=lambda: [])
    lessons = labs.Lessons(find=None, brief=None, start=None, check=fake.check, hint=None, reset=None,
                           progress=fake.progress, ids=lambda: [])
    for t in room.trainees:
        t.nodes = ["node-1"]
    live = Live(room, local(provider), lambda: provider, lessons, (drills or _Drills()).api)
    server = make_server(live, "127.0.0.1", 0, None, lambda line: None)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, live


def _ws(port, path, token, name):
    return opening(f"http://127.0.0.1:{port}", path, f"Cookie: swarmlab_room_{port}_{name}={token}")


def test_the_server_gives_each_trainee_their_own_shell_and_nothing_of_the_others(tmp_path):
    from wsproto.connection import Connection

    from swarmlab.room import server as server_mod

    room, fake = _room(), _Lessons()
    server, live = _serve(room, fake)
    port = server.server_address[1]
    a, b = room.trainees
    try:
        sock, code = _ws(port, "/t/alice/ws/node-1", a.token, "alice")
        assert code == 101
        client = Connection(ConnectionType.CLIENT)
        sock.sendall(client.send(TextMessage(data=json.dumps({"i": "echo $((6*7))\n"}))))
        got, ends = b"", time.monotonic() + 10
        while b"42" not in got and time.monotonic() < ends:
            client.receive_data(sock.recv(65536))
            got += b"".join(e.data for e in client.events() if isinstance(e, BytesMessage))
        assert b"42" in got
        assert _ws(port, "/t/bob/ws/node-1", a.token, "bob")[1] == 403
        assert _ws(port, "/board/ws/alice/node-1", a.token, "board")[1] == 403
        assert _ws(port, "/t/alice/ws/node-9", a.token, "alice")[1] == 404
        more = [_ws(port, "/t/alice/ws/node-1", a.token, "alice") for _ in range(server_mod.SOCKETS_EACH - 1)]
        assert [code for _, code in more] == [101] * (server_mod.SOCKETS_EACH - 1)
        assert _ws(port, "/t/alice/ws/node-1", a.token, "alice")[1] == 429  # one trainee cannot take every slot
        assert _ws(port, "/t/bob/ws/node-1", b.token, "bob")[1] == 101
        for extra, _ in more:
            extra.close()
        watch, code = _ws(port, "/board/ws/alice/node-1", room.trainer_token, "board")
        assert code == 101
        watcher = Connection(ConnectionType.CLIENT)
        watch.sendall(watcher.send(TextMessage(data=json.dumps({"i": f"touch {tmp_path}/never\n"}))))  # read-only: dropped
        watch.sendall(watcher.send(Ping(b"after")))  # its Pong comes once the text before it was handled
        while not any(isinstance(e, Pong) for e in watcher.events()):
            watcher.receive_data(watch.recv(65536))
        sock.sendall(client.send(TextMessage(data=json.dumps({"i": f"touch {tmp_path}/mine; echo made\n"}))))
        while not (tmp_path / "mine").exists() and time.monotonic() < ends + 10:
            time.sleep(0.05)
        assert (tmp_path / "mine").exists() and not (tmp_path / "never").exists()
        sock.sendall(client.send(CloseConnection(code=1000)))

        def post(path, token):
            req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=b"{}", method="POST",
                                         headers={HEADER: token})
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as exc:
                return exc.code, json.loads(exc.read())

        assert post("/t/alice/api/check", a.token)[1]["lab"] == "r-alice"
        assert post("/t/bob/api/check", a.token)[0] == 403
        assert post("/t/alice/api/reset", a.token)[0] == 403  # not allowed by the trainer
        assert fake.checked == ["r-alice"]
        assert [r["lab"] for r in labs.rows("r", local(SimpleNamespace(list_labs=lambda: [])), fake)] == ["r-alice",
                                                                                                   "r-bob"]
    finally:
        server.shutdown()
        server.server_close()
        live.close()
    assert not (tmp_path / "never").exists()


def test_stop_removes_the_rooms_labs_by_their_record_and_leaves_the_rest(monkeypatch):
    downed = []
    monkeypatch.setattr(labs.labapi, "down", lambda lab, provider, say: downed.append(lab))
    report = labs.stop("r", local(SimpleNamespace(list_labs=lambda: [])), _Lessons(), lambda s: None)
    assert downed == ["r-alice", "r-bob"] == report["removed"]
    assert report["left"] == [{"lab": "r-mallory", "why": "down", "engine": "local"}]


def test_labs_are_spread_as_swarm_spreads_tasks_where_memory_is_free_and_a_placed_lab_stays():
    free = {"far-1": 3000, "far-2": 1500, "far-3": 1600}
    # fewest labs first, most memory on a tie: far-1, far-3, far-2, then far-1 (2600 left)
    got = place(["r-a", "r-b", "r-c", "r-d"], free, {}, 400)
    assert got == {"r-a": "far-1", "r-b": "far-3", "r-c": "far-2", "r-d": "far-1"}
    # far-1 already holds two labs (any room's): the new ones go elsewhere first
    got = place(["r-a", "r-b"], free, {"x-1": "far-1", "x-2": "far-1", "r-a": "far-2", "gone": "far-9"}, 400)
    assert got == {"r-a": "far-2", "r-b": "far-3"}
    # far-2 and far-3 have no room for one more lab (1600 - 400 < 400 + headroom): far-1 takes them all
    assert set(place(["a", "b", "c"], {"far-1": 3000, "far-2": 1300}, {}, 400).values()) == {"far-1"}
    # none has room: the most memory free, and `up` says what is missing
    assert place(["a"], {"far-1": 10, "far-2": 20}, {}, 400) == {"a": "far-2"}
    assert place(["r-a", "r-b"], {"local": None}, {}, 180) == {"r-a": "local", "r-b": "local"}


def test_a_room_spread_over_engines_lists_and_stops_each_lab_on_its_own(monkeypatch):
    def engine(name, lab):
        info = SimpleNamespace(name=lab, running=3, nodes=3)
        return Engine(name, SimpleNamespace(list_labs=lambda: [info], lab=lab))

    class Records:
        def progress(self, provider):
            return [{"lab": provider.lab, "room": "r", "lesson": "x", "trainee": provider.lab[2:]}]

    spread = Engines([engine("far-1", "r-alice"), engine("far-2", "r-bob")])
    rows = labs.rows("r", spread, Records())
    assert [(r["lab"], r["engine"], r["whole"]) for r in rows] == [("r-alice", "far-1", True), ("r-bob", "far-2", True)]
    downed = []
    monkeypatch.setattr(labs.labapi, "down", lambda lab, provider, say: downed.append((lab, provider.lab)))
    assert labs.stop("r", spread, Records(), lambda s: None)["removed"] == ["r-alice", "r-bob"]
    assert downed == [("r-alice", "r-alice"), ("r-bob", "r-bob")]  # each removed through its own engine
    spread.find()
    assert spread.engine_of("r-bob") == "far-2" and spread.of("r-alice").lab == "r-alice"


def _call(port, path, token, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=None if body is None else json.dumps(body).encode(),
                                 method="GET" if body is None else "POST", headers={HEADER: token})
    req.add_header("Cookie", f"swarmlab_room_{port}_{'board' if path.startswith('/board') else path.split('/')[2]}={token}")
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_the_room_drill_asks_every_trainee_then_scores_each_on_what_the_lab_showed():
    room, drills = _room(), _Drills()
    room.demo = "demo"
    room.trainees[1].lang = "fr"
    server, live = _serve(room, _Lessons(), drills)
    port = server.server_address[1]
    a, b = room.trainees
    board = room.trainer_token
    try:
        assert _call(port, "/board/api/drill", a.token, {"drill": "drain"})[0] == 403
        assert _call(port, "/board/api/drill", board, {"drill": "../../etc/passwd"})[0] == 400
        assert _call(port, "/board/api/drill", board, {"drill": "drain", "params": {"node": "x;reboot"}})[0] == 400
        assert _call(port, "/board/api/drill", board, {"drill": "drain", "params": {"node": "node-2"}})[0] == 202
        assert _call(port, "/board/api/drill", board, {"drill": "drain"})[0] == 409    # one at a time

        def question(who, token):
            status, state = _call(port, f"/t/{who}/api/state", token)
            assert status == 200, state
            return state["drill"]["questions"]

        for _ in range(400):   # the drill's thread puts the question a moment after the start
            if question("alice", a.token):
                break
            drills.go.wait(0.05)
        (qa,), (qb,) = question("alice", a.token), question("bob", b.token)
        assert (qa["question"], qa["choices"], qa["open"]) == ("Where does web go?", ["elsewhere", "nowhere"], True)
        assert qb["choices"] == ["ailleurs", "nowhere"]       # bob's language, English where none
        assert _call(port, "/t/alice/api/answer", a.token, {"question": 1, "choice": 5})[0] == 400
        assert _call(port, "/t/alice/api/answer", a.token, {"question": 1, "choice": True})[0] == 400
        assert _call(port, "/t/bob/api/answer", a.token, {"question": 1, "choice": 1})[0] == 403
        assert _call(port, "/t/alice/api/answer", a.token, {"question": 1, "choice": 0})[0] == 200
        assert not drills.asked.is_set()                       # bob has not answered: still open
        assert _call(port, "/t/bob/api/answer", b.token, {"question": 1, "choice": 1})[0] == 200
        assert drills.asked.wait(10)                           # everyone answered: the step goes on
        assert _call(port, "/t/alice/api/answer", a.token, {"question": 1, "choice": 1})[0] == 400   # closed
        drills.go.set()
        for _ in range(400):
            if not live.drill.running:
                break
            threading.Event().wait(0.05)
        (qa,) = question("alice", a.token)
        assert (qa["picked"], qa["right"], qa["observed"][0]) == (0, [0], "web.2 on node-1")
        assert "counts" not in qa                              # a trainee sees their own pick only
        status, state = _call(port, "/board/api/state", board)
        assert state["drill"]["scores"] == {"alice": "1/1", "bob": "0/1"}
        assert state["drill"]["questions"][0]["counts"] == [1, 1] and state["drill"]["passed"] is True
        assert drills.ran == ["demo"] and state["drill"]["events"][0] == "drained node-2"
    finally:
        server.shutdown()
        server.server_close()
        live.close()


def test_a_room_without_a_demonstration_lab_runs_no_drill():
    room = _room()
    server, live = _serve(room, _Lessons())
    port = server.server_address[1]
    try:
        status, doc = _call(port, "/board/api/drill", room.trainer_token, {"drill": "drain"})
        assert status == 400 and "--demo" in doc["error"]
        assert _call(port, "/board/api/state", room.trainer_token)[1]["drills"] == []
    finally:
        server.shutdown()
        server.server_close()
        live.close()

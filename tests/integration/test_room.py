"""A room of two trainees on real dind labs, opened in headless Chromium: a trainee's
terminal on node-1 reaches that node's engine, their Check grades their lab and no other,
their token opens nothing of the other trainee nor the board, copy and paste work, the shell outlives a reload,
the board lists both and runs a drill on a demonstration lab with its quiz to the room,
nothing loads from outside, and `room stop` removes the room's labs and nothing else."""
import json
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from ..browser import chromium, console_errors, foreign_loads, until
from ..conftest import P, ROOT, run_json
from ..wsclient import opening
from .labs import envelope

pytestmark = pytest.mark.integration

ROOM = P[:10]
LESSON = "drained-node"
DEMO = f"{P}-demo"




def _get(url, headers=None):
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _ws_status(base, path, cookie):
    sock, status = opening(base, path, f"Cookie: {cookie}")
    sock.close()
    return status


@pytest.fixture(scope="module")
def room(engine, tmp_path_factory):
    names = tmp_path_factory.mktemp("room") / "names"
    names.write_text("# the room of the test\nalice\nbob\n")
    start = [sys.executable, "-m", "swarmlab", "room", "start", "--name", ROOM, "--names", str(names),
             "--lesson", LESSON, "--port", "0", "--json", "--demo", DEMO]
    missing = subprocess.run(start, cwd=ROOT, text=True, capture_output=True, timeout=120)
    assert missing.returncode == 2 and f"no lab {DEMO}" in missing.stderr, missing.stderr  # before any lab
    proc, doc = run_json("up", "--name", DEMO)
    assert proc.returncode == 0, proc.stderr
    server = subprocess.Popen(start, cwd=ROOT, text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        doc = envelope(server)
        assert doc["ok"] and all(not t["error"] for t in doc["data"]["trainees"]), doc
        yield doc["data"]
    finally:
        server.terminate()
        server.wait(30)
        proc, _ = run_json("down", DEMO)
        assert proc.returncode == 0, proc.stderr


def _terminal_text(browser, node="node-1"):
    return browser.execute_script(
        f"const r = document.querySelector('#term-{node} .xterm-rows'); return r ? r.innerText : ''")


def _type(browser, text, node="node-1"):
    browser.find_element("css selector", f"#term-{node} textarea").send_keys(text)


def _paste(browser, text, node="node-1"):
    """What the browser does on Ctrl+Shift+V or a right click's Paste: a paste event on the
    terminal's input, carrying the clipboard's text."""
    browser.execute_script(
        "const dt = new DataTransfer(); dt.setData('text/plain', arguments[1]);"
        "document.querySelector(arguments[0]).dispatchEvent("
        "new ClipboardEvent('paste', {clipboardData: dt, bubbles: true, cancelable: true}));",
        f"#term-{node} textarea", text)


def _copy_word(browser, word, node="node-1"):
    """A double click on the word where the terminal shows it, then Ctrl+Shift+C; what the
    system clipboard then holds."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    spans = [s for s in browser.find_elements("css selector", f"#term-{node} .xterm-rows span") if s.text == word]
    assert spans, _terminal_text(browser, node)
    ActionChains(browser).double_click(spans[-1]).perform()
    ActionChains(browser).key_down(Keys.CONTROL).key_down(Keys.SHIFT).send_keys("c") \
        .key_up(Keys.SHIFT).key_up(Keys.CONTROL).perform()
    return browser.execute_async_script(
        "navigator.clipboard.readText().then(arguments[0], e => arguments[0]('no clipboard: ' + e))")


def test_each_trainee_has_their_lab_their_terminal_and_nothing_of_the_other(engine, room, tmp_path):
    links = {t["trainee"]: t["link"] for t in room["trainees"]}
    base = links["alice"].split("/t/")[0]
    a_token = links["alice"].split("token=")[1]
    port = base.rsplit(":", 1)[1]
    # A's token opens nothing of B's, nor the board: pages, state, the terminal's socket
    assert _get(f"{base}/t/alice/api/state", {"X-Swarmlab-Token": a_token}) == 200
    assert _get(f"{base}/t/bob/api/state", {"X-Swarmlab-Token": a_token}) == 403
    assert _get(f"{base}/t/bob/?token={a_token}") == 403
    assert _get(f"{base}/board/api/state", {"X-Swarmlab-Token": a_token}) == 403
    assert _ws_status(base, "/t/bob/ws/node-1", f"swarmlab_room_{port}_bob={a_token}") == 403
    assert _ws_status(base, "/board/ws/alice/node-1", f"swarmlab_room_{port}_board={a_token}") == 403
    assert _ws_status(base, "/t/alice/ws/node-1", f"swarmlab_room_{port}_alice={a_token}") == 101

    with chromium() as browser:
        browser.get(links["alice"])
        assert until(lambda: browser.find_elements("css selector", "#term-node-1 textarea"), 30)
        assert until(lambda: "#" in _terminal_text(browser) or "$" in _terminal_text(browser), 30), _terminal_text(browser)
        _type(browser, "docker node ls --format 'node={{.Hostname}} {{.Status}}'\n")
        listed = lambda: sorted({w for w in _terminal_text(browser).split() if w.startswith("node=node-")})  # noqa: E731
        assert until(lambda: listed() == ["node=node-1", "node=node-2", "node=node-3"], 30), _terminal_text(browser)
        boxes = lambda: [e.get_attribute("data-node") for e in   # noqa: E731
                         browser.find_elements("css selector", "#picture .node")]
        assert until(lambda: boxes() == ["node-1", "node-2", "node-3"], 30), boxes()
        _type(browser, "export MARK=kept; echo mark-$((40+2))\n")
        assert until(lambda: "mark-42" in _terminal_text(browser), 30)
        # copy and paste: a pasted command runs once Enter is pressed; a word selected and
        # copied with Ctrl+Shift+C is on the system clipboard
        _paste(browser, "echo pasted-$((6*7))")
        _type(browser, "\n")
        assert until(lambda: "pasted-42" in _terminal_text(browser).split(), 30), _terminal_text(browser)
        browser.execute_cdp_cmd("Browser.grantPermissions", {"origin": base, "permissions": [
            "clipboardReadWrite", "clipboardSanitizedWrite"]})
        assert _copy_word(browser, "pasted-42") == "pasted-42"

        browser.find_element("id", "check").click()
        said = lambda: browser.find_element("id", "said").text  # noqa: E731
        assert until(lambda: "steps hold" in said(), 120), said()
        assert foreign_loads(browser) == [] and console_errors(browser) == [], (foreign_loads(browser), console_errors(browser))

        browser.refresh()  # the same shell, its recent output shown again
        assert until(lambda: "mark-42" in _terminal_text(browser), 30), _terminal_text(browser)
        _type(browser, "echo got-$MARK\n")
        assert until(lambda: "got-kept" in _terminal_text(browser), 30), _terminal_text(browser)

        browser.get(next(t["link"] for t in room["trainees"] if t["trainee"] == "bob"))
        assert until(lambda: browser.find_element("id", "title").text not in ("", "…"), 30)
        browser.get(room["board"])
        rows = lambda: [e.get_attribute("data-trainee") for e in   # noqa: E731
                        browser.find_elements("css selector", "#trainees tbody tr")]
        assert until(lambda: rows() == ["alice", "bob"], 30), rows()
        assert until(lambda: "1/" in browser.find_element("id", "trainees").text
                      or "0/" in browser.find_element("id", "trainees").text, 30)
        assert foreign_loads(browser) == [] and console_errors(browser) == [], (foreign_loads(browser), console_errors(browser))
        browser.save_screenshot(str(tmp_path / "board.png"))

    proc, doc = run_json("room", "status", "--name", ROOM)
    checks = {r["trainee"]: r["checks"] for r in doc["data"]["labs"]}
    assert checks == {"alice": 1, "bob": 0}, doc  # A's Check graded A's lab, and only it


def _api(url, token, body=None):
    req = urllib.request.Request(url, data=None if body is None else json.dumps(body).encode(),
                                 method="GET" if body is None else "POST",
                                 headers={"X-Swarmlab-Token": token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def test_the_board_runs_a_drill_on_the_demo_lab_and_scores_each_trainees_answer(engine, room):
    """The drain drill on the demonstration lab: its question reaches alice's page (she
    answers in the browser) and bob's (he answers by the API); it waits for both, then each
    pick is scored on what the lab showed."""
    links = {t["trainee"]: t["link"] for t in room["trainees"]}
    base = room["board"].split("/board/")[0]
    trainer, b_token = room["board"].split("token=")[1], links["bob"].split("token=")[1]
    assert _api(f"{base}/board/api/state", trainer)["demo"] == DEMO
    with chromium() as browser:
        browser.get(links["alice"])
        assert until(lambda: browser.find_element("id", "title").text not in ("", "…"), 30)
        assert _api(f"{base}/board/api/drill", trainer, {"drill": "drain", "params": {"node": "node-2"}})["drill"] == "drain"
        choices = lambda: browser.find_elements("css selector", "#questions button:not([disabled])")  # noqa: E731
        assert until(lambda: len(choices()) == 3, 120), browser.find_element("id", "drill").text
        choices()[1].click()
        picked = lambda: _api(f"{base}/board/api/state", trainer)["drill"]["questions"][0]["counts"]  # noqa: E731
        assert until(lambda: picked() == [0, 1, 0], 30), picked()
        _api(f"{base}/t/bob/api/answer", b_token, {"question": 1, "choice": 0})
        drill = lambda: _api(f"{base}/board/api/state", trainer)["drill"]  # noqa: E731
        assert until(lambda: not drill()["running"], 400, 2), drill()["events"]
        done = drill()
        assert not done["error"] and done["passed"], done
        right = done["questions"][0]["right"]
        assert right and done["scores"] == {"alice": f"{int(1 in right)}/1", "bob": f"{int(0 in right)}/1"}, done
        verdict = "right: your answer held" if 1 in right else "what the lab showed"
        assert until(lambda: verdict in browser.find_element("id", "questions").text, 30)
        assert foreign_loads(browser) == [] and console_errors(browser) == [], (foreign_loads(browser), console_errors(browser))


def test_the_board_moves_the_whole_room_to_the_next_lesson(engine, room):
    base = room["board"].split("/board/")[0]
    trainer = room["board"].split("token=")[1]
    req = urllib.request.Request(f"{base}/board/api/next", data=b"{}", method="POST",
                                 headers={"X-Swarmlab-Token": trainer, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        nxt = json.loads(r.read())["lesson"]
    assert nxt != LESSON

    def lessons():
        with urllib.request.urlopen(urllib.request.Request(f"{base}/board/api/state",
                                                           headers={"X-Swarmlab-Token": trainer}), timeout=30) as r:
            return {t["trainee"]: (t["lesson"], t["doing"], t["error"]) for t in json.loads(r.read())["trainees"]}

    assert until(lambda: lessons() == {"alice": (nxt, None, ""), "bob": (nxt, None, "")}, 300, 2), lessons()


def test_room_stop_removes_the_rooms_labs_and_nothing_else(engine, room):
    """A lab named like the room's, doing the same lesson outside the room (a trainer's own
    demonstration), stays."""
    decoy = f"{ROOM}-carol"
    proc, doc = run_json("lesson", "start", LESSON, decoy)
    assert proc.returncode == 0, proc.stderr
    try:
        proc, doc = run_json("room", "stop", "--name", ROOM)
        assert proc.returncode == 0, proc.stderr
        assert sorted(doc["data"]["removed"]) == [f"{ROOM}-alice", f"{ROOM}-bob"]
        proc, after = run_json("ls")
        left = {lab["name"] for lab in after["data"]}
        assert {decoy, DEMO} <= left and not {f"{ROOM}-alice", f"{ROOM}-bob"} & left
    finally:
        run_json("down", decoy)

"""A trainee's progress record lives on the trainee's own swarm (issue #30): signed with a
key that stays on the controller, so an edited, forged or copied record is refused."""
from __future__ import annotations

import json
import os
import stat

import pytest

from swarmlab.lessons import state


@pytest.fixture
def controller(tmp_path, monkeypatch):
    monkeypatch.setenv("SWARMLAB_STATE_DIR", str(tmp_path / "controller"))
    return tmp_path / "controller"


def _progress(lab="room-1"):
    return state.Progress(lab, "drained-node", "/work/lessons/30-drained-node.yaml", trainee="ana", steps=3,
                          passed=[0])


def test_a_record_reads_back_as_written(controller):
    p = _progress()
    assert state.verified(state.signed(p), "room-1") == p
    key = controller / state.KEY_FILE
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600 and stat.S_IMODE(os.stat(controller).st_mode) == 0o700


def _edited(raw: bytes, **change) -> bytes:
    doc = json.loads(raw)
    record = json.loads(doc["record"])
    record.update(change)
    doc["record"] = json.dumps(record, sort_keys=True)
    return json.dumps(doc).encode()


@pytest.mark.parametrize("forge, why", [
    (lambda raw: _edited(raw, passed=[0, 1, 2]), "signature does not match"),
    (lambda raw: _edited(raw, path="/etc/shadow"), "signature does not match"),
    (lambda raw: json.dumps(json.loads(json.loads(raw)["record"])).encode(), "not signed"),
    (lambda raw: b"\xff not json", "not a record swarmlab writes"),
    (lambda raw: b"[1, 2]", "not a record swarmlab writes"),
])
def test_an_edited_or_unsigned_record_is_refused(controller, forge, why):
    with pytest.raises(state.ForgedRecord, match=why) as info:
        state.verified(forge(state.signed(_progress())), "room-1")
    assert info.value.exit_code == 2 and "lesson start" in info.value.hint


def test_a_record_copied_from_another_lab_is_refused(controller):
    with pytest.raises(state.ForgedRecord, match="written for lab 'room-2'"):
        state.verified(state.signed(_progress("room-2")), "room-1")


def test_another_controllers_record_is_refused(controller, monkeypatch, tmp_path):
    raw = state.signed(_progress())
    monkeypatch.setenv("SWARMLAB_STATE_DIR", str(tmp_path / "elsewhere"))
    with pytest.raises(state.ForgedRecord, match="signature does not match"):
        state.verified(raw, "room-1")


def test_a_records_lesson_file_is_read_only_from_the_shelf(controller, tmp_path):
    shipped = tmp_path / "shipped"
    own = tmp_path / "trainer" / "lessons"
    for folder in (shipped, own, own / "below", tmp_path / "elsewhere"):
        folder.mkdir(parents=True)
    assert state.on_shelf(str(shipped / "a.yaml"), shipped)
    assert not state.on_shelf(str(own / "mine.yaml"), shipped)
    state.shelve(own / "mine.yaml", shipped)
    state.shelve(own / "mine.yaml", shipped)   # once on the shelf, not twice
    state.shelve(shipped / "a.yaml", shipped)  # the shipped folder is on it already
    assert json.loads((controller / state.SHELF_FILE).read_text()) == [str(own.resolve())]
    assert stat.S_IMODE(os.stat(controller / state.SHELF_FILE).st_mode) == 0o600
    assert state.on_shelf(str(own / "mine.yaml"), shipped)
    assert state.on_shelf(str(own / "below" / ".." / "other.yaml"), shipped)
    assert not state.on_shelf(str(own / "below" / "x.yaml"), shipped)          # a folder, not its tree
    assert not state.on_shelf(str(tmp_path / "elsewhere" / "x.yaml"), shipped)
    assert not state.on_shelf("/etc/shadow", shipped)

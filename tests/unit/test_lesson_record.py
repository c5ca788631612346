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

"""Files swarmlab writes as root in folders a user may have prepared (issue #30): never
through a planted link, never readable by others, never a user's file deleted."""
from __future__ import annotations

import json
import os
import stat

import pytest

from swarmlab import history, output, report
from swarmlab.cli.wiring import report_parts
from swarmlab.errors import ConfigError
from swarmlab.verify import _capture_folder


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("SWARMLAB_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def _mode(path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _keep_verify(lab: str, capture_dir) -> None:
    history.keep(lab, "verify", output.envelope("verify", True, {"lab": lab, "checks": [],
                                                                 "capture_dir": str(capture_dir)}))


def test_kept_results_are_private_whichever_command_made_the_folder(state):
    (state / "labs" / "lab1").mkdir(parents=True, mode=0o755)
    os.chmod(state, 0o755)
    os.chmod(state / "labs" / "lab1", 0o755)
    target = state.parent / "victim.txt"
    target.write_text("the user's own file\n")
    os.symlink(target, state / "labs" / "lab1" / "status.json")   # planted at the name
    path = history.keep("lab1", "status", output.envelope("status", True, {"lab": "lab1"}))
    assert path is not None and not path.is_symlink() and _mode(path) == 0o600
    assert target.read_text() == "the user's own file\n"
    assert [_mode(p) for p in (state, state / "labs", state / "labs" / "lab1")] == [0o700] * 3
    assert history.kept("lab1")["status"]["data"] == {"lab": "lab1"}


def test_a_kept_file_that_is_a_fifo_or_link_is_not_read(state):
    history.keep("lab2", "up", output.envelope("up", True, {"lab": "lab2"}))
    folder = history.folder("lab2")
    os.mkfifo(folder / "verify.json")
    os.symlink("/dev/zero", folder / "compare.json")
    kept = history.kept("lab2")
    assert "up" in kept and "verify" not in kept and "compare" not in kept


def test_report_never_deletes_a_file_it_did_not_write(state, tmp_path):
    _keep_verify("lab3", tmp_path / "nowhere")
    dest = tmp_path / "out"
    dest.mkdir()
    (dest / "notes.svg").write_text("<svg>the user's drawing</svg>")
    with pytest.raises(ConfigError) as info:
        report.build("lab3", None, report_parts(), str(dest))
    assert "notes.svg" in str(info.value.problems[0])
    assert (dest / "notes.svg").read_text() == "<svg>the user's drawing</svg>"
    assert sorted(os.listdir(dest)) == ["notes.svg"]


def test_report_rewrites_only_what_it_wrote(state, tmp_path):
    _keep_verify("lab4", tmp_path / "nowhere")
    dest = tmp_path / "new" / "report"
    made = report.build("lab4", None, report_parts(), str(dest))
    first = sorted(os.listdir(dest))
    assert ".swarmlab-report" in first and "index.html" in first and made["html"] == str(dest / "index.html")
    os.unlink(dest / "index.html")
    os.symlink(tmp_path / "victim.html", dest / "index.html")   # planted where the page goes
    report.build("lab4", None, report_parts(), str(dest))
    assert sorted(os.listdir(dest)) == first and not (dest / "index.html").is_symlink()
    assert not (tmp_path / "victim.html").exists()


def test_report_copies_captures_only_when_they_are_regular_files(state, tmp_path):
    caps = tmp_path / "caps"
    caps.mkdir()
    (caps / "backend-node-1.pcap").write_bytes(b"\xd4\xc3\xb2\xa1" + b"\0" * 20)
    os.symlink("/dev/zero", caps / "zero.pcap")
    os.mkfifo(caps / "fifo.pcap")
    _keep_verify("lab5", caps)
    dest = tmp_path / "out5"
    report.build("lab5", None, report_parts(), str(dest))
    assert os.listdir(dest / "pcaps") == ["backend-node-1.pcap"]
    assert (dest / "pcaps" / "backend-node-1.pcap").stat().st_size == 24
    data = json.loads((dest / "data.json").read_text())
    assert data["verify"]["data"]["capture_dir"] == str(caps)


def test_a_capture_folder_holding_links_is_refused(tmp_path):
    folder = tmp_path / "caps"
    folder.mkdir()
    os.symlink("/etc/passwd", folder / "backend-node-1.pcap")
    with pytest.raises(ConfigError) as info:
        _capture_folder(folder)
    assert "backend-node-1.pcap" in str(info.value.problems[0])
    fresh = tmp_path / "new" / "caps"
    _capture_folder(fresh)
    assert fresh.is_dir() and _mode(fresh) == 0o700

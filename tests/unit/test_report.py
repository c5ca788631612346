"""The results kept per lab and the report built from them, on envelopes recorded from a
real lab (tests/data/report: `up`, `status`, `verify` and `drill drain node-2` of lab rs)."""
import json
import re
from pathlib import Path

import pytest

from swarmlab import history, output
from swarmlab.errors import LabNotFound, SwarmlabError
from swarmlab.report import build, charts, render, sections
from swarmlab.cli.wiring import report_parts
from swarmlab.report.model import BAD, GOOD

DATA = Path(__file__).resolve().parents[1] / "data" / "report"


@pytest.fixture
def state(tmp_path, monkeypatch):
    monkeypatch.setenv("SWARMLAB_STATE_DIR", str(tmp_path / "state"))
    return tmp_path / "state"


def recorded(kind):
    return (DATA / f"{kind}.json").read_text()


def keep_recorded(lab="rs"):
    for kind in ("up", "status", "verify"):
        history.keep(lab, kind, recorded(kind))
    history.keep(lab, "drill", recorded("drill"))


def test_kept_results_come_back_with_when_they_were_kept(state):
    keep_recorded()
    kept = history.kept("rs")
    assert set(kept) == {"up", "status", "verify", "drills"}
    assert kept["verify"]["data"]["passed"] is True and re.match(r"\d{4}-\d\d-\d\dT", kept["verify"]["kept_at"])
    assert len(kept["drills"]) == 1 and kept["drills"][0]["data"]["drill"] == "drain"
    assert history.kept_labs() == ["rs"]
    assert (state / "labs" / "rs" / "verify.json").is_file()


def test_only_the_last_drills_are_kept_and_a_new_lab_forgets_the_old(state):
    for _ in range(history.KEEP_DRILLS + 3):
        history.keep("rs", "drill", recorded("drill"))
    assert len(history.kept("rs")["drills"]) == history.KEEP_DRILLS
    history.keep("rs", "verify", recorded("verify"))
    history.forget("rs")
    assert history.kept("rs") == {"drills": []}


def test_a_token_never_reaches_a_kept_file(state):
    token = "SWMTKN-1-" + "a" * 50 + "-" + "b" * 25
    history.keep("rs", "status", output.envelope("status", True, {"lab": "rs", "note": f"join with {token}"}))
    text = (state / "labs" / "rs" / "status.json").read_text()
    assert token not in text and "SWMTKN-<redacted>" in text


def test_a_bad_name_never_becomes_a_path_and_an_unwritable_folder_costs_only_the_report(tmp_path, monkeypatch):
    with pytest.raises(SwarmlabError):
        history.folder("../etc")
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("SWARMLAB_STATE_DIR", str(blocker))
    assert history.keep("rs", "verify", recorded("verify")) is None


def test_a_file_that_is_not_json_or_too_big_is_left_out(state):
    keep_recorded()
    (state / "labs" / "rs" / "verify.json").write_text("{not json")
    assert "verify" not in history.kept("rs") and "status" in history.kept("rs")


def test_sections_show_the_lab_verify_and_the_drill_with_tones(state):
    keep_recorded()
    kept = {**history.kept("rs"), "live": False}
    secs = sections.build("rs", kept, "<svg></svg>", "", [], lambda what, name: None, report_parts())
    assert [s.id for s in secs] == ["lab", "verify", "drills"]
    nodes = next(p for p in secs[0].parts if getattr(p, "id", "") == "nodes")
    assert [r[0].key for r in nodes.rows] == ["node-1", "node-2", "node-3"]
    matrix = next(p for p in secs[1].parts if getattr(p, "id", "") == "matrix")
    cells = {(r[0].text, i): c for r in matrix.rows for i, c in enumerate(r[1:])}
    assert cells[("web", 0)].tone == GOOD and cells[("outsider@frontend", 0)].tone == ""
    assert secs[1].tone == GOOD and "31 passed, 0 failed" in secs[1].lines[0]
    assert any("drain node=node-2" in line for line in secs[2].lines)   # no chart drawn: the title stays as a line
    assert sections.matrix_tone("expected-blocked-but-open") == BAD


def test_the_page_escapes_what_the_lab_says_and_loads_nothing_from_outside(state):
    keep_recorded()
    doc = json.loads(recorded("status"))
    doc["data"]["services"][0]["name"] = "<script>alert(1)</script>|x[link](http://evil.example)*b*"
    history.keep("rs", "status", json.dumps(doc))
    kept = {**history.kept("rs"), "live": False}
    secs = sections.build("rs", kept, None, "Graphviz's dot is not installed", [], lambda w, n: None, report_parts())
    page = render.to_html("t", secs, "now")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    md = render.to_markdown("t", secs, "now")
    assert "&lt;script>alert(1)&lt;/script>\\|x\\[link\\](http://evil.example)\\*b\\*" in md   # literal, no link
    assert "no picture of the lab: Graphviz's dot is not installed" in md


def test_a_drill_timeline_is_drawn_with_a_row_per_thing_watched(tmp_path):
    report = json.loads(recorded("drill"))["data"]
    svg = charts.inline(charts.drill_timeline(report, tmp_path / "d.svg"))
    assert svg.startswith("<svg")
    for row in ("node node-2", "service web", "flow via node-2"):
        assert row in svg
    segs = charts._segments([e for e in report["timeline"] if e["was"] or e["now"]], "node node-2", 27.5)
    assert [s[2] for s in segs] == ["ready, active", "ready, drain", "ready, active"]
    assert charts._tone("2/2 running on node-1, node-2") != charts._tone("1/2 running on node-1")


def test_the_report_is_built_from_what_was_kept_without_the_lab(state, tmp_path):
    with pytest.raises(LabNotFound) as exc:
        build("rs", None, report_parts(), str(tmp_path / "out"))
    assert "nothing is kept" in exc.value.hint
    keep_recorded()
    made = build("rs", None, report_parts(), str(tmp_path / "out"))
    assert made["live"] is False and made["sections"] == ["lab", "verify", "drills"]
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} >= {"index.html", "report.md", "data.json", "drill-1.svg"}
    page = (out / "index.html").read_text()
    assert "the lab was not running" in page and page.count("<svg") >= 2
    assert "![what changed and when, by phase](drill-1.svg)" in (out / "report.md").read_text()


def test_lesson_progress_has_its_section(state):
    keep_recorded()
    row = {"lab": "rs", "lesson": "flow", "trainee": "alice", "passed": [0, 1], "steps": 6, "hints": 1,
           "checks": 3, "resets": 0, "minutes": 4.2, "solved": None}
    history.keep("rs", "lessons", output.envelope("lesson progress", True, [row, {"lab": "rs", "lesson": None}]))
    secs = sections.build("rs", {**history.kept("rs"), "live": False}, None, "", [], lambda w, n: None, report_parts())
    (grid,) = next(s for s in secs if s.id == "lessons").parts
    assert [c.text for c in grid.rows[0]] == ["alice", "flow", "2/6", "1", "3", "0", "4.2", "no"]

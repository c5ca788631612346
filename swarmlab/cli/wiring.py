"""Where features meet: the report and the live page show what other features make, and
get it from here, so that no feature imports another (tests/unit/test_layers.py)."""

from __future__ import annotations

from .. import drills, graph, lessons, verify
from ..compare import report as compare_report
from ..report.model import Parts
from ..lessons.model import find as find_lesson
from ..room.drill import Drills
from ..room.labs import Lessons
from ..ui.live import Runs


def report_parts() -> Parts:
    return Parts(
        progress=lambda provider, lab: lessons.progress(provider, lab),
        graph_svg=lambda status: graph.to_svg(graph.to_dot(status)),
        compare_rows=compare_report.rows,
        compare_chart=compare_report.chart,
    )


def ui_runs() -> Runs:
    return Runs(
        verify=lambda lab, provider: verify.run(lab, provider),
        drills=drills.catalogue,
        drill=lambda ref, params: drills.find(ref).with_params(params),
        run_drill=lambda lab, provider, drill, say: drills.run(lab, provider, drill, say=say),
        progress=lambda provider: lessons.progress(provider),
    )


def room_drills() -> Drills:
    return Drills(
        catalogue=drills.catalogue,
        find=lambda ref, params: drills.find(ref).with_params(params),
        run=lambda lab, provider, drill, say, ask: drills.run(lab, provider, drill, say=say, ask=ask),
    )


def room_lessons() -> Lessons:
    return Lessons(
        find=find_lesson,
        brief=lambda ref, lang: lessons.brief(find_lesson(ref), lang),
        start=lessons.start,
        check=lessons.check,
        hint=lessons.hint,
        reset=lessons.reset,
        progress=lessons.progress,
        ids=lambda: [x["id"] for x in lessons.catalogue()],
    )

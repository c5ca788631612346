"""`up` as a list of steps (swarmlab/actions/steps.py): order, timing, background work,
and what is undone when a step fails."""
import threading

import pytest

from swarmlab.actions import steps
from swarmlab.actions.context import UpContext
from swarmlab.actions.steps import Step


def _ctx():
    return UpContext(scenario=None, lab="lab", provider=None, say=lambda s: None)


def test_steps_run_in_order_each_timed_and_announced():
    done, said = [], []
    ctx = _ctx()
    plan = [Step(n, lambda c, n=n: done.append(n)) for n in ("a", "b", "c")]
    steps.run(ctx, plan, said.append, then=lambda: done.append("record"))
    assert done == ["a", "b", "c", "record"] and said == ["a", "b", "c"]
    assert set(ctx.timings) == {"a", "b", "c"}


def test_a_failure_waits_for_the_background_then_undoes_what_began_latest_first():
    done, release = [], threading.Event()
    ctx = _ctx()

    def slow():
        release.wait(5)
        done.append("background finished")

    def fail(c):
        release.set()
        raise RuntimeError("boom")

    plan = [Step("a", lambda c: done.append("a"), undo=lambda c: done.append("undo a")),
            Step("b", lambda c: c.start("job", slow)),
            Step("c", fail, undo=lambda c: done.append("undo c")),
            Step("d", lambda c: done.append("d"), undo=lambda c: done.append("undo d"))]
    with pytest.raises(RuntimeError, match="boom"):
        steps.run(ctx, plan, then=lambda: done.append("record"))
    assert done == ["a", "background finished", "undo c", "undo a"] and not ctx.jobs


def test_a_background_job_that_failed_is_reported_by_the_step_that_waits_for_it():
    ctx = _ctx()
    plan = [Step("start", lambda c: c.start("job", lambda: 1 / 0)), Step("job", lambda c: c.finish("job"))]
    with pytest.raises(ZeroDivisionError):
        steps.run(ctx, plan)


def test_a_lessons_checkpoint_settles_instead_of_checking_the_flow():
    plan = steps.checkpoint(images_for={"services": {}})
    names = [s.name for s in plan]
    assert names == [s.name for s in steps.UP if s.name != "flow check"]
    assert next(s for s in plan if s.name == "wait").run is steps.wait.wait_settled
    assert next(s for s in plan if s.name == "nodes").undo is not None

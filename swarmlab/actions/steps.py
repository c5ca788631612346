"""`up` as a list of steps, as kind's actionsToRun: each step has a name (announced and
timed), what it does to the lab, and what undoes it when it or a later step fails. A
caller whose lab starts otherwise (a lesson's checkpoint: broken on purpose, so no flow
check) changes the list, not flags of `up`.

Images stream into the nodes while the swarm forms: `swarm` starts that work and the
manager's networks, secrets and configs in the background, and the steps named after them
wait for them. On a failure every background job is waited for before anything is undone."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, List, Optional

from ..errors import SwarmlabError
from ..images import ImageBuilder
from . import deploy, images, networks, smoke, swarm, wait
from .context import UpContext


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[UpContext], None]
    undo: Optional[Callable[[UpContext], None]] = None


def _images(ctx: UpContext) -> None:
    ImageBuilder(ctx.provider.client, say=ctx.say).build()
    images.prepare(ctx, ctx.provider.client, pull=ctx.pull)


def _preflight(ctx: UpContext) -> None:
    p = ctx.provider
    p.preflight()
    ctx.kernel = p.probe_kernel(ctx.lab)
    networks.decide(ctx, [ctx.kernel])  # on the kernel, before anything exists: encrypted: true without ESP stops here
    ctx.plan = p.allocate_pool(ctx.lab, ctx.scenario.pool, str(ctx.scenario.path))
    ctx.created = not p.exists(ctx.lab)
    # a lab whose nodes stopped (a machine shut down) is resumed, not made again
    ctx.resumed = sorted(h.name for h in p.hosts(ctx.lab) if h.state != "running") if not ctx.created else []


def _nodes(ctx: UpContext) -> None:
    ctx.hosts = swarm.provision(ctx)
    swarm.scale_down(ctx)
    swarm.probe_nodes(ctx)
    networks.decide(ctx, ctx.caps)


def _remove_what_was_made(ctx: UpContext) -> None:
    if not ctx.created or ctx.retain:
        return
    ctx.say("up failed: removing what this run created (use --retain to keep it)")
    try:
        ctx.provider.destroy(ctx.lab, ctx.say)
    except SwarmlabError as exc:
        ctx.say(f"cleanup failed too: {exc}")


def _swarm(ctx: UpContext) -> None:
    ctx.start("images into nodes", lambda: deploy.distribute_images(ctx, ctx.provider.client))
    states = swarm.init(ctx)
    # networks, secrets and configs need only the manager: made while the others join
    ctx.start("networks", lambda: _manager_objects(ctx))
    swarm.join(ctx, states)
    swarm.label_nodes(ctx)


def _manager_objects(ctx: UpContext) -> None:
    networks.ensure(ctx)
    deploy.ensure_secrets(ctx)
    deploy.ensure_files(ctx)


def _wait_ready(ctx: UpContext) -> None:
    wait.wait_services(ctx)
    wait.wait_ports(ctx)
    wait.wait_http(ctx)


def _availability(ctx: UpContext) -> None:
    if swarm.set_availability(ctx):
        wait.wait_services(ctx)  # a drained node's tasks start again elsewhere


def _flow_check(ctx: UpContext) -> None:
    failed = [c for c in smoke.data_flow(ctx) if not c.passed]
    if failed:
        raise SwarmlabError(
            "the stack runs but the flow check failed:\n  "
            + "\n  ".join(f"{c.name}: expected {c.expected}, observed {c.observed}" for c in failed)
        )


UP: List[Step] = [
    Step("images", _images),
    Step("preflight", _preflight),
    Step("nodes", _nodes, undo=_remove_what_was_made),
    Step("swarm", _swarm),
    Step("networks", lambda ctx: ctx.finish("networks")),
    Step("images into nodes", lambda ctx: ctx.finish("images into nodes")),
    Step("deploy", deploy.deploy_stack),
    Step("wait", _wait_ready),
    Step("flow check", _flow_check),
    Step("availability", _availability),
]


def checkpoint(images_for: dict) -> List[Step]:
    """A lesson's start: broken on purpose, so every service runs or waits with Swarm's
    reason, and no flow check; the images each node gets are those of the unedited stack."""

    def with_images_for(ctx: UpContext) -> None:
        ctx.images_for = images_for
        _images(ctx)

    swapped = {"images": Step("images", with_images_for), "wait": Step("wait", wait.wait_settled)}
    return [swapped.get(s.name, s) for s in UP if s.name != "flow check"]


def run(
    ctx: UpContext,
    steps: List[Step],
    announce: Optional[Callable[[str], object]] = None,
    then: Callable[[], object] = lambda: None,
) -> None:
    """Each step in turn, timed into ctx.timings, then `then` (the provider's record). On a
    failure: the background work waited for, then the undo of every step begun, the
    failing one first."""
    begun: List[Step] = []
    try:
        for step in steps:
            begun.append(step)
            ctx.timed(step.name, functools.partial(step.run, ctx), announce)
        then()
    except BaseException:
        ctx.settle()
        for step in reversed(begun):
            if step.undo:
                step.undo(ctx)
        raise

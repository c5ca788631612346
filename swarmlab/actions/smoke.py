"""The flow check that ends `up`: only for swarmlab's own web app (observe.flow)."""

from __future__ import annotations

from typing import List

from ..observe.flow import flow_checks, runs_web_app
from ..result import CheckResult
from .context import UpContext
from .wait import http_targets


def data_flow(ctx: UpContext) -> List[CheckResult]:
    """Only for swarmlab's own web app (it reports the hops it took); a user's service has
    its own answers, and wait.http has already seen it answer."""
    service = ctx.scenario.wait.http_service
    svc = (ctx.scenario.stack.get("services") or {}).get(service) if service else None
    if not svc or not runs_web_app(svc.get("image", ""), bool(svc.get("command") or svc.get("entrypoint"))):
        return []
    ctx.checks = flow_checks(http_targets(ctx))
    return ctx.checks

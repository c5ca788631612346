"""The scenario's overlay networks, encrypted where the kernel can carry it."""

from __future__ import annotations


from .. import labels as L
from ..overlays import create_argv
from ..capabilities import decide_encryption
from ..errors import PreflightError, SwarmlabError
from ..observe import reads
from .context import UpContext


def decide(ctx: UpContext, caps) -> None:
    """Before anything is created: refuse encrypted: true without ESP (unless --force)."""
    refusals = []
    for net in ctx.scenario.networks:
        d = decide_encryption(net.name, net.encrypted, caps, ctx.force)
        ctx.encryption[net.name] = d
        if d.refused:
            refusals.append(d.refused)
    if refusals:
        raise PreflightError("\n".join(refusals))


def ensure(ctx: UpContext) -> None:
    t = ctx.leader.transport
    existing = reads.overlays(t)
    for net in ctx.scenario.networks:
        d = ctx.encryption[net.name]
        if d.warning:
            ctx.warn(d.warning)
        have = existing.get(net.name)
        if have is not None:
            enc = "encrypted" in (have.get("Options") or {})
            if enc != d.encrypted:
                raise SwarmlabError(
                    f"network {net.name} exists with encrypted={enc} but the lab now wants {d.encrypted}",
                    hint=f"swarmlab down {ctx.lab} first, then up again",
                )
            continue
        argv = create_argv(
            net.name,
            ctx.lab,
            "overlay",
            d.encrypted,
            net.encrypted,
            d.reason,
            net.attachable,
            net.internal,
            net.subnet,
            # the stack's default network, labelled as stack deploy labels the one it makes
            net.labels + (((L.STACK, ctx.scenario.stack_name),) if net.stack_key else ()),
        )
        t.run(argv, timeout=60)
        ctx.say(f"network {net.name}: overlay, {'encrypted (IPsec)' if d.encrypted else 'plain VXLAN'}")

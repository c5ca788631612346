"""Images into the nodes, generated secrets, and the stack itself."""
from __future__ import annotations

import secrets as pysecrets
import shlex
import time

import yaml

from .. import labels as L
from ..config import stack as stackmod
from ..errors import PreflightError, SwarmlabError
from ..transport.group import parallel
from .context import UpContext


def wanted_images(ctx: UpContext) -> dict[str, list[str]]:
    """node -> the images of every service its placement constraints allow on it."""
    specs = {n.name: n for n in ctx.scenario.nodes}
    out = {}
    for h in ctx.hosts:
        spec = specs.get(h.name)
        labels = dict(spec.labels) if spec else {}
        out[h.name] = stackmod.images_for_node(ctx.scenario.stack, h.name, h.role, labels)
    return out


def distribute_images(ctx: UpContext, client) -> None:
    """`docker save | docker load` of the images a node may run, skipping the image
    ids it already has; all nodes in parallel."""
    wanted = wanted_images(ctx)
    ids = {}
    for ref in sorted({r for refs in wanted.values() for r in refs}):
        try:
            ids[ref] = client.images.get(ref).id
        except Exception:
            raise PreflightError(f"image {ref} (used by the stack) is not on the engine",
                                 hint="swarmlab images build, or docker build/load it; no registry is used") from None
    ctx.images = ids

    def load(host):
        fmt = "{{.Id}}"
        refs = wanted[host.name]
        started = time.monotonic()
        missing = []
        if refs:
            have = host.transport.run(f"docker image inspect --format '{fmt}' {' '.join(refs)} 2>/dev/null; true")
            present = set(have.stdout.split())
            missing = [ref for ref in refs if ids[ref] not in present]
        if missing:
            host.transport.load_images(["docker", "save", *missing], timeout=900)
        return {"loaded": missing, "seconds": round(time.monotonic() - started, 2)}

    res = parallel(ctx.hosts, load)
    errors = [f"{ctx.hosts[i].name}: {r}" for i, r in res.items() if isinstance(r, Exception)]
    if errors:
        raise SwarmlabError("loading images into the nodes failed:\n  " + "\n  ".join(errors))
    ctx.transfers = {ctx.hosts[i].name: r for i, r in res.items()}
    sent = {h: r for h, r in ctx.transfers.items() if r["loaded"]}
    ctx.say("images: " + ("; ".join(f"{h} <- {', '.join(r['loaded'])} ({r['seconds']:.1f}s)" for h, r in sent.items())
                          if sent else "every node already has them"))


def ensure_secrets(ctx: UpContext) -> None:
    t = ctx.leader.transport
    have = set(t.run("docker secret ls --format '{{.Name}}'").stdout.split())
    for name in stackmod.external_secrets(ctx.scenario.stack):
        if name in have:
            continue
        value = pysecrets.token_hex(24).encode()
        t.run(f"docker secret create --label {L.LAB}={ctx.lab} --label {L.ROLE}=secret "
              f"{shlex.quote(name)} -", stdin=value)
        ctx.say(f"secret {name}: generated")


def rendered_stack(ctx: UpContext) -> dict:
    return stackmod.render(ctx.scenario.stack, ctx.lab, [n.name for n in ctx.scenario.networks], ctx.ipvs)


def deploy_stack(ctx: UpContext) -> None:
    text = yaml.safe_dump(rendered_stack(ctx), sort_keys=False).encode()
    # --resolve-image never: the images are already in every node, no registry is asked.
    ctx.leader.transport.run(
        f"docker stack deploy --resolve-image never --prune -c - {ctx.scenario.stack_name}",
        stdin=text, timeout=120)
    ctx.say(f"stack {ctx.scenario.stack_name} deployed from {ctx.scenario.stack_file}"
            + ("" if ctx.ipvs else " (endpoint_mode dnsrr, host-mode ports)"))

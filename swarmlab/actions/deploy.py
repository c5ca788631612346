"""Images into the nodes, generated secrets, and the stack itself."""
from __future__ import annotations

import os
import secrets as pysecrets
import shlex
import threading
import time

import yaml

from .. import labels as L
from ..config import stack as stackmod
from ..errors import PreflightError, SwarmlabError
from ..images import cache as image_cache
from ..transport.group import parallel
from .context import UpContext


# How many nodes load at once (0: all). All at once measured best here: 26.6 s warm up
# against 35.3 s one node after another (bench/RESULTS.md).
LOAD_CONCURRENCY = int(os.environ.get("SWARMLAB_LOAD_CONCURRENCY", "0"))


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
    """`docker load` of the images a node may run, from a cached `docker save` tar,
    skipping the image ids it already has; all nodes in parallel."""
    wanted = wanted_images(ctx)
    ids = {}
    for ref in sorted({r for refs in wanted.values() for r in refs}):
        try:
            ids[ref] = client.images.get(ref).id
        except Exception:
            raise PreflightError(f"image {ref} (used by the stack) is not on the engine",
                                 hint="swarmlab images build, or docker build/load it; no registry is used") from None
    ctx.images = ids

    # Each set of images is saved once (cached by id) and fed to every node lacking it.
    gate = threading.Semaphore(LOAD_CONCURRENCY or len(ctx.hosts) or 1)

    def load(host):
        started = time.monotonic()
        with gate:
            missing = image_cache.load_missing(host.transport, wanted[host.name], ids)
        return {"loaded": missing, "seconds": round(time.monotonic() - started, 2)}

    res = parallel(ctx.hosts, load)
    errors = [f"{ctx.hosts[i].name}: {r}" for i, r in res.items() if isinstance(r, Exception)]
    if errors:
        raise SwarmlabError("loading images into the nodes failed:\n  " + "\n  ".join(errors))
    ctx.transfers = {ctx.hosts[i].name: r for i, r in res.items()}
    image_cache.prune(img.id for img in client.images.list())
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
    out = stackmod.render(ctx.scenario.stack, ctx.lab, [n.name for n in ctx.scenario.networks], ctx.ipvs)
    # A rebuilt image keeps its tag, and with no registry there is no digest to pin: the
    # image id as a container label makes the task spec change, so Swarm rolls the tasks
    # onto the new image (without it, a converging `up` kept running the old one).
    for svc in out["services"].values():
        image_id = ctx.images.get(svc.get("image", ""))
        if image_id:
            svc["labels"] = {**(svc.get("labels") or {}), L.IMAGE_ID: image_id}
    return out


def deploy_stack(ctx: UpContext) -> None:
    text = yaml.safe_dump(rendered_stack(ctx), sort_keys=False).encode()
    # --resolve-image never: the images are already in every node, no registry is asked.
    ctx.leader.transport.run(
        f"docker stack deploy --resolve-image never --prune -c - {ctx.scenario.stack_name}",
        stdin=text, timeout=120)
    ctx.say(f"stack {ctx.scenario.stack_name} deployed from {ctx.scenario.stack_file}"
            + ("" if ctx.ipvs else " (endpoint_mode dnsrr, host-mode ports)"))

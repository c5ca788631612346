"""Images into the nodes, generated secrets, and the stack itself."""

from __future__ import annotations

import os
import secrets as pysecrets
import threading
import time
from typing import FrozenSet

import yaml

from .. import labels as L
from ..config import stack as stackmod
from ..config.compose import for_stack_deploy
from ..config.model import StackPart
from ..errors import PreflightError, SwarmlabError
from ..images import cache as image_cache
from ..transport.group import parallel
from ..observe import reads
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
        out[h.name] = stackmod.images_for_node(
            ctx.images_for or {"services": ctx.scenario.services}, h.name, h.role, labels
        )
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
            raise PreflightError(
                f"image {ref} (used by the stack) is not on the engine",
                hint="swarmlab images build, or docker build/load it",
            ) from None
    ctx.images = ids
    registry = ctx.provider.registry
    if registry is not None:
        return _through_registry(ctx, client, registry, wanted)

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
    ctx.transfers = {ctx.hosts[i].name: r for i, r in res.items() if not isinstance(r, Exception)}
    image_cache.prune(image_cache.live_ids(client))
    sent = {h: r for h, r in ctx.transfers.items() if r["loaded"]}
    ctx.say(
        "images: "
        + (
            "; ".join(f"{h} <- {', '.join(r['loaded'])} ({r['seconds']:.1f}s)" for h, r in sent.items())
            if sent
            else "every node already has them"
        )
    )


def _push(client, registry, ref: str) -> str:
    """Push `ref` from the controller's engine; the digest the registry gave it."""
    repo, tag = registry.repo(ref, registry.push), ref.rsplit(":", 1)[1]
    client.images.get(ref).tag(repo, tag)
    try:
        digest, errors = None, []
        for line in client.api.push(repo, tag, stream=True, decode=True):
            if line.get("error"):
                errors.append(line["error"])
            digest = (line.get("aux") or {}).get("Digest") or digest
    except Exception as exc:  # the registry does not answer at all
        errors = [str(exc)]
    finally:
        client.api.remove_image(f"{repo}:{tag}", noprune=True)  # the push name only: the image stays
    if errors or not digest:
        raise PreflightError(
            f"pushing {ref} to the registry {registry.push} failed: "
            f"{'; '.join(errors)[-300:] or 'no digest came back'}",
            hint="the controller's engine must reach it: docker login for a private one, "
            "insecure-registries in /etc/docker/daemon.json for plain HTTP (127.0.0.1 "
            "needs none), or registry.push: an address it does reach",
        )
    return digest


def _through_registry(ctx: UpContext, client, registry, wanted: dict) -> None:
    """Each image pushed once from the controller; every host pulls what it may run (by
    tag, then its digest is checked) unless it has it. The stack names images by digest."""
    started = time.monotonic()
    refs = sorted({r for rs in wanted.values() for r in rs})
    digests = {r: _push(client, registry, r) for r in refs}  # one engine: one push after another
    ctx.say(f"images: pushed {', '.join(refs)} to {registry.push} in {time.monotonic() - started:.1f}s")
    pulled = {r: f"{registry.repo(r, registry.address)}:{r.rsplit(':', 1)[1]}" for r in refs}
    ctx.pinned = {r: f"{registry.repo(r, registry.address)}@{digests[r]}" for r in refs}

    def pull(host):
        def has(ref) -> bool:  # the tag there names the digest pushed
            return reads.has_digest(host, pulled[ref], ctx.pinned[ref])

        t0 = time.monotonic()
        got = []
        for ref in wanted[host.name]:
            if has(ref):
                continue
            r = host.transport.run(["docker", "pull", "-q", pulled[ref]], warn=True, timeout=900)
            if not r.ok:
                raise SwarmlabError(
                    f"docker pull {pulled[ref]}: {(r.stderr or r.stdout).strip()[-300:]} "
                    "(a plain-HTTP registry must be in the host's insecure-registries, "
                    "/etc/docker/daemon.json, and the engine reloaded)"
                )
            if not has(ref):
                raise SwarmlabError(
                    f"{pulled[ref]} on the registry is no longer what was pushed "
                    f"({digests[ref]}): another push raced this one; run up again"
                )
            got.append(pulled[ref])
        return {"loaded": got, "seconds": round(time.monotonic() - t0, 2), "via": registry.address}

    res = parallel(ctx.hosts, pull)
    errors = [f"{ctx.hosts[i].name}: {r}" for i, r in res.items() if isinstance(r, Exception)]
    if errors:
        raise SwarmlabError(f"pulling the images from {registry.address} failed:\n  " + "\n  ".join(errors))
    ctx.transfers = {ctx.hosts[i].name: r for i, r in res.items() if not isinstance(r, Exception)}
    sent = {h: r for h, r in ctx.transfers.items() if r["loaded"]}
    ctx.say(
        "images: "
        + (
            "; ".join(f"{h} pulled {', '.join(r['loaded'])} ({r['seconds']:.1f}s)" for h, r in sent.items())
            if sent
            else "every host already has them"
        )
    )


def ensure_secrets(ctx: UpContext) -> None:
    t = ctx.leader.transport
    have = set(t.run("docker secret ls --format '{{.Name}}'").stdout.split())
    for name in sorted({n for part in ctx.scenario.stacks for n in stackmod.external_secrets(part.stack)}):
        if name in have:
            continue
        value = pysecrets.token_hex(24).encode()
        t.run(
            ["docker", "secret", "create", "--label", f"{L.LAB}={ctx.lab}", "--label", f"{L.ROLE}=secret", name, "-"],
            stdin=value,
        )
        ctx.say(f"secret {name}: generated")


def ensure_files(ctx: UpContext) -> None:
    """The stack's secrets and configs made from files, created from this machine's copy
    (on stdin: the content is never on a command line). Named by their content, so a
    changed file is a new object and the services roll onto it."""
    t = ctx.leader.transport
    for kind in ("secrets", "configs"):
        objects = [f for part in ctx.scenario.stacks for f in part.files if f.kind == kind]
        if not objects:
            continue
        have = set(reads.names(t, kind[:-1], strict=True))
        for f in objects:
            if f.name not in have:
                t.run(
                    [
                        "docker",
                        kind[:-1],
                        "create",
                        "--label",
                        f"{L.LAB}={ctx.lab}",
                        "--label",
                        f"{L.ROLE}={kind[:-1]}",
                        f.name,
                        "-",
                    ],
                    stdin=f.data,
                )
                ctx.say(f"{kind[:-1]} {f.key}: created from its file as {f.name}")


def rendered_stack(ctx: UpContext, part: StackPart, taken: FrozenSet[int] = frozenset()) -> dict:
    """taken: the ports the lab's other stacks publish (a bare port here gets another)."""
    out = stackmod.render(part.stack, ctx.lab, ctx.scenario.network_names, ctx.ipvs, taken)
    for f in part.files:  # created by ensure_files: the stack finds them by name
        out[f.kind][f.key] = {"external": True, "name": f.name}
    # A rebuilt image keeps its tag, and with no registry there is no digest to pin: the
    # image id as a container label makes the task spec change, so Swarm rolls the tasks
    # onto the new image (without it, a converging `up` kept running the old one).
    for svc in out["services"].values():
        image_id = ctx.images.get(svc.get("image", ""))
        if image_id:
            svc["labels"] = {**(svc.get("labels") or {}), L.IMAGE_ID: image_id}
        if svc.get("image") in ctx.pinned:  # through a registry: the digest pushed, which each host pulled
            svc["image"] = ctx.pinned[svc["image"]]
    return out


def deploy_stack(ctx: UpContext) -> None:
    """Each stack of the lab, its own `docker stack deploy`."""
    taken = {p for part in ctx.scenario.stacks for p in stackmod.published_ports(part.stack)}
    for part in ctx.scenario.stacks:
        rendered = rendered_stack(ctx, part, frozenset(taken))
        taken |= set(stackmod.published_ports(rendered))
        text = yaml.safe_dump(for_stack_deploy(rendered), sort_keys=False).encode()
        # --resolve-image never: the images are already in every node (loaded, or pulled by
        # digest from the inventory's registry), so no registry is asked again.
        ctx.leader.transport.run(
            ["docker", "stack", "deploy", "--resolve-image", "never", "--prune", "-c", "-", part.name],
            stdin=text,
            timeout=120,
        )
        ctx.say(
            f"stack {part.name} deployed from {part.file}"
            + ("" if ctx.ipvs else " (endpoint_mode dnsrr, host-mode ports)")
        )

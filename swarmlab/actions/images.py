"""Every image the stack runs, on the controller's engine before any node exists.

Looked for in this order: swarmlab's own images (built offline), the controller's engine
(a user's `redis:7` or `acme/api:1.2` runs under its own name), a `build:` section (built
here, tagged as the stack names it), then, with --pull, the registry its name points at,
pulled by the controller. Nodes never contact a registry: what they run is loaded into
them from here (seeds, `docker load`) or pushed through the inventory's own registry."""

from __future__ import annotations

import time
from typing import Dict, List

from docker.errors import APIError, BuildError, ImageNotFound

from ..config.compose import BuildSpec
from ..errors import PreflightError, SwarmlabError
from ..images import buildkit
from ..images.build import IMAGES, REGISTRY, image_ref, run_build
from .context import UpContext


def service_images(ctx: UpContext) -> Dict[str, List[str]]:
    """image ref -> the services that run it."""
    out: Dict[str, List[str]] = {}
    for i, part in enumerate(ctx.scenario.stacks):  # the first stack's by their own names
        for name, svc in (part.stack.get("services") or {}).items():
            out.setdefault(svc["image"], []).append(f"{part.name}_{name}" if i else str(name))
    return out


def prepare(ctx: UpContext, client, pull: bool = False) -> None:
    """Build the stack's build: sections, then find (or pull) every other image; one error
    listing each image that is nowhere, with where it was looked for and the fix."""
    for spec in ctx.scenario.builds.values():
        _build(ctx, client, spec)
    built = {b.image for b in ctx.scenario.builds.values()}
    missing = []
    for ref, services in sorted(service_images(ctx).items()):
        if ref in built or _present(client, ref):
            continue
        if pull and not ref.startswith(REGISTRY + "/"):
            try:
                started = time.monotonic()
                client.images.pull(ref)
                ctx.say(f"pulled {ref} on this machine in {time.monotonic() - started:.1f}s (--pull)")
                continue
            except APIError as exc:
                missing.append(_missing(ref, services, f"--pull failed: {exc.explanation or exc}"))
                continue
        missing.append(_missing(ref, services))
    if missing:
        raise PreflightError(
            "the stack runs images this machine does not have (nodes never pull):\n  " + "\n  ".join(missing),
            hint="nothing was created; get each image onto this machine's engine, then run up again",
        )


def _present(client, ref: str) -> bool:
    try:
        client.images.get(ref)
        return True
    except ImageNotFound:
        return False


def _missing(ref: str, services: List[str], why: str = "") -> str:
    who = f"image {ref} (service {', '.join(services)})"
    if ref.startswith(REGISTRY + "/"):
        ours = ", ".join(image_ref(n) for n in IMAGES)
        return f"{who}: not one of swarmlab's own images ({ours}); name one of those, or build it here"
    looked = "looked on this machine's engine" + (f"; {why}" if why else "")
    return (
        f"{who}: {looked}. Fix: `docker pull {ref}` (with --pull, swarmlab does it here), or on a machine "
        f"that reaches its registry `docker save {ref} | ssh <this machine> docker load`, "
        "or give the service a build: section"
    )


def _build(ctx: UpContext, client, spec: BuildSpec) -> None:
    started = time.monotonic()
    start, extra, what = buildkit.how()
    ctx.say(f"building {spec.image} for service {spec.service} from {spec.context} with {what}")
    if start is not None:
        buildkit.build(spec, start, extra, ctx.say, lambda ref: _present(client, ref))
        ctx.say(f"built {spec.image} in {time.monotonic() - started:.1f}s")
        return
    ctx.warn(f"service {spec.service}'s image is built with the classic builder: {what}")
    last: List[str] = []
    try:
        run_build(
            client.api,
            last,
            path=str(spec.context),
            dockerfile=spec.dockerfile,
            tag=spec.image,
            buildargs=dict(spec.args),
            target=spec.target,
        )
    except (BuildError, APIError) as exc:
        detail = "\n    ".join(last[-6:])
        raise SwarmlabError(
            f"building {spec.image} (service {spec.service}) from {spec.context} failed: {exc}"
            + (f"\n    {detail}" if detail else ""),
            hint="the build runs on this machine with no registry: FROM an image it has",
        ) from None
    ctx.say(f"built {spec.image} in {time.monotonic() - started:.1f}s")

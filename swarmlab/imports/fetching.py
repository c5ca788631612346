"""`import --fetch-images`: the images the copy needs that this machine lacks, taken from
the source itself: `docker save` on a node that holds the image, its tar streamed over that
node's own transport (SSH, the node's namespaces, the DOCKER_HOST) straight into
`docker load` here. Nothing is pulled from a registry, by a node or by this machine."""

from __future__ import annotations

import subprocess
import time
from typing import Callable, Dict, List, Optional, Tuple

from ..observe import reads
from ..transport.base import Transport

FETCH_WITHIN = 900.0  # seconds one image may take to cross (a slow link, a big image)
SPARE = 2**30  # bytes left free on this engine's disk after an image has come
NOT_HERE = "not on this engine"


def fetch(images: List[Dict[str, str]], holders: List[Tuple[str, Transport]], say: Callable[[str], None]) -> None:
    """Each image not on this engine fetched from the first holder that has it; its "from"
    says where it came from, or why it did not."""
    for image in images:
        if image["from"].startswith(NOT_HERE):
            image["from"] = fetch_one(image["image"], holders)
            say(f"{image['image']}: {image['from']}")


def _holder(image: str, holders: List[Tuple[str, Transport]]) -> Optional[Tuple[str, Transport, int]]:
    for name, t in holders:
        size = reads.image_size(t, image)
        if size is not None:
            return name, t, size
    return None


def fetch_one(image: str, holders: List[Tuple[str, Transport]]) -> str:
    found = _holder(image, holders)
    if found is None:
        asked = ", ".join(name for name, _ in holders) or "none"
        return f"{NOT_HERE}, nor on any node of the source asked ({asked}): `docker pull` it, or `up --pull`"
    name, t, size = found
    free = reads.free_for_images()
    if free is not None and size + SPARE > free:
        return (
            f"{NOT_HERE}: {name} holds it, but it is {size / 2**20:.0f} MiB and this engine's disk has "
            f"{free / 2**20:.0f} MiB free (1 GiB is kept spare): free some space, then import again"
        )
    started = time.monotonic()
    pipe = subprocess.PIPE
    load = subprocess.Popen(["docker", "load", "-q"], stdin=pipe, stdout=subprocess.DEVNULL, stderr=pipe)
    assert load.stdin is not None and load.stderr is not None
    try:
        saved = t.run(["docker", "save", image], stdout=load.stdin, timeout=FETCH_WITHIN, warn=True)
    finally:
        load.stdin.close()  # its end of the tar: docker load finishes now
    try:
        load.wait(FETCH_WITHIN)
    except subprocess.TimeoutExpired:
        load.kill()
        load.wait()
    err = load.stderr.read()
    load.stderr.close()
    if saved.ok and load.returncode == 0:
        took = time.monotonic() - started
        return f"fetched from {name} (docker save there, docker load here: {size / 2**20:.0f} MiB in {took:.1f} s)"
    why = (saved.stderr if not saved.ok else err.decode(errors="replace")).strip().splitlines()
    return f"{NOT_HERE}: fetching it from {name} failed: {(why or ['no reason given'])[-1][:200]}"

"""Seeds: a node's image store, prepared once and shared, read-only, by every new node.

`docker load` into three inner engines at once took 11-15 s of a warm `up` on two cores
(sha256 of every layer, untar, metadata, each engine for itself). A seed is a volume
holding an inner engine's /var/lib/docker `image/` and `overlay2/` trees after loading a
set of images once. A new node mounts its seed read-only; its entrypoint copies the
metadata and links each layer's files (`diff/`) from the seed, before dockerd starts:
28-125 ms, after which the engine has its images. overlayfs only reads lower layers, so
the nodes share them; copying them instead took ~5 s a node (a new file costs ~0.25 ms
on this disk). kind bakes its images into the node image for the same reason; a seed per
image set keeps one node image and lets each node hold what its constraints let it run.

A seed is keyed by the node image's id and the ids of the images it holds, so it is never
stale; seeds holding an id that no image has any more are pruned when not in use. It is
a cache, never the truth: a node without a (complete) seed starts empty, and the image
check after it (deploy.distribute_images) loads whatever is missing."""

from __future__ import annotations

import hashlib
import time
from datetime import datetime, timezone
from typing import Dict, List, Optional, Sequence

from docker.errors import APIError, NotFound

from .. import labels as L
from ..engine import containers
from ..errors import SwarmlabError
from ..images import cache as image_cache
from ..transport import DockerExecTransport
from ..transport.group import parallel
from .base import wait_engines

ROLE_SEED = "seed"
SEED_IDS = f"{L.PREFIX}.seed-ids"  # the image ids a seed holds, comma-separated
MOUNT = "/var/lib/swarmlab-seed"  # where a node sees its seed (read-only)
COMPLETE = ".swarmlab-seed-complete"  # written last: a seed without it is never copied


def seed_key(node_image_id: str, refs: Sequence[str], ids: Dict[str, str]) -> str:
    text = node_image_id + "\n" + "\n".join(f"{r} {ids[r]}" for r in sorted(refs))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def volume_name(key: str) -> str:
    return f"swarmlab-seed-{key}"


class Seeds:
    """Find or make the seed volume for a set of images on the engine of `client`."""

    def __init__(self, client, node_image: str, host_config, say=lambda s: None, docker_host=None):
        self.client, self.docker_host = client, docker_host
        self.node_image = node_image
        self.host_config = host_config  # (api, volume, network) -> a dind node's HostConfig
        self.say = say

    def ensure(self, env: Dict[str, str], sets: Sequence[Sequence[str]]) -> Dict[tuple, Optional[str]]:
        """tuple(refs) -> seed volume for each distinct non-empty set (None when a set
        cannot be seeded: an image is not on the engine; the loads will then say why).
        Missing seeds are made at once, in parallel."""
        node_id = self.client.images.get(self.node_image).id
        out: Dict[tuple, Optional[str]] = {}
        todo = []
        for refs in sorted({tuple(sorted(s)) for s in sets if s}):
            try:
                ids = {r: self.client.images.get(r).id for r in refs}
            except NotFound:
                out[refs] = None
                continue
            out[refs] = name = volume_name(seed_key(node_id, refs, ids))
            try:
                self.client.volumes.get(name)
            except NotFound:
                todo.append((name, list(refs), ids))
        res = parallel(todo, lambda t: self._make(env, *t, node_id))
        errors = [f"{todo[i][0]}: {r}" for i, r in res.items() if isinstance(r, Exception)]
        if errors:
            raise SwarmlabError("could not make the image seeds:\n  " + "\n  ".join(errors))
        return out

    def _make(self, env: Dict[str, str], name: str, refs: List[str], ids: Dict[str, str], node_id: str) -> None:
        started = time.monotonic()
        self.client.volumes.create(
            name,
            labels={
                L.ROLE: ROLE_SEED,
                L.IMAGE_NAME: ",".join(refs),
                SEED_IDS: ",".join([node_id] + [ids[r] for r in refs]),
            },
        )
        api = self.client.api
        # A throwaway node (no network) loads the images once into the seed volume.
        cont = api.create_container(
            self.node_image,
            environment={**env, "SWARMLAB_CGROUP_PARENT": f"/{name}"},
            labels={L.ROLE: ROLE_SEED, L.IMAGE_NAME: ",".join(refs)},
            host_config=self.host_config(api, name, "none"),
        )
        try:
            api.start(cont)
            t = DockerExecTransport(cont["Id"], "seed", docker_host=self.docker_host)
            wait_engines([t], "the seed's Docker engine")
            image_cache.load_missing(t, refs, ids)
            t.run(["touch", f"/var/lib/docker/{COMPLETE}"])
        except BaseException:
            api.remove_container(cont, force=True)
            _remove_quietly(self.client, name)
            raise
        # A clean engine stop flushes everything before the seed is used.
        api.stop(cont, timeout=30)
        api.remove_container(cont, force=True)
        self.say(
            f"seed {name}: {', '.join(refs)} loaded once ({time.monotonic() - started:.1f}s), "
            "copied into each new node from now on"
        )

    def prune(self) -> int:
        """Remove seeds holding an image id no image has any more (unless a node uses them)."""
        live = image_cache.live_ids(self.client)
        removed = 0
        for v in _seed_volumes(self.client):
            held = set(((v.attrs.get("Labels") or {}).get(SEED_IDS) or "").split(","))
            if not held <= live:
                removed += _remove_quietly(self.client, v.name)
        return removed


def all_seeds(client) -> List[dict]:
    """Every seed volume: name, the images it holds, and whether a node uses it."""
    used = {
        m.get("Name") for c in containers(client, L.lab_filter(role=L.ROLE_NODE)) for m in c.attrs.get("Mounts") or []
    }
    return [
        {"volume": v.name, "images": (v.attrs.get("Labels") or {}).get(L.IMAGE_NAME, ""), "in_use": v.name in used}
        for v in _seed_volumes(client)
    ]


MAKER_STALE_S = 900  # a seed is made in a minute or two: a maker older than this was left behind


def remove_unused(client) -> int:
    """Remove every seed no node mounts (they are made again when needed), and any
    seed-making container an interrupted run left behind: stopped, or running for longer
    than a seed takes. A younger running one is another `up` making its seed now (its
    volume, in use, stays too)."""
    for c in containers(client, {"label": [f"{L.ROLE}={ROLE_SEED}"]}):
        state = c.attrs.get("State") or {}
        if not state.get("Running") or _age_s(state.get("StartedAt", "")) > MAKER_STALE_S:
            c.remove(force=True)
    return sum(_remove_quietly(client, s["volume"]) for s in all_seeds(client) if not s["in_use"])


def _age_s(stamp: str) -> float:
    """Seconds since an engine timestamp (RFC 3339 with nanoseconds); unreadable: very old."""

    try:
        when = datetime.strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc)
    except ValueError:
        return float("inf")
    return (datetime.now(timezone.utc) - when).total_seconds()


def _seed_volumes(client) -> list:
    return client.volumes.list(filters={"label": [f"{L.ROLE}={ROLE_SEED}"]})


def _remove_quietly(client, name: str) -> int:
    try:
        client.volumes.get(name).remove()
        return 1
    except NotFound:
        return 0
    except APIError:  # in use by a node: it stays until that lab is gone
        return 0

"""A cache of `docker save` tars on the controller, keyed by the image ids they hold.

A tar is made once per set of images and fed to every node that lacks that set, and to
the next lab: saving the same images again for each node and each `up` cost seconds of
CPU that the loads need. Keyed by ids, a tar is never stale; tars of ids that are no
longer any image's are removed. It is a cache, never the truth: delete it at will."""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import threading
import time
from pathlib import Path
from typing import Dict, Iterable, List

from .. import safefs
from ..errors import SwarmlabError
from ..shell import sh

_lock = threading.Lock()


def cache_dir() -> Path:
    base = os.environ.get("SWARMLAB_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "swarmlab"
    )
    return Path(base) / "images"


def tar_for(refs: List[str], ids: Dict[str, str]) -> Path:
    """The tar holding exactly these images (ref -> id), saved now if not cached."""
    key = hashlib.sha256("\n".join(f"{r} {ids[r]}" for r in sorted(refs)).encode()).hexdigest()[:24]
    path = cache_dir() / f"{key}.tar"
    with _lock:  # one save per set, even when several nodes want it at once
        if path.exists():
            return path
        safefs.private_dir(path.parent)
        os.chmod(path.parent, 0o700)  # a cache made by an older swarmlab was world-readable
        # a name of this process's own: another swarmlab may be saving the same set now
        tmp = path.with_name(f"{key}.{os.getpid()}.{secrets.token_hex(4)}.partial")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "wb") as out:
            proc = subprocess.run(["docker", "save", *sorted(refs)], stdout=out, stderr=subprocess.PIPE)
        if proc.returncode != 0:
            tmp.unlink(missing_ok=True)
            raise SwarmlabError(f"docker save {' '.join(refs)} failed: {proc.stderr.decode().strip()[-300:]}")
        safefs.write_file(path.parent / f"{key}.ids", "\n".join(ids[r] for r in sorted(refs)))
        os.replace(tmp, path)
        return path


def live_ids(client) -> set:
    """The ids of the engine's images, in one call. Not `client.images.list()`: it inspects
    each image it listed, and one removed meanwhile (by another `up`, or by hand) made it fail."""
    return set(client.api.images(quiet=True))


def prune(live_ids: Iterable[str]) -> int:
    """Remove tars holding an image id that no image has any more, and what a save
    interrupted an hour ago or more left."""
    live = set(live_ids)
    removed = 0
    for partial in cache_dir().glob("*.partial") if cache_dir().exists() else []:
        if time.time() - partial.stat().st_mtime > 3600:
            partial.unlink(missing_ok=True)
    for ids_file in cache_dir().glob("*.ids") if cache_dir().exists() else []:
        if not set(ids_file.read_text().split()) <= live:
            ids_file.with_suffix(".tar").unlink(missing_ok=True)
            ids_file.unlink(missing_ok=True)
            removed += 1
    return removed


def load_missing(transport, refs: List[str], ids: Dict[str, str]) -> List[str]:
    """`docker load` into the engine behind `transport` those of `refs` (ref -> id in
    ids) whose id it lacks, from the cached tar; returns what was loaded."""
    if not refs:
        return []
    missing = lacking(transport, refs, ids)
    if missing:
        tar = tar_for(missing, ids)
        try:
            stream = open(tar, "rb")
        except FileNotFoundError:  # pruned just now by another swarmlab's `images prune`: saved again
            stream = open(tar_for(missing, ids), "rb")
        with stream:
            transport.run("docker load -q", stdin=stream, timeout=900)
        wrong = lacking(transport, missing, ids)
        if wrong:  # the tar did not hold what its key says: never trusted again
            tar.unlink(missing_ok=True)
            raise SwarmlabError(
                f"the cached tar {tar} did not give the images it is kept for ({', '.join(wrong)}): "
                "it was removed; run the command again to save them anew"
            )
    return missing


def lacking(transport, refs: List[str], ids: Dict[str, str]) -> List[str]:
    """Those of refs whose image id (ids) the engine behind transport does not have."""
    have = transport.run(sh("docker", "image", "inspect", "--format", "{{.Id}}", refs) + " 2>/dev/null; true")
    return [ref for ref in refs if ids[ref] not in set(have.stdout.split())]

"""Build the lab's images without a registry.

base:   `debootstrap --variant=minbase bookworm` (no mirror argument: its default or the
        host's apt sources are right) + `docker import`, apt lists and caches removed.
others: the Dockerfiles in context/<name>/, FROM the build arg BASE, so a user with a
        registry can pass debian:bookworm-slim instead. Debian packages, never pip.

An image is rebuilt only when its content hash (its context files, the base image id)
differs from the hash label of the image already there.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional

import docker
from docker.errors import APIError, BuildError, ImageNotFound

from .. import labels as L
from ..errors import PreflightError, SwarmlabError
from ..progress import Say

REGISTRY = "swarmlab.local"  # fully qualified: no node ever asks a public registry
TAG = "bookworm"
BASE_IMAGE = f"{REGISTRY}/base:{TAG}"
IMAGES = ("node", "web", "db", "redis", "tools")
CONTEXT = Path(__file__).parent / "context"
DEBOOTSTRAP_ARGS = ("--variant=minbase", "bookworm")
# Files no lab image needs; dpkg is told to skip them in every later install too.
NODOC = """path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
path-exclude=/usr/share/zoneinfo/right/*
"""
BASE_RECIPE = " ".join(DEBOOTSTRAP_ARGS) + NODOC  # changing it rebuilds the base


def image_ref(name: str) -> str:
    return f"{REGISTRY}/{name}:{TAG}"


def context_hash(name: str, base_id: str) -> str:
    h = hashlib.sha256(base_id.encode())
    root = CONTEXT / name
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


@dataclass
class BuildOutcome:
    name: str
    ref: str
    built: bool
    seconds: float
    image_id: str


def _slim(root: Path) -> None:
    """Remove apt lists and caches, docs, man pages and translations from a rootfs."""
    # zoneinfo/right: leap-second zones nothing here uses (600 files every node would load)
    for junk in (
        "var/lib/apt/lists",
        "var/cache/apt",
        "usr/share/man",
        "usr/share/info",
        "usr/share/locale",
        "usr/share/zoneinfo/right",
    ):
        for p in (root / junk).rglob("*"):
            if p.is_file() and p.name != "locale.alias" and p.parent.name != "partial":
                p.unlink()
    for p in (root / "usr/share/doc").rglob("*"):
        if p.is_file() and p.name != "copyright":
            p.unlink()
    cfg = root / "etc/dpkg/dpkg.cfg.d/01-swarmlab-nodoc"
    cfg.write_text(NODOC)


def run_build(api, last: List[str], **kwargs) -> None:
    """One build through the engine's API, its last output lines kept in `last`; a failed
    step is a BuildError. The API's builder is the legacy one (no BuildKit here);
    forcerm leaves no intermediate container behind, even when a step fails."""
    for chunk in api.build(rm=True, forcerm=True, decode=True, **kwargs):
        if "error" in chunk:
            raise BuildError(chunk["error"].strip(), last)
        line = (chunk.get("stream") or "").strip()
        if line:
            last[:] = (last + [line])[-8:]


class ImageBuilder:
    def __init__(self, client: docker.DockerClient, base: Optional[str] = None, say: Say = lambda s: None):
        self.client = client
        self.base = base or os.environ.get("SWARMLAB_BASE_IMAGE") or BASE_IMAGE
        self.say = say

    # -- queries ---------------------------------------------------------
    def _image(self, ref: str):
        try:
            return self.client.images.get(ref)
        except ImageNotFound:
            return None

    def status(self) -> List[Dict[str, str]]:
        rows = []
        for name in ("base",) + IMAGES:
            ref = BASE_IMAGE if name == "base" else image_ref(name)
            img = self._image(ref)
            rows.append(
                {
                    "name": name,
                    "ref": ref,
                    "id": img.short_id.split(":")[-1] if img else "",
                    "size_mb": f"{img.attrs['Size'] / 1e6:.0f}" if img else "",
                    "hash": (img.labels or {}).get(L.IMAGE_HASH, "") if img else "",
                    "created": img.attrs["Created"][:19] if img else "missing",
                }
            )
        return rows

    # -- base ------------------------------------------------------------
    def ensure_base(self, rebuild: bool = False) -> str:
        if self.base != BASE_IMAGE:  # the user brings a base from a registry
            img = self._image(self.base)
            if img is None:
                raise PreflightError(
                    f"base image {self.base} is not on the engine",
                    hint=f"docker pull {self.base}, or unset SWARMLAB_BASE_IMAGE",
                )
            return img.id
        want = hashlib.sha256(BASE_RECIPE.encode()).hexdigest()[:16]
        img = self._image(BASE_IMAGE)
        if img is not None and not rebuild and (img.labels or {}).get(L.IMAGE_HASH) == want:
            return img.id
        if shutil.which("debootstrap") is None:
            raise PreflightError(
                "debootstrap is needed to build the base image offline",
                hint="apt-get install debootstrap (scripts/setup.sh does), or set "
                "SWARMLAB_BASE_IMAGE=debian:bookworm-slim if a registry is reachable",
            )
        if os.geteuid() != 0:
            raise PreflightError("debootstrap needs root to build the base image", hint="run as root")
        started = time.monotonic()
        self.say(f"building {BASE_IMAGE} with debootstrap {' '.join(DEBOOTSTRAP_ARGS)} (about 30-60 s)")
        with tempfile.TemporaryDirectory(prefix="swarmlab-rootfs-") as tmp:
            root = Path(tmp) / "rootfs"
            proc = subprocess.run(["debootstrap", *DEBOOTSTRAP_ARGS, str(root)], capture_output=True, text=True)
            if proc.returncode != 0:
                tail = "\n    ".join((proc.stdout + proc.stderr).strip().splitlines()[-6:])
                raise SwarmlabError(f"debootstrap failed (exit {proc.returncode}):\n    {tail}")
            _slim(root)
            tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
            imp = subprocess.run(
                [
                    "docker",
                    "import",
                    "--change",
                    'CMD ["/bin/bash"]',
                    "--change",
                    f"LABEL {L.IMAGE_HASH}={want} {L.IMAGE_NAME}=base",
                    "-",
                    BASE_IMAGE,
                ],
                stdin=tar.stdout,
                capture_output=True,
                text=True,
            )
            if tar.stdout is not None:
                tar.stdout.close()
            tar.wait()
            if imp.returncode != 0 or tar.returncode != 0:
                raise SwarmlabError(f"docker import of the base failed: {imp.stderr.strip()}")
        self.say(f"built {BASE_IMAGE} in {time.monotonic() - started:.0f}s")
        return self.client.images.get(BASE_IMAGE).id

    # -- the lab's images ------------------------------------------------
    def build(self, names=IMAGES, rebuild: bool = False) -> List[BuildOutcome]:
        base_id = self.ensure_base(rebuild=rebuild)
        out = []
        for name in names:
            out.append(self._build_one(name, base_id, rebuild))
        return out

    def _build_one(self, name: str, base_id: str, rebuild: bool) -> BuildOutcome:
        ref = image_ref(name)
        want = context_hash(name, base_id)
        img = self._image(ref)
        if img is not None and not rebuild and (img.labels or {}).get(L.IMAGE_HASH) == want:
            return BuildOutcome(name, ref, False, 0.0, img.id)
        started = time.monotonic()
        self.say(f"building {ref}")
        last: List[str] = []
        try:
            run_build(
                self.client.api,
                last,
                path=str(CONTEXT / name),
                tag=ref,
                buildargs={"BASE": self.base},
                labels={L.IMAGE_HASH: want, L.IMAGE_NAME: name},
            )
        except (BuildError, APIError) as exc:
            detail = "\n    ".join(str(x) for x in last[-6:])
            raise SwarmlabError(
                f"building {ref} failed: {exc}\n    {detail}",
                hint="the Dockerfiles install Debian packages from the apt mirror: check that containers reach it",
            ) from None
        new = self.client.images.get(ref)
        if img is not None and img.id != new.id:
            try:  # the previous build, now untagged: do not leave it dangling
                self.client.images.remove(img.id)
            except APIError:
                pass  # still used by a container; `docker image prune` will get it later
        img = new
        secs = time.monotonic() - started
        self.say(f"built {ref} in {secs:.0f}s")
        return BuildOutcome(name, ref, True, secs, img.id)

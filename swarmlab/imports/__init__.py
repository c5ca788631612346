"""`swarmlab import SOURCE -o DIR`: the files that make a copy of a running lab, written
from what its manager holds (observe/specs.py). DIR gets scenario.yaml, one file per stack,
configs/ (their content: configs are not secret) and .env.example (the environment
values that look secret, by name only). Everything is checked as `up` will check it,
Docker's own verdict included, before DIR exists; then DIR appears whole, or not at all."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import yaml

from .. import grammar
from .. import labels as L
from ..config.loader import load_scenario
from ..images.build import REGISTRY
from ..errors import EXIT_CONFIG, EXIT_PREFLIGHT, ConfigError, LabNotFound, Problem, SwarmlabError
from ..observe.running import open_lab
from ..observe.specs import Specs, network_name, read_specs, read_swarm
from ..providers.base import Provider
from .fetching import NOT_HERE, fetch
from .scenario import node_plan, scenario
from .stack import Written, write_stack

HEADER = "# Written by `swarmlab import` from the lab {source}. Edit freely: it is yours now.\n"


LOOSE = "services"  # the stack of the services made without one, beside the source's stacks


def _by_stack(specs: Specs, notes: List[str]) -> List[Tuple[str, List[dict]]]:
    """The source's services by their stack, each stack's in its own file; those made
    without a stack go in one of their own (named app where there is no other)."""
    by: Dict[str, List[dict]] = {}
    for s in specs.services:
        by.setdefault(((s.get("Spec") or {}).get("Labels") or {}).get(L.STACK, ""), []).append(s)
    loose = by.pop("", [])
    if loose:
        name = LOOSE if by else "app"
        while name in by:
            name += "-own"
        if by:
            notes.append(f"{len(loose)} service(s) made without a stack: in {name}.yml, deployed as the stack {name}")
        by[name] = loose
    for name in by:
        if grammar.STACK.problem(name):  # it names the stack file: never a path out of the folder
            raise SwarmlabError(f"the source holds a {grammar.STACK.problem(name)}", EXIT_CONFIG)
    return sorted(by.items())


def _one_short_name_each(written: Written, services: List[dict], stack: str) -> None:
    if len(written.stack.get("services") or {}) < len(services):
        raise SwarmlabError(
            f"two of the source's services have the same name in {stack}.yml; one stack file cannot hold both",
            hint="rename one in the source",
        )


def _networks_merged(specs: Specs) -> List[str]:
    """Networks of different stacks with one short name (shop_back, tools_back): the copy
    has one network of that name, so what the source kept apart is joined; said, not hidden."""
    by: Dict[str, List[str]] = {}
    for n in specs.networks:
        by.setdefault(network_name(n), []).append(n.get("Name", ""))
    return [
        f"networks {', '.join(sorted(full))} are one network {short} in the copy: their services can reach each other"
        for short, full in sorted(by.items())
        if len(full) > 1
    ]


def _merged(parts: List[Written]) -> Written:
    """What the files beside the stack files need, from every stack's."""
    out = Written()
    for w in parts:
        for var, svcs in w.hidden.items():
            out.hidden.setdefault(var, []).extend(svcs)
        out.configs.update(w.configs)
        for image, digest in w.images.items():
            out.images.setdefault(image, digest)
        out.binds += w.binds
        out.notes += w.notes
        out.pinned = out.pinned or w.pinned
    return out


def build(source: str, specs: Specs, keep_subnets: bool = False) -> Dict[str, Any]:
    """The files of the copy (name -> text or bytes) and what `import` says of them."""
    if not specs.services:
        raise SwarmlabError(f"lab {source} runs no service: there is nothing to copy but nodes")
    order, where = node_plan(specs)
    notes: List[str] = _networks_merged(specs)
    files: Dict[str, Any] = {}
    parts = []
    for name, services in _by_stack(specs, notes):
        written = write_stack(services, specs.networks, where, specs.configs)
        _one_short_name_each(written, services, name)
        files[f"{name}.yml"] = HEADER.format(source=source) + yaml.safe_dump(written.stack, sort_keys=False, width=1000)
        parts.append(written)
    every = _merged(parts)
    stacks = [(f, f[: -len(".yml")]) for f in files]
    files["scenario.yaml"] = HEADER.format(source=source) + yaml.safe_dump(
        scenario(source, specs, order, stacks, keep_subnets, every.pinned), sort_keys=False
    )
    for name, data in sorted(every.configs.items()):
        files[f"configs/{name}"] = data
    if every.hidden:
        files[".env.example"] = "".join(
            f"# used by {', '.join(sorted(set(svcs)))}; its value was not copied\n{var}=\n"
            for var, svcs in sorted(every.hidden.items())
        )
    return {
        "files": files,
        "hidden": sorted(every.hidden),
        "images": [{"image": i, "digest": d} for i, d in sorted(every.images.items())],
        "binds": every.binds,
        "notes": notes + every.notes,
    }


def _refuse_existing(dest: Path) -> None:
    if os.path.lexists(dest):
        raise ConfigError(
            [Problem(str(dest), "", "already exists: import writes a new folder whole; give one that does not exist")],
            "the output folder",
        )


def write(dest: Path, built: Dict[str, Any]) -> None:
    """The files checked as `up` will check them (Docker's verdict included), then moved
    to dest in one rename: dest appears whole, or not at all."""
    dest = Path(dest)
    _refuse_existing(dest)
    parent = dest.parent
    parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=parent))
    try:
        for rel, data in built["files"].items():
            path = staging / rel
            if staging.resolve() not in path.resolve().parents:
                raise SwarmlabError(f"{rel!r} would be written outside {dest}: refused", EXIT_CONFIG)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data if isinstance(data, bytes) else data.encode())
        try:
            load_scenario(staging / "scenario.yaml", host_access=bool(built["binds"]))
        except ConfigError as exc:
            shown = "; ".join(f"{p.path or p.file}: {p.message}" for p in exc.problems[:5])
            raise SwarmlabError(
                f"the copy would be refused by swarmlab or Docker, so nothing was written: {shown}",
                hint="this is a bug of import unless the source itself holds it; please report it",
            ) from None
        _refuse_existing(dest)
        os.rename(staging, dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _read(source: str, provider: Provider) -> Specs:
    """The source's specs; a source that is not there is bad input (exit 2), one that
    cannot answer as a manager is a machine that cannot do it (exit 3)."""
    try:
        lab = open_lab(source, provider)
    except LabNotFound as exc:
        raise SwarmlabError(exc.message, EXIT_CONFIG, exc.hint) from None
    try:
        return read_specs(lab)
    except SwarmlabError as exc:
        raise SwarmlabError(
            f"lab {source} cannot be read as a swarm: {exc.message}", EXIT_PREFLIGHT, exc.hint
        ) from None


def read_endpoint(t) -> Specs:
    """A whole swarm behind a docker context or DOCKER_HOST; one that does not answer, is
    no swarm or is a worker is a machine that cannot do it (exit 3)."""
    try:
        return read_swarm(t)
    except SwarmlabError as exc:
        raise SwarmlabError(exc.message, EXIT_PREFLIGHT, "give a manager of the swarm to copy") from None


def where_from(image: str, provider: Provider) -> str:
    """Where the copy's `up` will find an image: nothing is pulled by a node."""
    if image.startswith(f"{REGISTRY}/"):
        return "swarmlab builds it"
    try:
        provider.client.images.get(image)
        return "on this engine"
    except Exception:  # not found, or no engine: either way not here
        return f"{NOT_HERE}: `import --fetch-images` copies it from the source's nodes, `up --pull` pulls it here"


def run(
    source: str,
    provider: Provider,
    dest: Path,
    keep_subnets: bool = False,
    endpoint=None,
    fetch_images: bool = False,
    say: Callable[[str], None] = lambda s: None,
) -> Dict[str, Any]:
    """endpoint: a transport to a manager swarmlab did not make (its whole swarm is read;
    source then only names the copy). fetch_images: once the files are written, each image
    this engine lacks is copied from a node of the source that holds it (fetching.py)."""
    specs = read_endpoint(endpoint) if endpoint is not None else _read(source, provider)
    built = build(source, specs, keep_subnets)
    for image in built["images"]:
        image["from"] = where_from(image["image"], provider)
    write(dest, built)
    if fetch_images:
        holders = (
            [(endpoint.host, endpoint)]
            if endpoint is not None
            else [(h.name, h.transport) for h in open_lab(source, provider).running]
        )
        fetch(built["images"], holders, say)
    return {
        "source": source,
        "dir": str(dest),
        "files": sorted(built["files"]),
        **{k: built[k] for k in ("hidden", "images", "binds", "notes")},
    }

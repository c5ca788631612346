"""`swarmlab import SOURCE -o DIR`: the files that make a copy of a running lab, written
from what its manager holds (observe/specs.py). DIR gets scenario.yaml, the stack file,
configs/ (their content: configs are not secret) and .env.example (the environment
values that look secret, by name only). Everything is checked as `up` will check it,
Docker's own verdict included, before DIR exists; then DIR appears whole, or not at all."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable, Dict, List

import yaml

from .. import grammar
from .. import labels as L
from ..config.loader import load_scenario
from ..images.build import REGISTRY
from ..errors import EXIT_CONFIG, EXIT_PREFLIGHT, ConfigError, LabNotFound, Problem, SwarmlabError
from ..observe.running import open_lab
from ..observe.specs import Specs, read_specs, read_swarm
from ..providers.base import Provider
from .fetching import NOT_HERE, fetch
from .scenario import node_plan, scenario
from .stack import Written, write_stack

HEADER = "# Written by `swarmlab import` from the lab {source}. Edit freely: it is yours now.\n"


def _stack_name(specs: Specs, notes: List[str]) -> str:
    stacks = sorted({(s.get("Spec") or {}).get("Labels", {}).get(L.STACK, "") for s in specs.services} - {""})
    if len(stacks) > 1:
        notes.append(f"the source has {len(stacks)} stacks ({', '.join(stacks)}); the copy deploys them as one")
    name = stacks[0] if stacks else "app"
    if grammar.STACK.problem(name):  # it names the stack file: never a path out of the folder
        raise SwarmlabError(f"the source holds a {grammar.STACK.problem(name)}", EXIT_CONFIG)
    return name


def _one_short_name_each(written: Written, specs: Specs) -> None:
    if len(written.stack.get("services") or {}) < len(specs.services):
        raise SwarmlabError(
            "two of the source's services have the same name in different stacks; one stack file cannot hold both",
            hint="rename one in the source, or import the stacks one at a time",
        )


def build(source: str, specs: Specs, keep_subnets: bool = False) -> Dict[str, Any]:
    """The files of the copy (name -> text or bytes) and what `import` says of them."""
    if not specs.services:
        raise SwarmlabError(f"lab {source} runs no service: there is nothing to copy but nodes")
    order, where = node_plan(specs)
    notes: List[str] = []
    stack_name = _stack_name(specs, notes)
    written = write_stack(specs.services, specs.networks, where, specs.configs)
    _one_short_name_each(written, specs)
    notes += written.notes
    stack_file = f"{stack_name}.yml"
    files: Dict[str, Any] = {
        "scenario.yaml": HEADER.format(source=source)
        + yaml.safe_dump(
            scenario(source, specs, order, (stack_file, stack_name), keep_subnets, written.pinned), sort_keys=False
        ),
        stack_file: HEADER.format(source=source) + yaml.safe_dump(written.stack, sort_keys=False, width=1000),
    }
    for name, data in sorted(written.configs.items()):
        files[f"configs/{name}"] = data
    if written.hidden:
        files[".env.example"] = "".join(
            f"# used by {', '.join(sorted(set(svcs)))}; its value was not copied\n{var}=\n"
            for var, svcs in sorted(written.hidden.items())
        )
    return {
        "files": files,
        "hidden": sorted(written.hidden),
        "images": [{"image": i, "digest": d} for i, d in sorted(written.images.items())],
        "binds": written.binds,
        "notes": notes,
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

"""The corpus of malformed and hostile input (tests/data/invalid, issue #12): each file's
kind comes from its name, its expected problems from its `# expect:` lines; and how a
user meets each one on the command line."""
from __future__ import annotations

from pathlib import Path
from typing import List, Tuple

from .conftest import P

INVALID = Path(__file__).resolve().parent / "data" / "invalid"
KINDS = ("scenario", "stack", "inventory", "ansible", "vagrant")

SCENARIO_FOR_STACK = """apiVersion: swarmlab/v1
kind: Scenario
name: itest-corpus
nodes: {{managers: 1, workers: 2, labels: {{node-1: {{tier: app}}, node-2: {{tier: app}}, node-3: {{tier: data}}}}}}
networks: {{frontend: {{}}, backend: {{}}}}
stack: {{file: {stack}}}
wait: {{http: null}}
"""


def corpus() -> List[Path]:
    return sorted(p for p in INVALID.iterdir() if p.name.split("-", 1)[0] in KINDS)


def kind_of(path: Path) -> str:
    return path.name.split("-", 1)[0]


def expectations(path: Path) -> List[str]:
    raw = path.read_bytes()
    text = raw.decode("utf-16") if raw[:2] in (b"\xff\xfe", b"\xfe\xff") else raw.decode("utf-8", "replace")
    return [line.split(":", 1)[1].strip() for line in text.splitlines() if line.startswith("# expect:")]


def wrap_stack(stack: Path, tmp: Path) -> Path:
    """A good scenario around a bad stack file (the stack is what is tested)."""
    scenario = tmp / f"scenario-for-{stack.stem}.yaml"
    scenario.write_text(SCENARIO_FOR_STACK.format(stack=stack))
    return scenario


def cli_args(path: Path, tmp: Path) -> Tuple[List[str], dict]:
    """The command a user would run on the file, and the environment it needs."""
    kind = kind_of(path)
    if kind == "scenario":
        return ["up", str(path)], {}
    if kind == "stack":
        return ["up", str(wrap_stack(path, tmp)), "--name", f"{P}-corpus"], {}
    if kind in ("inventory", "ansible"):
        return ["inventory", "check", str(path)], {}
    return ["up", "--provider", "vagrant"], {"SWARMLAB_VAGRANT_LAB": str(path)}


def load(path: Path, tmp: Path) -> None:
    """The library call behind cli_args (raises ConfigError for every corpus file)."""
    from swarmlab.config import load_scenario
    from swarmlab.config.inventory import load_inventory
    from swarmlab.providers.vagrant_config import load_config

    kind = kind_of(path)
    if kind == "scenario":
        load_scenario(path)
    elif kind == "stack":
        load_scenario(wrap_stack(path, tmp))
    elif kind in ("inventory", "ansible"):
        load_inventory(path)
    else:
        load_config(path.parent, {"SWARMLAB_VAGRANT_LAB": str(path)})

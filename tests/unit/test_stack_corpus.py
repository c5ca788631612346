"""Real stacks as Docker takes them (issue #31): a corpus of stack files in the shapes of
public samples (tests/data/stacks/corpus, written here), each judged by the controller's
own `docker stack deploy` (no daemon to reach: its loader's verdict) and by swarmlab. They
must agree on every file, except where a file says it is one of swarmlab's documented
exceptions:

- `# swarmlab: extension build-only`: a service with build: and no image (swarmlab builds
  it and names it; Docker alone wants an image);
- `# swarmlab: host-access`: Docker takes it; a sealed lab refuses it until --host-access,
  and then takes it too."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Dict, Set, Tuple

import pytest
from dotenv import dotenv_values

from swarmlab.config.docker_check import clients
from swarmlab.config.from_stack import load_stack
from swarmlab.config.loader import Flags
from swarmlab.errors import ConfigError

CORPUS = Path(__file__).resolve().parents[1] / "data" / "stacks" / "corpus"
FILES = sorted(CORPUS.glob("*.yml"))
_REACHED = ("Cannot connect to the Docker daemon", "error during connect")


def directives(path: Path) -> Set[str]:
    return {w for line in path.read_text().splitlines() if line.startswith("# swarmlab:")
            for w in line.split(":", 1)[1].split()}


def docker_says(path: Path) -> Tuple[bool, str]:
    """(accepted, what it said) by the first docker client on PATH, run on the file as a user
    would run it: from its folder, with its .env exported, no daemon to reach."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")}
    env.update({k: v for k, v in dotenv_values(CORPUS / ".env").items() if v is not None})
    env.update(DOCKER_HOST="unix:///nonexistent/corpus.sock", DOCKER_CONFIG=str(CORPUS / "files"))
    proc = subprocess.run([clients()[0][0], "stack", "deploy", "-c", path.name, "corpus"], cwd=CORPUS, env=env,
                          capture_output=True, text=True, timeout=60)
    said = (proc.stderr + proc.stdout).strip()
    return any(s in said for s in _REACHED), said.splitlines()[-1] if said else ""


def swarmlab_says(path: Path, host_access: bool) -> Tuple[bool, str]:
    try:
        load_stack(path, Flags(name="corpus", host_access=host_access))
    except ConfigError as exc:
        return False, "; ".join(str(p) for p in exc.problems)
    return True, ""


def test_the_corpus_is_large_and_has_every_shape():
    assert len(FILES) >= 40
    heads = " ".join(p.read_text().split("\n", 2)[0] for p in FILES).lower()
    for shape in ("one service", "build:", "3.0", "3.9", "depends_on", "host network", "global", "configs",
                  "secret", ".env", "sysctls", "host ip", "bare container port", "engine socket"):
        assert shape in heads or any(shape in p.read_text().lower() for p in FILES), shape


def test_swarmlabs_verdict_is_dockers_on_every_file():
    disagree: Dict[str, str] = {}
    for path in FILES:
        marks = directives(path)
        docker_ok, docker_said = docker_says(path)
        if "build-only" in marks:
            docker_ok = True   # swarmlab's extension: it builds the image Docker wants named
        ours_ok, ours_said = swarmlab_says(path, host_access="host-access" in marks)
        if ours_ok != docker_ok:
            disagree[path.name] = f"docker {'takes' if docker_ok else 'refuses'} it ({docker_said}); " \
                                  f"swarmlab {'takes' if ours_ok else 'refuses'} it ({ours_said})"
    assert not disagree, "\n".join(f"{k}: {v}" for k, v in disagree.items())


@pytest.mark.parametrize("path", [p for p in FILES if "host-access" in directives(p)], ids=lambda p: p.name)
def test_what_reaches_the_node_is_refused_until_host_access(path):
    ok, said = swarmlab_says(path, host_access=False)
    assert not ok and "--host-access" in said, said


def test_a_refusal_by_docker_points_at_the_line():
    with pytest.raises(ConfigError) as info:
        load_stack(CORPUS / "14-depends-on-long-form.yml", Flags(name="corpus"))
    (p,) = info.value.problems
    assert p.path == "services.web.depends_on" and p.line == 5 and "must be a list" in p.message

"""schemas/*.json are the schemas swarmlab checks with, written out for editors: the
committed files match the code, and every shipped file that names one validates against
it as an editor would validate it (a standard JSON Schema validator, nothing of ours)."""
import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from swarmlab.schemas import OUT, documents, text

ROOT = Path(__file__).resolve().parents[2]
NAMED = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.M)


def test_the_committed_schemas_are_the_code_s():
    for kind, doc in documents().items():
        path = OUT / f"{kind}.json"
        assert path.is_file() and path.read_text() == text(doc), \
            f"{path} lags behind the code: python3 -m swarmlab.schemas writes it again"


SHIPPED = sorted(p for d in ("scenarios", "scenarios/lessons", "scenarios/drills", "inventories")
                 for p in (ROOT / d).glob("*.yaml") if NAMED.search(p.read_text()))


def test_the_shipped_files_name_their_schema():
    names = {p.relative_to(ROOT).as_posix() for p in SHIPPED}
    assert {"scenarios/default.yaml", "scenarios/lessons/10-user-network.yaml", "scenarios/drills/20-drain.yaml",
            "inventories/example.yaml"} <= names
    assert len([n for n in names if n.startswith("scenarios/drills/")]) == len(list((ROOT / "scenarios/drills").glob("*.yaml")))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_a_shipped_file_validates_as_an_editor_would(path):
    schema = json.loads((path.parent / NAMED.search(path.read_text()).group(1)).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(yaml.safe_load(path.read_text()))
    bad = {**yaml.safe_load(path.read_text()), "colour": "blue"}
    with pytest.raises(jsonschema.ValidationError, match="colour"):
        jsonschema.Draft202012Validator(schema).validate(bad)


def test_shell_completion_offers_commands_and_ids():
    import os
    import subprocess
    import sys

    def complete(words, cword):
        env = {**os.environ, "COMP_WORDS": words, "COMP_CWORD": str(cword), "_SWARMLAB_COMPLETE": "bash_complete"}
        return subprocess.run([sys.executable, "-c", "from swarmlab.cli.main import main; main()"], env=env,
                              capture_output=True, text=True, timeout=60).stdout.split()

    assert "plain,drill" in complete("swarmlab dr", 1)
    assert complete("swarmlab drill run failing", 3) == ["plain,failing-update"]
    assert complete("swarmlab lesson start vx", 3) == ["plain,vxlan-blocked"]

"""The JSON Schemas of the files people write (scenario, inventory, lesson, drill), as
files in schemas/ for editors: a YAML file that names one in its first line

    # yaml-language-server: $schema=../schemas/scenario.json

is checked while it is typed (VS Code's YAML extension, Neovim's yamlls, JetBrains). They
are the very schemas swarmlab checks with, written out; `python3 -m swarmlab.schemas`
writes them again, and a test fails when a committed file lags behind the code."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Dict

from .config.inventory import SCHEMA as INVENTORY
from .config.schema import SCENARIO_SCHEMA
from .drills.model import SCHEMA as DRILL
from .lessons.model import SCHEMA as LESSON

OUT = Path(__file__).resolve().parents[1] / "schemas"
TITLES = {
    "scenario": "swarmlab scenario (kind: Scenario)",
    "inventory": "swarmlab SSH inventory",
    "lesson": "swarmlab lesson (kind: Lesson)",
    "drill": "swarmlab drill (kind: Drill)",
}


def documents() -> Dict[str, dict]:
    out = {}
    for kind, schema in (("scenario", SCENARIO_SCHEMA), ("inventory", INVENTORY), ("lesson", LESSON), ("drill", DRILL)):
        out[kind] = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": f"swarmlab/{kind}.json",
            "title": TITLES[kind],
            **schema,
        }
    return out


def text(doc: dict) -> str:
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(out: Path = OUT) -> None:
    out.mkdir(exist_ok=True)
    for kind, doc in documents().items():
        (out / f"{kind}.json").write_text(text(doc))
        print(f"{out / kind}.json", file=sys.stderr)


if __name__ == "__main__":
    main()

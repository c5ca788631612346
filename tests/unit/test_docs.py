"""The docs: they build strictly and offline, one page per command, the architecture page
is the code's import graph, and the README stays a front door."""
import ast
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import click

from swarmlab.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"


def test_the_docs_build_strictly(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-q", "-d", str(tmp_path / "site")],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = (tmp_path / "site" / "cmd" / "up.html").read_text()
    assert "--stack" in page and "--host-access" in page, "the reference part comes from the command itself"


def test_every_command_has_its_page_and_its_line_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    nav = (ROOT / "mkdocs.yml").read_text()
    for name, command in cli.commands.items():
        page = DOCS / "cmd" / f"{name}.md"
        assert page.is_file(), f"no page for `swarmlab {name}`"
        assert f"cmd/{name}.md" in nav, f"mkdocs.yml's nav lacks {name}"
        assert f"[`{name}`](docs/cmd/{name}.md)" in readme, f"README has no line for {name}"
        assert isinstance(command, click.Command)


def test_the_readme_is_a_front_door():
    lines = (ROOT / "README.md").read_text().splitlines()
    assert len(lines) <= 150, len(lines)
    commands = [x for x in lines if x.startswith("./scripts/")]
    assert [c.split("#")[0].split("&&")[-1].strip() for c in commands] == [
        "python3 -m swarmlab report", "python3 -m pytest -q"], commands


def test_no_tracker_numbers_or_one_off_timings_in_the_docs():
    for page in [*DOCS.glob("*.md"), *DOCS.glob("cmd/*.md"), ROOT / "README.md"]:
        if page.is_symlink():     # docs/results.md is bench/RESULTS.md: where figures live
            continue
        text = page.read_text()
        assert not re.search(r"issue #?\d+|#\d{2}\b", text, re.I), page
        timing = r"\b\d+(\.\d+)? / \d+(\.\d+)? / \d+(\.\d+)? s\b|\bmin / median / max\b|\d[–-]\d+(\.\d+)? (s|ms|min)\b"
        assert not re.search(timing, text), (page, re.search(timing, text))


def import_graph() -> dict:
    """Each part of swarmlab/ (a top-level module or package) and the parts it imports."""
    src = ROOT / "swarmlab"
    edges = defaultdict(set)
    for path in src.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        package = parts[:-1]      # a module's package, and an __init__'s own
        me = parts[1] if len(parts) > 1 else parts[0]
        for node in ast.walk(ast.parse(path.read_text())):
            for target in _targets(node, package):
                if target[:1] == ("swarmlab",) and len(target) > 1 and target[1] != me:
                    edges[me].add(target[1])
    return {k: sorted(v) for k, v in edges.items()}


def _targets(node, package):
    if isinstance(node, ast.Import):
        return [tuple(a.name.split(".")) for a in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if not node.level:
        return [tuple((node.module or "").split("."))]
    base = package[:len(package) - (node.level - 1)]
    if node.module:
        return [base + tuple(node.module.split("."))]
    return [base + (a.name,) for a in node.names]


def test_the_architecture_page_is_the_import_graph():
    text = (DOCS / "architecture.md").read_text()
    block = text.split("## The import graph", 1)[1].split("```text\n", 1)[1].split("```", 1)[0]
    said = {left.strip(): sorted(right.split()) for left, right in
            (line.split("->") for line in block.strip().splitlines())}
    assert said == import_graph()

"""Rules of the code's structure that a reader cannot see from one file."""
import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# what may name nsenter elsewhere: the tool itself (checked for on a host) and its error
# prefix (read back); neither builds a command
NAMING_THE_TOOL = {"nsenter", "nsenter: "}


def _strings(tree):
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            yield node


def test_one_place_builds_the_nsenter_command():
    found = []
    for path in (ROOT / "swarmlab").rglob("*.py"):
        if path.name == "enter.py" and path.parent.name == "swarmlab":
            continue
        for node in _strings(ast.parse(path.read_text())):
            if "nsenter" in node.value and node.value not in NAMING_THE_TOOL:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:60]!r}")
    assert not found, "build it with swarmlab/enter.py:\n" + "\n".join(found)
    assert "nsenter -n -t" in (ROOT / "swarmlab" / "enter.py").read_text()

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


def test_an_import_inside_a_function_says_why():
    """Outside the CLI (which keeps `swarmlab --help` fast), an import sits in a function
    only for a slow library, and says so (`# here: ...`) on its line or just above."""
    silent = []
    for path in (ROOT / "swarmlab").rglob("*.py"):
        if "cli" in path.relative_to(ROOT).parts:
            continue
        lines = path.read_text().split("\n")
        for fn in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            local = [n.lineno for n in ast.walk(fn) if isinstance(n, (ast.Import, ast.ImportFrom))]
            if local and "# here:" not in " ".join(lines[min(local) - 2:min(local)]):
                silent.append(f"{path.relative_to(ROOT)}:{min(local)}")
    assert not silent, "import at the top, or say why not (# here: ...):\n" + "\n".join(silent)


def test_files_keep_to_450_lines_and_functions_to_80():
    """One concern a file, a function one screen (as formatted by `ruff format`)."""
    long_files, long_functions = [], []
    for path in sorted((ROOT / "swarmlab").rglob("*.py")):
        text = path.read_text()
        name = str(path.relative_to(ROOT))
        if len(text.splitlines()) > 450:
            long_files.append(name)
        long_functions += [f"{name}:{node.name}" for node in ast.walk(ast.parse(text))
                           if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                           and node.end_lineno - node.lineno + 1 > 80]
    assert (long_files, long_functions) == ([], [])


# reads of docker state outside observe/ and the providers, each for its reason
READS_ELSEWHERE = {
    "swarmlab/enter.py": "the task's PID, read inside the one nsenter command it builds",
    "swarmlab/images/cache.py": "a host's image store, not the running lab",
    "swarmlab/records.py": "the config records, read and written by the providers too (below observe)",
}
READ_VERBS = {"inspect", "ls", "ps", "info", "logs"}


def _docker_reads(tree):
    """Each `docker ... inspect|ls|ps` built from an argument list, as (line, words)."""
    for node in ast.walk(tree):
        words = node.elts if isinstance(node, ast.List) else None
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "sh":
            words = node.args
        consts = [w.value for w in words or [] if isinstance(w, ast.Constant) and isinstance(w.value, str)]
        if consts[:1] == ["docker"] and READ_VERBS & set(consts[1:3]):
            yield node.lineno, " ".join(consts[:3])
    for node in _strings(tree):
        if any(f"docker {kind}{verb}" in node.value for kind in ("", "network ", "service ", "node ", "container ")
               for verb in ("ls", "inspect", "ps")):
            yield node.lineno, node.value[:40]


def test_the_lab_is_read_through_observe():
    found = []
    for path in sorted((ROOT / "swarmlab").rglob("*.py")):
        name = str(path.relative_to(ROOT))
        if name.startswith(("swarmlab/observe/", "swarmlab/providers/")) or name in READS_ELSEWHERE:
            continue
        found += [f"{name}:{line} {what}" for line, what in _docker_reads(ast.parse(path.read_text()))]
    assert found == []


def test_the_read_rule_sees_a_raw_read():
    tree = ast.parse('t.run(["docker", "service", "inspect", name])\nx = "for n in $(docker network ls -q)"')
    assert [line for line, _ in _docker_reads(tree)] == [1, 2]

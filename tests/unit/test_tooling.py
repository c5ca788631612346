"""The linter, the formatter and the type checker, clean on swarmlab/ (their settings:
pyproject.toml)."""
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _run(*args):
    return subprocess.run([sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_ruff_finds_nothing():
    proc = _run("ruff", "check", "swarmlab")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_the_code_is_as_ruff_formats_it():
    proc = _run("ruff", "format", "--check", "swarmlab")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_finds_nothing(tmp_path):
    proc = _run("mypy", "--cache-dir", str(tmp_path / "cache"), "swarmlab")
    assert proc.returncode == 0, proc.stdout + proc.stderr

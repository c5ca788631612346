"""How a stack's build: is built (issue #31): BuildKit as the engine offers it, and a
`# syntax=` line, which asks a registry for a frontend, refused before anything is sent."""
from __future__ import annotations

import pytest

from swarmlab.config.compose import BuildSpec
from swarmlab.errors import SwarmlabError
from swarmlab.images import buildkit


def _spec(tmp_path, dockerfile: str) -> BuildSpec:
    (tmp_path / "Dockerfile").write_text(dockerfile)
    return BuildSpec("app", "acme/app:dev", tmp_path)


@pytest.mark.parametrize("text, wanted", [
    ("# syntax=docker/dockerfile:1.4\nFROM x\n", "docker/dockerfile:1.4"),
    ("# escape=`\n#syntax = docker/dockerfile:1\nFROM x\n", "docker/dockerfile:1"),
    ("FROM x\n# syntax=docker/dockerfile:1\n", None),          # after FROM: a comment, no directive
    ("\n\nFROM x\n", None),
])
def test_the_syntax_directive_is_read_as_buildkit_reads_it(tmp_path, text, wanted):
    assert buildkit.frontend(_spec(tmp_path, text)) == wanted


def test_a_frontend_the_engine_lacks_is_one_error_with_the_fix_and_nothing_runs(tmp_path):
    spec = _spec(tmp_path, "# syntax=docker/dockerfile:1.4\nFROM swarmlab.local/base:bookworm\n")
    ran = []
    with pytest.raises(SwarmlabError) as info:
        buildkit.build(spec, ["/nonexistent/docker-must-not-run", "build"], {}, ran.append,
                       has_image=lambda ref: False)
    assert "asks BuildKit for a frontend image from a registry" in info.value.message
    assert "remove that line" in info.value.hint and "docker save docker/dockerfile:1.4" in info.value.hint
    assert ran == []


def test_buildkit_is_reached_as_the_clients_here_allow(monkeypatch):
    monkeypatch.setattr(buildkit, "clients", lambda: (("/x/docker", "28.2.2"), ("/y/docker", "20.10.24")))
    monkeypatch.setattr(buildkit.subprocess, "run", lambda *a, **k: type("R", (), {"returncode": 1})())
    start, env, what = buildkit.how()   # no buildx: the 20.10 client's own BuildKit
    assert start == ["/y/docker", "build"] and env == {"DOCKER_BUILDKIT": "1"} and "20.10.24" in what
    monkeypatch.setattr(buildkit, "clients", lambda: (("/x/docker", "28.2.2"),))
    assert buildkit.how()[0] is None and "classic builder" in buildkit.how()[2]

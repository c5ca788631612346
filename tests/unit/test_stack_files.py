"""What a stack file may carry from this machine (issue #30): files only from its own
folder, env files read here and sent as values, and no variable's value in any message."""
from __future__ import annotations

import os

import pytest

from swarmlab.config import load_scenario
from swarmlab.errors import ConfigError

SCENARIO = ("apiVersion: swarmlab/v1\nkind: Scenario\nnodes: {managers: 1}\nnetworks: {net: {}}\n"
            "stack: {file: stack/s.yml}\nwait: {http: null}\n")
SERVICE = "services:\n  web:\n    image: swarmlab.local/web:bookworm\n    networks: [net]\n"


def _lab(tmp_path, stack: str):
    (tmp_path / "stack").mkdir(exist_ok=True)
    (tmp_path / "stack" / "s.yml").write_text(stack)
    (tmp_path / "lab.yaml").write_text(SCENARIO)
    return tmp_path / "lab.yaml"


def _problems(path, **kw):
    with pytest.raises(ConfigError) as info:
        load_scenario(path, **kw)
    return info.value.problems


@pytest.mark.parametrize("stack, where", [
    (SERVICE + "configs: {key: {file: ../outside.txt}}\n", "configs.key.file"),
    (SERVICE + "secrets: {key: {file: /etc/hostname}}\n", "secrets.key.file"),
    (SERVICE + "    env_file: ../outside.txt\n", "services.web.env_file"),
    (SERVICE + "    env_file: [ok.env, ../../outside.txt]\n", "services.web.env_file.1"),
    (SERVICE.replace("    image: swarmlab.local/web:bookworm\n", "    build: ..\n"), "services.web.build.context"),
    (SERVICE + "    build: {context: ., dockerfile: ../Dockerfile}\n", "services.web.build.dockerfile"),
    (SERVICE + "configs: {key: {file: link.txt}}\n", "configs.key.file"),
])
def test_a_file_outside_the_stacks_folder_is_refused(tmp_path, stack, where):
    (tmp_path / "outside.txt").write_text("A=the key of this machine\n")
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    lab = _lab(tmp_path, stack)
    (tmp_path / "stack" / "ok.env").write_text("B=1\n")
    os.symlink(tmp_path / "outside.txt", tmp_path / "stack" / "link.txt")   # a link out is out too
    got = _problems(lab)
    assert [p.path for p in got] == [where]
    assert "outside the stack file's folder" in got[0].message and got[0].line
    assert "the key of this machine" not in str(got[0])


def test_an_env_file_is_read_here_and_sent_as_values(tmp_path):
    lab = _lab(tmp_path, SERVICE + "    env_file: [app.env]\n    environment: [MODE=prod, KEEP]\n")
    (tmp_path / "stack" / "app.env").write_text("DB_PASSWORD=s3cret-value\nMODE=dev\n")
    s = load_scenario(lab)
    web = s.stack["services"]["web"]
    assert "env_file" not in web
    assert web["environment"] == {"DB_PASSWORD": "s3cret-value", "MODE": "prod", "KEEP": None}


def test_an_env_file_that_is_a_fifo_is_refused_at_once(tmp_path):
    lab = _lab(tmp_path, SERVICE + "    env_file: app.env\n")
    os.mkfifo(tmp_path / "stack" / "app.env")
    got = _problems(lab)
    assert [p.path for p in got] == ["services.web.env_file"] and "FIFO" in got[0].message


def test_a_variables_value_is_never_shown_its_name_is(tmp_path, monkeypatch):
    monkeypatch.setenv("CI_DEPLOY_TOKEN", "glpat-very-secret-token")
    lab = _lab(tmp_path, SERVICE.replace("swarmlab.local/web:bookworm", "'${CI_DEPLOY_TOKEN}; rm -rf /'"))
    got = _problems(lab)
    assert [p.path for p in got] == ["services.web.image"]
    assert "glpat-very-secret-token" not in str(got[0]) and "${CI_DEPLOY_TOKEN}" in str(got[0])


def test_a_dot_env_value_is_never_echoed_in_a_message_that_quotes_it(tmp_path):
    # a .env value where a port belongs: the port check quotes what it was given
    lab = _lab(tmp_path, SERVICE + "    env_file: app.env\n    environment: {}\n"
                                   "    ports: ['${GRACE}']\n")
    (tmp_path / "stack" / ".env").write_text("GRACE=hunter2-password\n")
    (tmp_path / "stack" / "app.env").write_text("API_KEY=hunter2-password\n")
    got = _problems(lab)
    assert [p.path for p in got] == ["services.web.ports"] and "${GRACE}" in got[0].message
    assert "hunter2-password" not in str(got[0])

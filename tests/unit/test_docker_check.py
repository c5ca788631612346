"""Docker's own verdict on a stack (config/docker_check.py): asked of the controller's
docker client with no daemon to reach, so nothing is created; its line mapped to the
file's line. These run the real client (no daemon needed)."""
import pytest

from swarmlab.config import compose
from swarmlab.config.docker_check import refusal, verdict
from swarmlab.config.from_stack import load_stack
from swarmlab.config.loader import Flags
from swarmlab.errors import ConfigError


@pytest.mark.parametrize("line,path,words", [
    ("services.web Additional property foo is not allowed", ("services", "web", "foo"), "'foo' is not a key"),
    ("services.web.deploy.replicas must be a integer", ("services", "web", "deploy", "replicas"), "must be a integer"),
    ('invalid interpolation format for services.web.environment.A: "x$(y"; you may need to escape any $',
     ("services", "web", "environment", "A"), "invalid interpolation format"),
    ("unsupported Compose file version: 1.0", ("version",), "unsupported Compose file version"),
    ("something else went wrong", (), "something else")])
def test_docker_lines_become_paths(line, path, words):
    got_path, msg = refusal(line)
    assert got_path == path and words in msg and msg.startswith("docker stack deploy refuses the file")


@pytest.mark.parametrize("body,line,words", [
    ("    image: redis:7\n    restart_policy: always\n", 4, "'restart_policy' is not a key"),
    ("    image: redis:7\n    healthcheck: {test: [CMD, 'true'], interval: soon}\n", 4, "format 'duration'"),
    ("    image: redis:7\n    deploy:\n      resources: {limits: {cpus: [1]}}\n", 5, "cpus"),
])
def test_what_docker_refuses_and_we_did_not_is_refused_with_its_line(tmp_path, body, line, words):
    (tmp_path / "s.yml").write_text("services:\n  web:\n" + body)
    with pytest.raises(ConfigError) as info:
        load_stack(tmp_path / "s.yml", Flags(name="demo"))
    (p,) = info.value.problems
    assert p.line == line and words in p.message and p.file.endswith("s.yml"), p


def test_a_literal_dollar_reaches_docker_as_one(tmp_path):
    # `$$(` in the file is '$(' once interpolated: written back as '$$(', Docker takes it
    stack = {"version": "3.8", "services": {"web": {"image": "redis:7", "environment": {"A": "x$(y"}}}}
    assert compose.for_stack_deploy(stack)["services"]["web"]["environment"]["A"] == "x$$(y"
    assert verdict(stack, tmp_path) == (None, "")
    (tmp_path / "s.yml").write_text("services:\n  web:\n    image: redis:7\n    environment: {A: 'x$$(y'}\n")
    assert load_stack(tmp_path / "s.yml", Flags(name="demo")).name == "demo"


def test_without_a_docker_client_it_is_said_not_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    refused, note = verdict({"services": {"web": {"image": "redis:7"}}}, tmp_path)
    assert refused is None and "not asked: no docker client" in note


def test_the_keys_docker_ignores_are_said_in_its_own_words(tmp_path):
    """Each client on PATH, on one file with keys of both kinds Docker ignores."""
    from swarmlab.config.docker_check import clients, named_keys

    stack = {"version": "3.8", "services": {"web": {
        "image": "redis:7", "privileged": True, "shm_size": "64m", "domainname": "lab.test", "restart": "always",
        "container_name": "web", "expose": ["80"], "depends_on": ["db"]}, "db": {"image": "redis:7"}}}
    for client, version in clients():
        refused, note = verdict(stack, tmp_path, client)
        assert refused is None, (version, refused)
        lines = note.splitlines()
        assert lines[0] == "docker stack deploy says: Ignoring unsupported options: domainname, privileged, " \
            "restart, shm_size", (version, note)
        assert lines[1].startswith("docker stack deploy says: Ignoring deprecated options: container_name: "), note
        assert named_keys(note) == {"domainname", "privileged", "restart", "shm_size", "container_name", "expose"}


def test_up_says_what_docker_ignores_once_and_what_it_drops_silently_as_its_own(tmp_path):
    (tmp_path / "s.yml").write_text("services:\n  web:\n    image: redis:7\n    shm_size: 64m\n    tmpfs: /run\n"
                                    "    depends_on: [db]\n  db:\n    image: redis:7\n")
    notes = load_stack(tmp_path / "s.yml", Flags(name="demo")).notes
    assert [n for n in notes if "shm_size" in n] == \
        ["docker stack deploy says: Ignoring unsupported options: shm_size"]
    assert sorted(n.split(":")[1].strip() for n in notes if "said by swarmlab" in n) == \
        ["depends_on (web)", "tmpfs (web)"]

"""Names and flags on the command line (issue #12): a hostile or malformed name is exit 2
before anything is read, made or sent; flag combinations that do not go together are
exit 2 with the reason, not "a swarmlab bug". The engine is hidden from these runs."""
from __future__ import annotations

from pathlib import Path

import pytest

from swarmlab import grammar
from swarmlab.shell import redact, sh

from .test_bad_input import run_measured
from .test_config import ROOT

INV = str(ROOT / "swarmlab" / "config" / "testdata" / "inventory" / "valid-native.yaml")
COMMANDS = [["status"], ["down"], ["verify"], ["compare"], ["drill", "drain", "node-1"], ["drill", "run", "drain"],
            ["up", "--name"],
            ["lesson", "check"], ["lesson", "reset"], ["lesson", "start", "drained-node"], ["lesson", "progress"],
            ["exec", "node-1"], ["shell", "node-1"], ["graph"], ["report"], ["report", "--kept"], ["ui"], ["diff", "lab"],
            ["import", "-o", "/tmp/swarmlab-never-written"]]
MARKER = Path("/tmp/swarmlab-pwned")   # what the hostile names below would create, run by a shell
CASES = [(c, "x;touch /tmp/swarmlab-pwned") for c in COMMANDS] + \
    [(["status"], n) for n in ("$(touch /tmp/swarmlab-pwned)", "`id`", "lab\n", "Lab", "x" * 25, "", "-rf")]


@pytest.fixture(autouse=True)
def no_marker():
    """Every test here: the hostile names ran nowhere, the marker they would make is not there."""
    MARKER.unlink(missing_ok=True)
    yield
    assert not MARKER.exists(), "a hostile name reached a shell"


@pytest.mark.parametrize("command, name", CASES, ids=repr)
def test_a_hostile_lab_name_is_exit_2_before_anything(command, name):
    args = [*command, name, "-i", INV] if command[0] not in ("compare", "up") else [*command, name]
    code, out, err, _, _ = run_measured(args + (["--", "true"] if command[0] == "exec" else []))
    assert code == 2, err
    assert "Traceback" not in err and "swarmlab bug" not in err
    assert any(w in err for w in ("is not a DNS label", "Invalid value", "No such option")), err


@pytest.mark.parametrize("node", ["node-1;reboot", "$(id)", "a/b"])
def test_a_hostile_node_name_for_exec_or_shell(node):
    for args in (["exec", node, "-i", INV, "--", "true"], ["shell", node, "-i", INV]):
        code, _, err, _, _ = run_measured(args)
        assert code == 2 and "host name" in err, err


@pytest.mark.parametrize("ref", ["x;touch /tmp/swarmlab-pwned", "$(id)", "Nope"])
def test_a_hostile_lesson_id(ref):
    code, _, err, _, _ = run_measured(["lesson", "start", ref, "-i", INV])
    assert code == 2 and "lesson id" in err and "Traceback" not in err, err


@pytest.mark.parametrize("node", ["node-1;reboot", "$(id)", "a/b"])
def test_a_hostile_node_name_in_a_drill(node):
    code, _, err, _, _ = run_measured(["drill", "drain", node, "-i", INV])
    assert code == 2 and "host name" in err, err
    code, _, err, _, _ = run_measured(["drill", "cut-link", "node-1", "--peer", node, "-i", INV])
    assert code == 2 and "host name" in err, err


@pytest.mark.parametrize("args, says", [
    (["drill", "run", "x;touch /tmp/swarmlab-pwned"], "drill id"),
    (["drill", "run", "Nope"], "drill id"),
    (["drill", "run", "melt"], "no drill 'melt': one of kill-node, drain"),
    (["drill", "run", "drain", "--set", "node=node-1;reboot"], "host name 'node-1;reboot' is not valid"),
    (["drill", "run", "drain", "--set", "nodes=node-1"], "the drill has no parameter 'nodes': one of node"),
    (["drill", "run", "drain", "--set", "node"], "write KEY=VALUE"),
    (["drill", "run", "drain", "--answers", "1,x"], "choice numbers 1-6"),
    (["drill", "run", "/dev/zero.yaml"], "drill file"),
    (["status", "-i", INV, "--provider", "vagrant"], "do not go together"),
    (["up", "-i", INV, "--nodes", "3"], "--nodes/--managers go with dind nodes only"),
    (["up", "--nodes", str(10 ** 23)], "--nodes"),
    (["up", "--nodes", "0"], "--nodes"),
    (["up", "--managers", "-1"], "--managers"),
    (["down", "--trust-on-first-use"], "--trust-on-first-use goes with --inventory"),
    (["verify", "--timeout", "1e9"], "--timeout"),
])
def test_flags_that_do_not_go_together_are_bad_input(args, says):
    code, out, err, seconds, rss = run_measured(args)
    assert code == 2, f"{code}\n{out}\n{err}"
    assert says in err and "swarmlab bug" not in err and "Traceback" not in err, err


@pytest.mark.parametrize("name", ["x;touch /tmp/swarmlab-pwned", "$(id)", "Room", "x" * 11, ""])
def test_a_hostile_room_name_is_exit_2_before_anything(name):
    for args in (["room", "status", "--name", name], ["room", "stop", "--name", name],
                 ["room", "start", "--name", name, "--trainees", "1", "--lesson", "drained-node"]):
        code, out, err, _, _ = run_measured(args)
        assert code == 2 and "room name" in err and "Traceback" not in err, err


def test_a_room_of_bad_trainees_or_lesson_is_exit_2_before_any_lab(tmp_path):
    names = tmp_path / "names"
    names.write_text("alice\nx;touch /tmp/swarmlab-pwned\n$(id)\n")
    code, out, err, _, _ = run_measured(["room", "start", "--names", str(names), "--lesson", "drained-node"])
    assert code == 2 and f"{names}:2" in err and f"{names}:3" in err and "trainee name" in err, err
    for args, says in ((["--trainees", "2", "--lesson", "x;touch /tmp/swarmlab-pwned"], "lesson id"),
                       (["--trainees", "2", "--lesson", "no-such-lesson"], "no-such-lesson"),
                       (["--lesson", "drained-node"], "--trainees N or --names FILE"),
                       (["--trainees", "41", "--lesson", "drained-node"], "--trainees"),
                       (["--trainees", "1", "--lesson", "drained-node", "--demo", "x;touch /tmp/swarmlab-pwned"],
                        "--demo")):
        code, out, err, _, _ = run_measured(["room", "start", *args])
        assert code == 2 and says in err and "Traceback" not in err, err


def test_a_room_on_a_port_in_use_is_exit_2_before_any_lab():
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code, out, err, _, _ = run_measured(["room", "start", "--trainees", "1", "--lesson", "drained-node",
                                             "--port", str(port)])
    assert code == 2 and "cannot listen" in err and "--port 0" in err, err


def test_the_default_scenario_name_is_checked_too(tmp_path):
    """A command without NAME takes the default scenario's name: it goes through the same grammar."""
    (tmp_path / "scenarios").mkdir()
    (tmp_path / "scenarios" / "default.yaml").write_text("name: 'x;touch /tmp/swarmlab-pwned'\n")
    import os
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-m", "swarmlab", "status"], cwd=tmp_path, capture_output=True,
                          text=True, env={**os.environ, "DOCKER_HOST": "unix:///nonexistent"}, timeout=30)
    said = " ".join(proc.stderr.split())   # wrapped to the terminal's width, whatever it is
    assert proc.returncode == 2 and "is not a DNS label" in said and "default.yaml:1" in said


@pytest.mark.parametrize("rule, good, bad", [
    (grammar.LAB, ["lab", "a-1", "x" * 24], ["lab\n", "Lab", "-a", "a-", "x" * 25, "a_b", ""]),
    (grammar.IMAGE, ["swarmlab.local/web:bookworm", "localhost:5000/a/b:1.0", "reg.io/x@sha256:" + "a" * 64],
     ["Web", "a b", "a;b", "a:tag:tag", "$(id)", "a/b:" + "t" * 129]),
    (grammar.NODE, ["node-1", "swarm_1.lan"], ["a/b", "a;b", "-x", "a b"]),
    (grammar.SECRET, ["db_password", "a.b-c"], ["pw$(id)", "-a", "a-", "a b"]),
    (grammar.USER, ["root", "ops_1", "_x"], ["Root", "a;b", "1a", "a b"]),
    (grammar.LABEL_VALUE, ["app", "eu-west-1", ""], ["a b", "$(x)", "a;b", "a\n"]),
])
def test_grammars_match_the_whole_name(rule, good, bad):
    assert all(rule.ok(g) for g in good), [g for g in good if not rule.ok(g)]
    assert not any(rule.ok(b) for b in bad), [b for b in bad if rule.ok(b)]


@pytest.mark.parametrize("addr, ok", [("10.0.0.1", True), ("192.168.56.11", True), ("127.0.0.1", True),
                                      ("fd00::1", True), ("8.8.8.8", False), ("host.lan", False),
                                      ("-oProxyCommand=x", False), ("0.0.0.0", False), ("224.0.0.1", False)])
def test_ssh_addresses(addr, ok):
    assert (grammar.ssh_address(addr) is None) is ok


def test_sh_quotes_every_value():
    assert sh("docker", "rm", "-f", "x;touch /tmp/p") == "docker rm -f 'x;touch /tmp/p'"
    assert sh("a", ["--label", "k=v w"], None, 3) == "a --label 'k=v w' 3"


def test_redact_hides_join_tokens_and_unlock_keys():
    token = "SWMTKN-1-3pu6hszjas19xyp7ghgosyx9k8atbfcr8p2is99znpy26u2lkl-1awxwuwd3z9j1z3puu7rcgdbx"
    text = f"`docker swarm join --token {token} 10.0.0.1:2377` failed; key SWMKEY-1-abcDEF123+/=xyz"
    shown = redact(text)
    assert "SWMTKN-1-3pu" not in shown and "SWMKEY-1-abc" not in shown and "<redacted>" in shown

"""What the SSH provider's preflight makes of each host's answers: every problem named
with its fix. The answers are canned here (a fake transport per host); the real thing
runs in tests/integration/test_ssh_provider.py against sshd in dind nodes."""
import time

import pytest

from swarmlab.config.inventory import InventoryHost
from swarmlab.providers.ssh import SSHProvider
from swarmlab.providers.ssh_preflight import FACTS_CMD
from swarmlab.result import CommandResult

FACTS_OK = "docker=24.0.5\nhostname=h1\nswarm=inactive\ncluster=\ncontrol=false\naddr=10.0.0.1/24\nroute=10.0.0.0/24\n"
PROBE_OK = "ipvs=yes\nesp=yes\nkernel=6.1.0\n"


class FakeTransport:
    def __init__(self, host, answers, become=False, clock=0.0):
        self.host, self.answers, self.become, self.recorded, self.clock = host, answers, become, None, clock
        self.where = f"root@{host}:22"

    def run(self, cmd, warn=False, timeout=120, stdin=None):
        if cmd.startswith("date"):
            code, out = self.answers.get("date", (0, f"{time.time() + self.clock:.3f}"))
        elif cmd == FACTS_CMD:
            code, out = 0, self.answers.get("facts", FACTS_OK)
        elif cmd.startswith("sh -c"):
            code, out = 0, self.answers.get("probe", PROBE_OK)
        else:
            raise AssertionError(f"unexpected command {cmd[:60]}")
        return CommandResult(self.host, cmd, code, out if code == 0 else "", "" if code == 0 else out, 0.01)


def facts_for(answers, become=False, clock=0.0, **host):
    h = InventoryHost("h1", "10.0.0.1", "manager", **host)
    p = SSHProvider.__new__(SSHProvider)
    p.transports = {"h1": FakeTransport("h1", answers, become, clock)}
    return p._facts_of(h)


def test_a_good_host_has_no_problem_and_its_facts():
    f = facts_for({})
    assert f.problems == [] and f.docker == "24.0.5" and f.swarm == "inactive"
    assert f.caps.ipvs and f.caps.esp and f.addrs == ["10.0.0.1"]


@pytest.mark.parametrize("answers, become, clock, host, expected", [
    ({"date": (1, "sudo: a password is required")}, True, 0, {"user": "ops"},
     "user ops is not root and `sudo -n` failed (sudo: a password is required)"),
    ({"facts": "missing=docker\n"}, False, 0, {}, "docker is not installed: apt-get install docker.io"),
    ({"facts": "docker_error=permission denied while trying to connect to the Docker daemon socket\n"}, False, 0,
     {"user": "ops"}, "user ops may not use the Docker engine"),
    ({"facts": "docker_error=Cannot connect to the Docker daemon\n"}, False, 0, {},
     "the Docker engine does not answer"),
    ({"facts": FACTS_OK.replace("24.0.5", "18.09.1")}, False, 0, {}, "Docker 18.09.1 is too old"),
    ({"facts": FACTS_OK + "missing=tcpdump\nmissing=dig\n"}, False, 0, {},
     "missing tcpdump, dig (verify runs them on the host): apt-get install dnsutils tcpdump"),
    ({"facts": FACTS_OK + "apparmor=no-parser\n"}, False, 0, {}, "apt-get install apparmor"),
    ({"facts": FACTS_OK.replace("swarm=inactive", "swarm=pending")}, False, 0, {}, "its swarm state is 'pending'"),
    ({}, False, 0, {"advertise_addr": "10.0.0.9"}, "advertise_addr 10.0.0.9 is not an address of the host"),
    ({}, False, 120.0, {}, "its clock is +120"),
])
def test_each_problem_is_named_with_its_fix(answers, become, clock, host, expected):
    f = facts_for(answers, become, clock, **host)
    assert any(expected in p for p in f.problems), f.problems


def test_a_small_clock_skew_is_a_warning_only():
    f = facts_for({}, clock=3.0)
    assert f.problems == [] and any("clock +3" in w for w in f.warnings)

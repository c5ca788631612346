"""Secrets are never shown (issue #12): a full `up` whose swarm join fails for real (a
worker's engine cannot reach the manager's 2377), with every command traced; the join
token appears in none of what the user sees: the progress lines, the error and its
hint, the --json envelope, the trace on stderr."""
import pytest

from swarmlab import lab as labapi
from swarmlab import output
from swarmlab.config import load_scenario
from swarmlab.errors import SwarmlabError
from swarmlab.providers.dind import DindProvider
from swarmlab.transport import docker_exec

from ..conftest import P, ROOT, labelled

pytestmark = pytest.mark.integration
LAB = f"{P}-secret"


class JoinBlocked(DindProvider):
    """The dind provider, but node-3 rejects its own connections to Swarm's port 2377
    once it exists: its `docker swarm join` then fails as on a firewalled host."""

    def provision(self, scenario, lab, plan, say):
        hosts = super().provision(scenario, lab, plan, say)
        for h in hosts:
            if h.name == "node-3":
                h.transport.run(["iptables", "-I", "OUTPUT", "-p", "tcp", "--dport", "2377",
                                 "-j", "REJECT", "--reject-with", "tcp-reset"])
        return hosts


def test_a_failed_join_shows_no_token(engine, capfd, monkeypatch):
    monkeypatch.setattr(docker_exec, "_TRACE", True)   # SWARMLAB_TRACE=1: every command on stderr
    said = []
    spec = load_scenario(ROOT / "scenarios" / "default.yaml", name=LAB)
    with pytest.raises(SwarmlabError) as info:
        labapi.up(spec, JoinBlocked(engine), say=said.append)
    lines = info.value.lines()
    envelope = output.envelope("up", False, errors=lines)
    output.print_error(lines)
    trace = capfd.readouterr().err
    assert "swarm join" in "\n".join(lines), lines          # the join is what failed
    assert "node-3" in "\n".join(lines), lines
    assert "docker swarm join" in trace and "join-token" in trace   # the trace saw the commands...
    for text in ["\n".join(said), "\n".join(lines), envelope, trace]:
        assert "SWMTKN" not in text, text                   # ...and never the token
    assert labelled(engine, LAB) == {"containers": [], "networks": [], "volumes": []}   # removed again

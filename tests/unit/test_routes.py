"""Whether a reachability probe would leave the lab: `ip route get` outputs recorded on the
Vagrant VMs (a probe container on the frontend overlay of swarm-1) and on dind nodes."""
from types import SimpleNamespace

import pytest

from swarmlab.result import CommandResult
from swarmlab.verify import netns
from swarmlab.verify.topology import Task, Topology

# recorded on swarm-1 (Vagrant, libvirt) with db's backend task at 10.96.130.7
IN_PROBE_OFF_LINK = "10.96.130.7 via 172.18.0.1 dev eth1 src 172.18.0.4 uid 0 \\    cache \n"
IN_PROBE_ON_LINK = "10.96.129.2 dev eth0 src 10.96.129.9 uid 0 \\    cache \n"
ON_VM = "10.96.130.7 via 192.168.121.1 dev eth0 src 192.168.121.107 uid 0 \\    cache \n"
NO_ROUTE = "RTNETLINK answers: No route to host\n"   # exit 2, on stderr: a dind node (`unreachable` overlay pool)


@pytest.mark.parametrize("text,want", [
    (IN_PROBE_OFF_LINK, ("172.18.0.1", "eth1")),
    (IN_PROBE_ON_LINK, (None, "eth0")),
    (ON_VM, ("192.168.121.1", "eth0")),
    ("unreachable 10.96.250.1 uid 0 \\    cache \n", None),
    ("blackhole 10.96.250.1 uid 0\n", None),
    ("prohibit 10.96.250.1 uid 0\n", None),
    ("", None),
])
def test_parse_route(text, want):
    assert netns.parse_route(text) == want


class Answers:
    """A transport answering `ip route get`: inside the probe (nsenter) and on the node."""

    def __init__(self, in_task, on_node):
        self.in_task, self.on_node, self.cmds = in_task, on_node, []

    def run(self, cmd, timeout=None, warn=False):
        self.cmds.append(cmd)
        exited, out = self.in_task if "nsenter" in cmd else self.on_node
        return CommandResult("swarm-1", cmd, exited, out if exited == 0 else "", "" if exited == 0 else out)


def _topo(transport):
    host = SimpleNamespace(name="swarm-1", transport=transport)
    return Topology("lab", "app", {"swarm-1": host}, {}, {}, [])


PROBE = Task("swarmlab-probe-frontend-abc123", "probe", "swarm-1")


def test_vm_uplink_means_not_sent():
    t = Answers((0, IN_PROBE_OFF_LINK), (0, ON_VM))
    assert netns.leaves_lab(_topo(t), PROBE, "10.96.130.7") == "swarm-1 would forward it out of eth0 via 192.168.121.1"


def test_dind_node_without_a_way_out_keeps_the_probe():
    # a dind node holds `unreachable 10.96.128.0/17` (its lab's overlay pool): the kernel refuses the packet
    t = Answers((0, IN_PROBE_OFF_LINK), (2, NO_ROUTE))
    assert netns.leaves_lab(_topo(t), PROBE, "10.96.130.7") is None


def test_on_link_address_never_asks_the_node():
    t = Answers((0, IN_PROBE_ON_LINK), (0, ON_VM))
    assert netns.leaves_lab(_topo(t), PROBE, "10.96.129.2") is None
    assert len(t.cmds) == 1


def test_no_route_in_the_probe_stays():
    t = Answers((2, NO_ROUTE), (0, ON_VM))
    assert netns.leaves_lab(_topo(t), PROBE, "10.96.130.7") is None

"""Whether a reachability probe would leave the lab: `ip route get` outputs recorded on the
Vagrant VMs (a probe container on the frontend overlay of swarm-1) and on dind nodes."""
from types import SimpleNamespace

import pytest

from swarmlab.result import CommandResult
from swarmlab.observe import netns
from swarmlab.observe.topology import Task, Topology

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


def _variant(kind, transport):
    from swarmlab.observe.measure import Place

    host = SimpleNamespace(name="swarm-1", transport=transport)
    outsider = Place(host, "nsenter -n -t 42", "swl-cmp-outsider (another bridge) on swarm-1")
    server = Place(host, "nsenter -n -t 43", "app_db.1 on swarm-2", "10.96.130.7")
    return SimpleNamespace(kind=kind, outsider=outsider, server=server, internal_port=5432)


def test_compare_does_not_send_the_outsider_out_of_a_vms_uplink():
    """On the VMs compare's outsider once 'connected' to db's overlay address: its SYN went out
    through libvirt's NAT and something off the machine answered (compare, session 15)."""
    from swarmlab.compare import _isolation

    t = Answers((0, IN_PROBE_OFF_LINK), (0, ON_VM))
    got = _isolation(_variant("overlay", t))
    assert got["connects"] is False and got["not_sent"] == "swarm-1 would forward it out of eth0 via 192.168.121.1"
    assert not [c for c in t.cmds if "nc -z" in c], "the connect must not be tried"


def test_compare_tries_the_outsider_where_the_node_refuses_or_it_is_a_bridge():
    from swarmlab.compare import _isolation

    dind = Answers((0, IN_PROBE_OFF_LINK), (2, NO_ROUTE))   # a dind node: its overlay pool is unreachable
    got = _isolation(_variant("overlay", dind))
    assert "not_sent" not in got and any("nc -z" in c for c in dind.cmds)
    bridge = Answers((0, IN_PROBE_OFF_LINK), (0, ON_VM))    # a bridge's address is never asked about
    got = _isolation(_variant("bridge", bridge))
    assert "not_sent" not in got and [c for c in bridge.cmds if "route get" in c] == []

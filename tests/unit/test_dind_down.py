"""`down` of a big dind lab: the engine may release the removed nodes' endpoints on the lab
network a moment after the nodes are gone (seen once in five downs of a 50-node lab);
removing the network waits that out, bounded, and says why when it cannot."""
from docker.errors import APIError, NotFound

from swarmlab.providers.dind_net import remove_network


class Net:
    """A network the engine refuses to remove while it still lists endpoints."""
    name = "swarmlab-big-underlay"

    def __init__(self, busy_rounds, error="error while removing network: network has active endpoints"):
        self.busy_rounds, self.error, self.removed, self.disconnected = busy_rounds, error, False, []
        self.attrs = {"Containers": {"ep1": {}}}

    def remove(self):
        if self.removed:
            raise NotFound("gone")
        if self.busy_rounds:
            self.busy_rounds -= 1
            raise APIError("conflict", explanation=self.error)
        self.removed = True

    def reload(self):
        pass

    def disconnect(self, endpoint, force=False):
        self.disconnected.append((endpoint, force))


def test_active_endpoints_are_waited_out_and_disconnected():
    net, slept = Net(busy_rounds=3), []
    assert remove_network(net, sleep=slept.append) is None
    assert net.removed and len(slept) == 3 and net.disconnected[0] == ("ep1", True)


def test_a_network_still_busy_after_the_bound_is_said_not_hidden():
    net = Net(busy_rounds=10**6)
    why = remove_network(net, within=0.0, sleep=lambda s: None)
    assert why.startswith("network swarmlab-big-underlay:") and "active endpoints" in why and not net.removed
    # no container attached, and still refused: the engine's stale endpoint, said with its fix
    net.attrs["Containers"] = {}
    why = remove_network(net, within=0.0, sleep=lambda s: None)
    assert "stale endpoint" in why and "restarting the engine" in why


def test_another_refusal_is_said_at_once_and_a_gone_network_is_no_error():
    net = Net(busy_rounds=1, error="permission denied")
    assert "permission denied" in remove_network(net, sleep=lambda s: 1 / 0)
    gone = Net(busy_rounds=0)
    gone.removed = True
    assert remove_network(gone) is None

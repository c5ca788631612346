"""transport/reach.py: an address of a lab on another engine is reached from that engine's
machine (its tunnel), every other address directly; transport/tunnel.py's splice copies
both ways and ends both sides once both have finished."""
import socket
import threading

from swarmlab.transport import reach
from swarmlab.transport.tunnel import splice


class _Channel:
    """A paramiko channel's calls on one end of a socketpair (the far side stands in)."""

    def __init__(self, sock):
        self.sock, self.closed = sock, False

    def recv(self, n):
        return self.sock.recv(n)

    def sendall(self, data):
        self.sock.sendall(data)

    def shutdown_write(self):
        self.sock.shutdown(socket.SHUT_WR)

    def close(self):
        self.closed = True
        self.sock.close()


def test_a_lab_on_another_engine_is_reached_through_it_and_the_rest_directly(monkeypatch):
    import ipaddress

    asked = []
    monkeypatch.setattr(reach, "_routes", {})
    reach.through(ipaddress.IPv4Network("10.97.0.0/16"), lambda a, p, t: asked.append((a, p)) or "tunnelled")
    assert reach.connect("10.97.0.11", 8080, 2) == "tunnelled" and asked == [("10.97.0.11", 8080)]
    direct = []
    monkeypatch.setattr(reach.socket, "create_connection", lambda where, timeout: direct.append(where) or "direct")
    assert reach.connect("10.98.0.11", 8080, 2) == "direct" and direct == [("10.98.0.11", 8080)]


def test_splice_copies_both_ways_and_closes_both_ends_when_both_are_done():
    ours, local = socket.socketpair()
    far, theirs = socket.socketpair()
    chan = _Channel(far)
    done = threading.Event()
    splice(local, chan, done.set)
    ours.sendall(b"ping")
    ours.shutdown(socket.SHUT_WR)
    assert theirs.recv(10) == b"ping" and theirs.recv(10) == b""   # our end finished: theirs sees it
    theirs.sendall(b"pong")
    theirs.shutdown(socket.SHUT_WR)
    assert ours.recv(10) == b"pong" and ours.recv(10) == b""
    assert done.wait(5) and chan.closed

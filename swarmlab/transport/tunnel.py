"""A Docker engine on another machine, reached over SSH as `DOCKER_HOST=ssh://` reaches it
(each connection is `docker system dial-stdio` there), but over swarmlab's own connection
with its pinned host key, and served on a unix socket of this machine in a folder only we
can open: docker-py and the docker CLI (a terminal's `docker exec -it`) use it unchanged.

It also opens TCP connections from that machine (SSH's direct-tcpip), for the addresses
only it reaches: its labs' nodes, on its own bridges."""

from __future__ import annotations

import shutil
import socket
import tempfile
import threading
from pathlib import Path
from typing import Callable, List, Optional

import paramiko

from ..errors import PreflightError
from .ssh import SESSIONS, SSHTransport

DIAL = "docker system dial-stdio"
CHUNK = 65536


class EngineTunnel:
    def __init__(self, make_link: Callable[[], SSHTransport], name: str):
        """make_link: a new SSH connection to the engine's host (sshd takes at most
        MaxSessions sessions on one: a held engine connection is one, so more links open)."""
        self.make_link, self.name = make_link, name
        self._links: List[List] = []  # [transport, sessions in use]
        self._lock = threading.Lock()
        self._dir = Path(tempfile.mkdtemp(prefix="swarmlab-engine-"))  # 0700: ours alone
        self.path = self._dir / "docker.sock"
        self._server: Optional[socket.socket] = None
        self._closed = threading.Event()

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    def start(self) -> str:
        """Check that the host answers and runs a docker CLI, then listen; the socket's URL."""
        try:
            first = self.make_link()
            self._links.append([first, 0])
            self._listen(first)
        except BaseException:
            self.close()
            raise
        return self.url

    def _listen(self, first: SSHTransport) -> None:
        probe = first.run("docker version --format '{{.Server.Version}}'", warn=True, timeout=30)
        if not probe.ok:
            raise PreflightError(
                f"engine {self.name}: `docker version` failed there: {(probe.stderr or probe.stdout).strip()[:200]}",
                hint="the engine's host needs Docker running and its docker CLI (dial-stdio)",
            )
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(self.path))
        server.listen(64)
        self._server = server
        threading.Thread(target=self._accept, name=f"tunnel-{self.name}", daemon=True).start()

    def _accept(self) -> None:
        assert self._server is not None
        while not self._closed.is_set():
            try:
                local, _ = self._server.accept()
            except OSError:
                return
            threading.Thread(target=self._dial, args=(local,), daemon=True).start()

    def _take(self) -> List:
        with self._lock:
            for link in self._links:
                if link[1] < SESSIONS:
                    link[1] += 1
                    return link
            link = [self.make_link(), 1]
            self._links.append(link)
            return link

    def _give(self, link: List) -> None:
        with self._lock:
            link[1] -= 1

    def _dial(self, local: socket.socket) -> None:
        link = self._take()
        try:
            chan = link[0]._open_session()
            chan.exec_command(f"sudo -n -- {DIAL}" if link[0].become else DIAL)
        except (paramiko.SSHException, OSError, PreflightError):
            self._give(link)
            local.close()
            return
        splice(local, chan, lambda: self._give(link))

    def connect(self, address: str, port: int, timeout: float = 5.0) -> socket.socket:
        """A TCP connection to address:port made from the engine's host, as a socket of ours."""
        transport = self._links[0][0]._client().get_transport()
        if transport is None:
            raise OSError(f"engine {self.name}: no SSH connection")
        try:
            chan = transport.open_channel("direct-tcpip", (address, port), ("127.0.0.1", 0), timeout=timeout)
        except paramiko.ChannelException as exc:
            raise ConnectionRefusedError(f"{address}:{port} from {self.name}: {exc}") from None
        except paramiko.SSHException as exc:
            raise OSError(f"{address}:{port} from {self.name}: {exc}") from None
        ours, theirs = socket.socketpair()
        splice(theirs, chan, lambda: None)
        ours.settimeout(timeout)
        return ours

    def close(self) -> None:
        self._closed.set()
        if self._server is not None:
            self._server.close()
        for link, _ in self._links:
            link.close()
        shutil.rmtree(self._dir, ignore_errors=True)


def splice(local: socket.socket, chan: paramiko.Channel, done: Callable[[], None]) -> None:
    """Copy both ways until both ends have finished; then close both and call done."""
    left = [2]
    lock = threading.Lock()

    def one_way(recv, send, finish) -> None:
        try:
            while True:
                data = recv(CHUNK)
                if not data:
                    break
                send(data)
        except (OSError, EOFError, paramiko.SSHException):
            pass
        finally:
            try:
                finish()
            except (OSError, EOFError, paramiko.SSHException):
                pass
            with lock:
                left[0] -= 1
                last = left[0] == 0
            if last:
                local.close()
                chan.close()
                done()

    threading.Thread(target=one_way, args=(local.recv, chan.sendall, chan.shutdown_write), daemon=True).start()
    threading.Thread(
        target=one_way, args=(chan.recv, local.sendall, lambda: local.shutdown(socket.SHUT_WR)), daemon=True
    ).start()

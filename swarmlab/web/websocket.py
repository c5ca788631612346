"""WebSockets on the pages' own HTTP server. The opening handshake is an HTTP request the
server has parsed already, answered here (RFC 6455 §4.2); the frames after it are
`wsproto`'s (framing, masking, fragments, ping and close are easy to get subtly wrong by
hand, and it is sans-I/O: it fits a thread that owns its socket).

Bounds on every socket: a message is at most MAX_MESSAGE bytes, input at most RATE bytes a
second on average (BURST at once), and a socket silent for IDLE seconds is closed (the
page pings every 20 s)."""

from __future__ import annotations

import base64
import hashlib
import select
import time
from typing import Callable, Dict, List, Optional, Union

from wsproto.connection import Connection, ConnectionType
from wsproto.utilities import LocalProtocolError
from wsproto.events import BytesMessage, CloseConnection, Message, Ping, TextMessage

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_MESSAGE = 64 * 1024
RATE = 32 * 1024
BURST = 256 * 1024
IDLE = 90.0


def handshake(headers: Dict[str, str]) -> Optional[Dict[str, str]]:
    """The headers of the 101 answer to an upgrade request (`headers`: lower-cased
    names), or None when the request is no valid WebSocket opening."""
    key = headers.get("sec-websocket-key", "")
    if headers.get("upgrade", "").lower() != "websocket" or "upgrade" not in headers.get("connection", "").lower():
        return None
    if headers.get("sec-websocket-version") != "13":
        return None
    try:
        if len(base64.b64decode(key, validate=True)) != 16:
            return None
    except ValueError:
        return None
    accept = base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()
    return {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Accept": accept}


class Budget:
    """A token bucket: RATE bytes a second, up to BURST at once."""

    def __init__(self, rate: float = RATE, burst: float = BURST, clock: Callable[[], float] = time.monotonic):
        self.rate, self.burst, self.clock = rate, burst, clock
        self.left, self.at = burst, clock()

    def spend(self, n: int) -> bool:
        now = self.clock()
        self.left = min(self.burst, self.left + (now - self.at) * self.rate)
        self.at = now
        if n > self.left:
            return False
        self.left -= n
        return True


class TooMuch(Exception):
    """The peer broke a bound: the socket is closed with `code`."""

    def __init__(self, code: int, why: str):
        super().__init__(why)
        self.code, self.why = code, why


class Socket:
    """The server's end of one WebSocket, over a connected socket."""

    def __init__(self, sock, budget: Optional[Budget] = None):
        self.sock = sock
        self.ws = Connection(ConnectionType.SERVER)
        self.budget = budget or Budget()
        self._parts: List[Union[str, bytes]] = []
        self._size = 0
        self.closed = False

    def send(self, data: Union[str, bytes]) -> None:
        event = TextMessage(data=data) if isinstance(data, str) else BytesMessage(data=data)
        self.sock.sendall(self.ws.send(event))

    def close(self, code: int = 1000, reason: str = "") -> None:
        if not self.closed:
            self.closed = True
            try:
                self.sock.sendall(self.ws.send(CloseConnection(code=code, reason=reason)))
            except (OSError, LocalProtocolError):  # gone, or already closing
                pass

    def wait(self, others: List[int], timeout: float = IDLE) -> List[int]:
        """Which of the socket (reported as -1) and `others` (fds) can be read."""
        if getattr(self.sock, "pending", lambda: 0)():  # TLS bytes already decrypted: select would not see them
            return [-1]
        ready, _, _ = select.select([self.sock, *others], [], [], timeout)
        return [-1 if r is self.sock else r for r in ready]

    def receive(self) -> List[Union[str, bytes]]:
        """The whole messages that arrived; [] and .closed when the peer went."""
        data = self.sock.recv(65536)
        if not data:
            self.closed = True
            return []
        if not self.budget.spend(len(data)):
            raise TooMuch(1008, "input faster than the page's limit")
        self.ws.receive_data(data)
        return self._messages()

    def _messages(self) -> List[Union[str, bytes]]:
        out: List[Union[str, bytes]] = []
        for event in self.ws.events():
            if isinstance(event, Message):
                self._size += len(event.data)
                if self._size > MAX_MESSAGE:
                    raise TooMuch(1009, f"a message over {MAX_MESSAGE} bytes")
                self._parts.append(event.data)
                if event.message_finished:
                    out.append(("" if isinstance(event, TextMessage) else b"").join(self._parts))  # type: ignore[arg-type]
                    self._parts, self._size = [], 0
            elif isinstance(event, Ping):
                self.sock.sendall(self.ws.send(event.response()))
            elif isinstance(event, CloseConnection):
                try:
                    self.sock.sendall(self.ws.send(event.response()))
                except Exception:
                    pass
                self.closed = True
        return out

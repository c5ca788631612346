"""A WebSocket's opening as a page's browser sends it, on a plain socket, for the tests and
benchmarks of the room (the frames after it are wsproto's client side)."""
import base64
import os
import socket


def opening(base: str, path: str, header: str):
    """(the connected socket, the HTTP status of the answer) of an opening to `base` (its
    scheme, host and port: http://127.0.0.1:8770) for `path`, with one more header line
    (its token: a Cookie or X-Swarmlab-Token) and the page's own Origin."""
    host = base.split("//", 1)[1]
    address, port = host.rsplit(":", 1)
    sock = socket.create_connection((address, int(port)), timeout=30)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: {base}\r\n{header}\r\n\r\n")
                 .encode())
    head = b""
    while b"\r\n\r\n" not in head:
        got = sock.recv(1)
        if not got:
            break
        head += got
    return sock, int(head.split()[1])

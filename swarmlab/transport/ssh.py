"""Commands on a host reached over SSH (issue #5): fabric opens the connection, with the
host key pinned and paramiko's RejectPolicy — never AutoAddPolicy (fabric's default), and
never the user's ~/.ssh/known_hosts unless the inventory names it.

Commands run over one paramiko channel each, binary-safe both ways, so a `docker save`
tar can be streamed into `docker load` on stdin exactly as with the docker-exec transport."""
from __future__ import annotations

import base64
import shutil
import socket
import time
from pathlib import Path
from typing import Optional

import paramiko
from fabric import Connection

from ..errors import PreflightError, SwarmlabError
from ..result import CommandResult
from .base import Stdin

_KEY_CLASSES = {"ssh-ed25519": paramiko.Ed25519Key, "ssh-rsa": paramiko.RSAKey,
                "ecdsa-sha2-nistp256": paramiko.ECDSAKey, "ecdsa-sha2-nistp384": paramiko.ECDSAKey,
                "ecdsa-sha2-nistp521": paramiko.ECDSAKey}


class SSHTransport:
    def __init__(self, host: str, address: str, *, port: int = 22, user: str = "root",
                 key_file: Optional[str] = None, host_key: Optional[str] = None,
                 known_hosts: Optional[str] = None, connect_timeout: float = 10):
        if not host_key and not known_hosts:
            raise SwarmlabError(f"{host}: no pinned host key", hint="add host_key: or known_hosts: to the inventory")
        self.host, self.address, self.port, self.user = host, address, port, user
        self.key_file, self.host_key, self.known_hosts = key_file, host_key, known_hosts
        self.connect_timeout = connect_timeout
        self._conn: Optional[Connection] = None

    def __repr__(self) -> str:
        return f"SSHTransport({self.user}@{self.address}:{self.port})"

    @property
    def where(self) -> str:
        return f"{self.user}@{self.address}:{self.port}"

    def _client(self) -> paramiko.SSHClient:
        if self._conn is not None and self._conn.is_connected:
            return self._conn.client
        conn = Connection(self.address, user=self.user, port=self.port, connect_timeout=self.connect_timeout,
                          connect_kwargs={"key_filename": self.key_file, "look_for_keys": False,
                                          "allow_agent": False})
        client = conn.client
        client.set_missing_host_key_policy(paramiko.RejectPolicy())
        keys = client.get_host_keys()
        if self.known_hosts:
            keys.load(str(Path(self.known_hosts).expanduser()))
        if self.host_key:
            kind, blob = self.host_key.split()[:2]
            entry = self.address if self.port == 22 else f"[{self.address}]:{self.port}"
            keys.add(entry, kind, _KEY_CLASSES[kind](data=base64.b64decode(blob)))
        try:
            conn.open()
        except paramiko.BadHostKeyException as exc:
            raise PreflightError(f"{self.host} ({self.where}): its host key does not match the pinned one "
                                 f"(offered {exc.key.get_name()} {exc.key.get_base64()[:24]}...)",
                                 hint="check the host out of band; if it was rebuilt, pin its new key") from None
        except paramiko.AuthenticationException as exc:
            raise PreflightError(f"{self.host} ({self.where}): authentication failed: {exc}",
                                 hint="check user: and key_file: in the inventory") from None
        except paramiko.SSHException as exc:
            if "not found in known_hosts" in str(exc):
                raise PreflightError(f"{self.host} ({self.where}): its host key is not pinned for this "
                                     f"address", hint="add host_key: for it (ssh-keyscan prints it)") from None
            raise PreflightError(f"{self.host} ({self.where}): SSH failed: {exc}") from None
        except (OSError, socket.timeout) as exc:
            raise PreflightError(f"{self.host} ({self.where}): unreachable: {exc.strerror or exc}",
                                 hint="is the address right, and sshd running and reachable from here?") from None
        self._conn = conn
        return client

    def run(self, cmd: str, *, stdin: Stdin = None, timeout: float = 120, warn: bool = False) -> CommandResult:
        started = time.monotonic()
        chan = self._client().get_transport().open_session(timeout=self.connect_timeout)
        chan.settimeout(timeout)
        out, err = bytearray(), bytearray()
        try:
            chan.exec_command(cmd)
            if stdin is not None:
                if isinstance(stdin, bytes):
                    chan.sendall(stdin)
                else:
                    shutil.copyfileobj(stdin, _ChannelWriter(chan), 1 << 20)
                chan.shutdown_write()
            deadline = started + timeout
            while not (chan.exit_status_ready() and not chan.recv_ready() and not chan.recv_stderr_ready()):
                if chan.recv_ready():
                    out += chan.recv(1 << 16)
                elif chan.recv_stderr_ready():
                    err += chan.recv_stderr(1 << 16)
                elif time.monotonic() > deadline:
                    raise socket.timeout()
                else:
                    time.sleep(0.005)
            code = chan.recv_exit_status()
            res = CommandResult(self.host, cmd, code, out.decode(errors="replace"), err.decode(errors="replace"),
                                time.monotonic() - started)
        except socket.timeout:
            res = CommandResult(self.host, cmd, 124, out.decode(errors="replace"),
                                f"timed out after {timeout:.0f}s", time.monotonic() - started)
        finally:
            chan.close()
        return res if warn else res.check()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class _ChannelWriter:
    def __init__(self, chan):
        self.chan = chan

    def write(self, data: bytes) -> int:
        self.chan.sendall(data)
        return len(data)

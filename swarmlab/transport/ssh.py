"""Commands on a host reached over SSH (issue #5): fabric opens the connection, with the
host key pinned and paramiko's RejectPolicy — never AutoAddPolicy (fabric's default), and
never the user's ~/.ssh/known_hosts unless the inventory names it. The inventory alone says
where a host is: fabric's own reading of ~/.ssh/config (HostName, IdentityFile, ProxyJump)
and of ~/.fabric.yaml is turned off, or a `Host` block there would silently send the
connection to another machine, with other keys.

Commands run over one paramiko channel each, binary-safe both ways, so a `docker save`
tar can be streamed into `docker load` on stdin exactly as with the docker-exec transport."""

from __future__ import annotations

import base64
import hashlib
import shlex
import shutil
import os
import select
import socket
import sys
import threading
import time
from pathlib import Path
from typing import Optional

import paramiko
from fabric import Config, Connection

from ..errors import PreflightError, SwarmlabError
from ..result import CommandResult
from ..shell import redact, sh
from .base import Command, Stdin, Stdout

_TRACE = os.environ.get("SWARMLAB_TRACE") == "1"  # as in docker_exec
_KEY_CLASSES = {
    "ssh-ed25519": paramiko.Ed25519Key,
    "ssh-rsa": paramiko.RSAKey,
    "ecdsa-sha2-nistp256": paramiko.ECDSAKey,
    "ecdsa-sha2-nistp384": paramiko.ECDSAKey,
    "ecdsa-sha2-nistp521": paramiko.ECDSAKey,
}
# sshd refuses an 11th session on one connection (MaxSessions, 10 by default) with "open
# failed": verify runs every pair of a host at once, so commands queue for a slot instead.
SESSIONS = 8


class SSHTransport:
    def __init__(
        self,
        host: str,
        address: str,
        *,
        port: int = 22,
        user: str = "root",
        key_file: Optional[str] = None,
        host_key: Optional[str] = None,
        known_hosts: Optional[str] = None,
        connect_timeout: float = 10,
        record_to: Optional[str] = None,
        become: Optional[bool] = None,
    ):
        """record_to: trust on first use: accept a host key not pinned yet and append it
        to this known_hosts file (the caller asked for it explicitly).
        become: run every command as root through `sudo -n` (default: when user is not root)."""
        if not host_key and not known_hosts and not record_to:
            raise SwarmlabError(f"{host}: no pinned host key", hint="add host_key: or known_hosts: to the inventory")
        self.host, self.address, self.port, self.user = host, address, port, user
        self.key_file, self.host_key, self.known_hosts = key_file, host_key, known_hosts
        self.connect_timeout = connect_timeout
        self.record_to = record_to
        self.become = user != "root" if become is None else become
        self.recorded: Optional[str] = None  # the key trusted on first use, if one was
        self._conn: Optional[Connection] = None
        self._sessions = threading.BoundedSemaphore(SESSIONS)
        self._opening = threading.Lock()

    def __repr__(self) -> str:
        return f"SSHTransport({self.user}@{self.address}:{self.port})"

    @property
    def where(self) -> str:
        return f"{self.user}@{self.address}:{self.port}"

    def connection(self) -> Connection:
        """The fabric Connection, not opened: only the inventory's fields shape it (lazy=True
        skips /etc/fabric.yml and ~/.fabric.yaml; load_ssh_configs=False skips ~/.ssh/config)."""
        return Connection(
            self.address,
            user=self.user,
            port=self.port,
            connect_timeout=self.connect_timeout,
            config=Config(lazy=True, overrides={"load_ssh_configs": False}),
            connect_kwargs={"key_filename": self.key_file, "look_for_keys": False, "allow_agent": False},
        )

    def _client(self) -> paramiko.SSHClient:
        with self._opening:  # threads starting at once share one connection, not one each
            return self._open()

    def _open(self) -> paramiko.SSHClient:
        if self._conn is not None and self._conn.is_connected:
            return self._conn.client
        conn = self.connection()
        client = conn.client
        client.set_missing_host_key_policy(_Record(self) if self.record_to else paramiko.RejectPolicy())
        keys = client.get_host_keys()
        if self.known_hosts and Path(self.known_hosts).expanduser().exists():
            keys.load(str(Path(self.known_hosts).expanduser()))
        if self.host_key:
            kind, blob = self.host_key.split()[:2]
            entry = self.address if self.port == 22 else f"[{self.address}]:{self.port}"
            keys.add(entry, kind, _KEY_CLASSES[kind](data=base64.b64decode(blob)))
        try:
            conn.open()
        except paramiko.BadHostKeyException as exc:
            raise PreflightError(
                f"{self.host} ({self.where}): its host key does not match the pinned one "
                f"(it offered {exc.key.get_name()} {fingerprint(exc.key)})",
                hint="check the host out of band; if it was rebuilt, pin its new key",
            ) from None
        except paramiko.AuthenticationException as exc:
            raise PreflightError(
                f"{self.host} ({self.where}): authentication failed: {exc}",
                hint="check user: and key_file: in the inventory",
            ) from None
        except paramiko.SSHException as exc:
            if "not found in known_hosts" in str(exc):
                raise PreflightError(
                    f"{self.host} ({self.where}): its host key is not pinned for this address",
                    hint="add host_key: for it (ssh-keyscan prints it)",
                ) from None
            raise PreflightError(f"{self.host} ({self.where}): SSH failed: {exc}") from None
        except (OSError, socket.timeout) as exc:
            raise PreflightError(
                f"{self.host} ({self.where}): unreachable: {exc.strerror or exc}",
                hint="is the address right, and sshd running and reachable from here?",
            ) from None
        self._conn = conn
        return client

    def repeat(self, cmd: str) -> str:
        """The command line a reader types on the controller to run `cmd` here."""
        return f"ssh -p {self.port} {self.user}@{self.address} " + shlex.quote(
            f"sudo -n -- sh -c {shlex.quote(cmd)}" if self.become else cmd
        )

    def interactive(self) -> list:
        """The argv of a login shell on this host (OpenSSH, the host key pinned as for every
        command: a known_hosts file written for it, nothing else trusted)."""
        known = self.known_hosts
        if self.host_key:  # in memory, open across the exec: no file is left behind
            entry = self.address if self.port == 22 else f"[{self.address}]:{self.port}"
            fd = os.memfd_create("swarmlab-known-hosts", 0)
            os.write(fd, f"{entry} {self.host_key}\n".encode())
            os.lseek(fd, 0, os.SEEK_SET)
            os.set_inheritable(fd, True)
            known = f"/dev/fd/{fd}"
        argv = [
            "ssh",
            "-t",
            "-p",
            str(self.port),
            "-o",
            "StrictHostKeyChecking=yes",
            "-o",
            f"UserKnownHostsFile={known}",
            "-o",
            "IdentitiesOnly=yes",
            "-F",
            "/dev/null",
        ]
        argv += ["-i", self.key_file] if self.key_file else []
        return argv + [f"{self.user}@{self.address}"] + (["sudo", "-i"] if self.become else [])

    def run(
        self, cmd: Command, *, stdin: Stdin = None, timeout: float = 120, warn: bool = False, stdout: Stdout = None
    ) -> CommandResult:
        cmd = cmd if isinstance(cmd, str) else sh(*cmd)
        with self._sessions:
            res = self._session(cmd, stdin, timeout, stdout)
        if _TRACE:
            sys.stderr.write(
                f"trace {time.strftime('%H:%M:%S')} {res.duration:6.2f}s rc={res.exited} "
                f"{self.host}: {redact(cmd)[:110]}\n"
            )
        return res if warn else res.check()

    def _open_session(self) -> paramiko.Channel:
        """A new channel; refused ones are asked again for up to connect_timeout: sshd counts
        a session until it has processed its close, a moment after we closed it."""
        deadline = time.monotonic() + self.connect_timeout
        delay = 0.05
        while True:
            transport = self._client().get_transport()
            if transport is None:
                raise paramiko.SSHException(f"no connection to {self.host}")
            try:
                return transport.open_session(timeout=self.connect_timeout)
            except paramiko.SSHException:
                # a refusal is a ChannelException, or a bare SSHException when another thread
                # took it first (paramiko keeps one saved exception per connection)
                if not transport.is_active() or time.monotonic() + delay > deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, 1.0)

    def _session(self, cmd: str, stdin: Stdin, timeout: float, stdout: Stdout = None) -> CommandResult:
        started = time.monotonic()
        chan = self._open_session()
        chan.settimeout(timeout)
        out, err = bytearray(), bytearray()
        try:
            # as root: the probes enter network namespaces and capture on interfaces
            chan.exec_command(f"sudo -n -- sh -c {shlex.quote(cmd)}" if self.become else cmd)
            if stdin is not None:
                if isinstance(stdin, bytes):
                    chan.sendall(stdin)
                else:
                    shutil.copyfileobj(stdin, _ChannelWriter(chan), 1 << 20)
                chan.shutdown_write()
            deadline = started + timeout
            # Until EOF, not only the exit status: sshd may send the status before the
            # last of the output (seen here: an empty `docker info` while a load streamed).
            while True:
                if chan.recv_ready() and stdout is not None:
                    stdout.write(chan.recv(1 << 20))
                elif chan.recv_ready():
                    out += chan.recv(1 << 16)
                elif chan.recv_stderr_ready():
                    err += chan.recv_stderr(1 << 16)
                elif chan.eof_received and chan.exit_status_ready():
                    break
                elif time.monotonic() > deadline:
                    raise socket.timeout()
                else:
                    select.select([chan], [], [], 0.05)
            code = chan.recv_exit_status()
            res = CommandResult(
                self.host,
                cmd,
                code,
                out.decode(errors="replace"),
                err.decode(errors="replace"),
                time.monotonic() - started,
            )
        except socket.timeout:
            res = CommandResult(
                self.host,
                cmd,
                124,
                out.decode(errors="replace"),
                f"timed out after {timeout:.0f}s",
                time.monotonic() - started,
            )
        finally:
            chan.close()
        return res

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def fingerprint(key: paramiko.PKey) -> str:
    """SHA256:... as `ssh-keygen -lf` prints it."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(key.asbytes()).digest()).decode().rstrip("=")


class _Record(paramiko.MissingHostKeyPolicy):
    """Trust on first use, asked for explicitly: accept the key and append it to the file."""

    def __init__(self, transport: "SSHTransport"):
        self.t = transport

    def missing_host_key(self, client, hostname, key):
        line = f"{hostname} {key.get_name()} {key.get_base64()}\n"
        path = Path(self.t.record_to).expanduser()
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a") as f:
            f.write(line)
        client.get_host_keys().add(hostname, key.get_name(), key)
        self.t.recorded = f"{key.get_name()} {key.get_base64()}"


class _ChannelWriter:
    def __init__(self, chan):
        self.chan = chan

    def write(self, data: bytes) -> int:
        self.chan.sendall(data)
        return len(data)

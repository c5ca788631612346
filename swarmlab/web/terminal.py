"""A shell on a node for a browser: the argv `swarmlab shell` runs (the node's transport
gives it), under a PTY of the controller, outliving the page that opened it, so a reload
or a dropped connection finds the same shell and its recent output again.

Every page that shows the shell is a Watcher: output reaches it through its own queue and
a pipe it can select on, with the server's socket, in one thread (an SSL socket is not read
and written from two threads). A watcher that falls too far behind is dropped, never the
shell. `setsid -c` makes the PTY the shell's controlling terminal, so a resize reaches the
program in it (SIGWINCH), as a terminal emulator's does."""

from __future__ import annotations

import fcntl
import os
import re
import signal
import struct
import subprocess
import termios
import threading
from collections import deque
from typing import Deque, List, Optional, Sequence

SCROLLBACK = 64 * 1024  # bytes of recent output a new page is shown
BACKLOG = 1024 * 1024  # bytes a watcher may have unsent before it is dropped
CHUNK = 16 * 1024
# what the shell's command keeps of the server's environment: the docker CLI's own settings
# (DOCKER_HOST, DOCKER_CONTEXT, …: the engine the nodes run on), nothing else of the server's
KEPT_ENV = ("PATH", "LANG", "LC_ALL", "HOME", "USER")


class Watcher:
    """One page's view of a session: what it has not sent yet, and a pipe that says so."""

    def __init__(self) -> None:
        self.readable, self._wake = os.pipe()
        os.set_blocking(self._wake, False)
        self._queue: Deque[bytes] = deque()
        self._size = 0
        self._lock = threading.Lock()
        self.dropped = False
        self.ended = False

    def push(self, data: bytes) -> None:
        with self._lock:
            if self.dropped:
                return
            self._size += len(data)
            if self._size > BACKLOG:
                self.dropped, self._queue = True, deque()
            else:
                self._queue.append(data)
        self._poke()

    def end(self) -> None:
        self.ended = True
        self._poke()

    def _poke(self) -> None:
        try:
            os.write(self._wake, b".")
        except (BlockingIOError, OSError):
            pass  # the pipe is full (it is woken already) or closed

    def take(self) -> bytes:
        """What is queued, at once (and the wake-ups read)."""
        try:
            os.read(self.readable, 4096)
        except OSError:
            pass
        with self._lock:
            data, self._queue, self._size = b"".join(self._queue), deque(), 0
        return data

    def close(self) -> None:
        for fd in (self.readable, self._wake):
            try:
                os.close(fd)
            except OSError:
                pass


def inherited(argv: Sequence[str]) -> tuple:
    """The descriptors an argv names as /dev/fd/N (an SSH shell's pinned host key, held in
    memory), which the shell must inherit."""
    return tuple(int(m) for a in argv for m in re.findall(r"/dev/fd/([0-9]+)", a))


class Session:
    """One shell under a PTY, with the last SCROLLBACK bytes it wrote."""

    def __init__(self, argv: Sequence[str], rows: int = 24, cols: int = 80):
        self.master, slave = os.openpty()
        self._size(slave, rows, cols)
        env = {k: v for k, v in os.environ.items() if k in KEPT_ENV or k.startswith("DOCKER_")}
        self.proc = subprocess.Popen(
            ["setsid", "-c", *argv],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            close_fds=True,
            pass_fds=inherited(argv),
            env={**env, "TERM": "xterm-256color"},
        )
        os.close(slave)
        self.scrollback = bytearray()
        self.watchers: List[Watcher] = []
        self.lock = threading.Lock()
        self.ended = threading.Event()
        threading.Thread(target=self._pump, name="terminal", daemon=True).start()

    @staticmethod
    def _size(fd: int, rows: int, cols: int) -> None:
        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def _pump(self) -> None:
        while True:
            try:
                data = os.read(self.master, CHUNK)
            except OSError:  # EIO: the shell and every process on its terminal are gone
                data = b""
            if not data:
                break
            with self.lock:
                self.scrollback += data
                del self.scrollback[:-SCROLLBACK]
                watchers = list(self.watchers)
            for w in watchers:
                w.push(data)
        self.proc.wait()
        self.ended.set()
        with self.lock:
            for w in self.watchers:
                w.end()

    def attach(self) -> Watcher:
        """A new watcher, given the recent output first."""
        w = Watcher()
        with self.lock:
            if self.scrollback:
                w.push(bytes(self.scrollback))
            self.watchers.append(w)
        if self.ended.is_set():
            w.end()
        return w

    def detach(self, w: Watcher) -> None:
        with self.lock:
            if w in self.watchers:
                self.watchers.remove(w)
        w.close()

    def write(self, data: bytes) -> None:
        if not self.ended.is_set():
            os.write(self.master, data)

    def resize(self, rows: int, cols: int) -> None:
        if not self.ended.is_set():
            self._size(self.master, max(1, min(rows, 500)), max(1, min(cols, 1000)))

    def close(self) -> None:
        """The shell and what it started on the controller's side end (the process group)."""
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGHUP)
                self.proc.wait(5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                self.proc.kill()
        self.ended.wait(5)
        try:
            os.close(self.master)
        except OSError:
            pass


class Sessions:
    """The shells a server keeps, one per key (a trainee's node), made on first use."""

    def __init__(self) -> None:
        self._by_key: dict = {}
        self._lock = threading.Lock()

    def get(self, key, argv_of) -> Session:
        """The live session of `key`, or a new one from argv_of() (a shell that ended is
        replaced: the page's reconnection opens a fresh one)."""
        with self._lock:
            s: Optional[Session] = self._by_key.get(key)
            if s is None or s.ended.is_set():
                s = self._by_key[key] = Session(argv_of())
            return s

    def find(self, key) -> Optional[Session]:
        with self._lock:
            return self._by_key.get(key)

    def close(self) -> None:
        """Every session ended (the server stops)."""
        with self._lock:
            gone, self._by_key = list(self._by_key.values()), {}
        for s in gone:
            s.close()

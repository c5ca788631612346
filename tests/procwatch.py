"""Every command line on this machine, watched while something runs: a secret put on an
argv is readable by any process of its host (`ps`), and the dind nodes' processes are
this machine's processes too."""
from __future__ import annotations

import os
import re
import threading
from typing import List


class ArgvWatch:
    """Reads /proc/*/cmdline over and over until stopped; `seen` holds each command line
    the pattern matched (bounded: it stops itself after `limit` seconds)."""

    def __init__(self, pattern: bytes, limit: float = 600.0):
        self.pattern = re.compile(pattern)
        self.seen: List[str] = []
        self.rounds = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, args=(limit,), daemon=True)

    def __enter__(self) -> "ArgvWatch":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def _watch(self, limit: float) -> None:
        me = str(os.getpid())
        while not self._stop.wait(0.002) and not self._stop.is_set():
            self.rounds += 1
            for pid in os.listdir("/proc"):
                if not pid.isdigit() or pid == me:
                    continue
                try:
                    with open(f"/proc/{pid}/cmdline", "rb") as f:
                        argv = f.read()
                except OSError:
                    continue
                if self.pattern.search(argv):
                    self.seen.append(argv.replace(b"\0", b" ").decode(errors="replace")[:200])
            if self.rounds * 0.002 > limit:
                return

"""What the live page shows, kept fresh by threads of the server: the lab's status
snapshot (the one `status --json` carries), read again as soon as the last read ends, so a
change shows within about one read (~1 s) plus the page's own poll; every trainee lab's
lesson progress on this engine, less often; and the one action that may run at a time
(verify, or a drill with its timeline line by line as it happens)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional

from .. import history, output
from .. import lab as labapi
from ..errors import SwarmlabError
from ..observe.running import open_lab
from ..shell import redact

PAUSE = 0.3  # between two reads of the lab
PROGRESS_EVERY = 10  # seconds between two reads of every lab's lesson record


@dataclass(frozen=True)
class Runs:
    """What the page runs and shows from other features, handed in by the CLI
    (cli/wiring.py): a feature never imports another one."""

    verify: Callable[[str, Any], Dict[str, Any]]  # (lab, provider) -> report
    drills: Callable[[], List[Dict[str, Any]]]  # the catalogue
    drill: Callable[[str, Dict[str, str]], Any]  # (id, params) -> the drill, checked
    run_drill: Callable[[str, Any, Any, Callable[[str], None]], Dict[str, Any]]  # (lab, provider, drill, say)
    progress: Callable[[Any], List[Dict[str, Any]]]  # provider -> every lab's lesson rows


class Live:
    def __init__(self, lab: str, provider_factory: Callable[[], Any], runs: Runs):
        self.lab, self.factory, self.runs = lab, provider_factory, runs
        self.lock = threading.Lock()
        self.status: Optional[Dict[str, Any]] = None
        self.read_at = 0.0
        self.error = ""
        self.progress: List[Dict[str, Any]] = []
        self.action: Dict[str, Any] = {"kind": None, "state": "idle", "log": [], "result": None}
        self.stopping = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._watch, name="ui-status", daemon=True).start()
        threading.Thread(target=self._watch_progress, name="ui-progress", daemon=True).start()

    def _watch(self) -> None:
        provider = self.factory()
        caps = None  # a kernel does not change under a running lab: probed once, not every second
        while not self.stopping.is_set():
            try:
                if caps is None:
                    caps = list(open_lab(self.lab, provider).caps.values())
                snap, error = labapi.status(self.lab, provider, caps=caps), ""
            except SwarmlabError as exc:
                snap, error = None, str(exc)
            with self.lock:
                self.status, self.error, self.read_at = snap or self.status, error, time.time()
            self.stopping.wait(PAUSE)

    def _watch_progress(self) -> None:
        provider = self.factory()
        while not self.stopping.is_set():
            try:
                rows = [r for r in self.runs.progress(provider) if r.get("lesson")]
                with self.lock:
                    self.progress = rows
            except SwarmlabError:
                pass
            self.stopping.wait(PROGRESS_EVERY)

    def state(self) -> Dict[str, Any]:
        with self.lock:
            return {
                "lab": self.lab,
                "status": self.status,
                "read_at": self.read_at,
                "error": self.error,
                "progress": list(self.progress),
                "action": {**self.action, "log": list(self.action["log"])},
            }

    def begin(
        self,
        kind: str,
        work: Callable[[Any, Callable[[str], None]], Dict[str, Any]],
        keep_as: str,
        ok: Callable[[Dict[str, Any]], bool],
    ) -> bool:
        """Start an action in its own thread; False when one already runs."""
        with self.lock:
            if self.action["state"] == "running":
                return False
            self.action = {"kind": kind, "state": "running", "log": [], "result": None, "started": time.time()}
        threading.Thread(target=self._act, args=(kind, work, keep_as, ok), name=f"ui-{kind}", daemon=True).start()
        return True

    def _say(self, line: str) -> None:
        with self.lock:
            self.action["log"] = (self.action["log"] + [redact(line)])[-400:]

    def _act(self, kind: str, work, keep_as: str, ok) -> None:
        try:
            report = work(self.factory(), self._say)
            history.keep(self.lab, keep_as, output.envelope(kind, ok(report), report))
            state, result = ("passed" if ok(report) else "failed"), report
        except SwarmlabError as exc:
            state, result = "error", {"errors": exc.lines()}
        except Exception as exc:  # a bug: said on the page, never a dead thread
            state, result = "error", {"errors": [f"unexpected {exc.__class__.__name__}: {exc}"]}
        with self.lock:
            self.action.update(state=state, result=result, ended=time.time())

"""A drill the trainer runs on a demonstration lab from the board, with the room quiz: each
question is put to every trainee's page before its step, stays open until all have
answered, the trainer closes it, or QUIZ_OPEN seconds pass; then the step runs, and every
pick is scored on what the lab showed (a choice is right when its expectation held), as
`drill run --quiz` scores one trainee's."""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Deque, Dict, List, Optional

from .. import grammar
from ..errors import SwarmlabError
from .model import Busy

QUIZ_OPEN = 120.0  # seconds a question waits for the room at most
EVENTS = 200  # timeline lines kept for the pages


@dataclass(frozen=True)
class Drills:
    """The drill feature, handed in by the CLI (cli/wiring.py): a feature never imports another."""

    catalogue: Callable[[], List[Dict[str, Any]]]  # every shipped drill: id, title, params, ...
    find: Callable[[str, Dict[str, str]], Any]  # (id, params) -> the drill, checked (ConfigError)
    run: Callable[..., Dict[str, Any]]  # (lab, provider, drill, say, ask) -> the drill's report


def _text(d: Dict[str, str], lang: str) -> str:
    return d.get(lang) or d.get("en") or ""


class RoomDrill:
    """The one drill of the room at a time, its questions and every trainee's picks."""

    def __init__(self, lab: str, drills: Drills, trainees: Callable[[], List[str]]):
        self.lab, self.drills, self.trainees = lab, drills, trainees
        self.lock = threading.Lock()
        self.running = False
        self.id, self.error = "", ""
        self.title: Dict[str, str] = {}
        self.events: Deque[str] = deque(maxlen=EVENTS)
        self.questions: List[Dict[str, Any]] = []  # each: question, choices (texts by language), open
        self.picks: List[Dict[str, int]] = []  # per question: trainee -> choice
        self.report: Optional[Dict[str, Any]] = None
        self.answered = threading.Event()
        self.thread: Optional[threading.Thread] = None

    def catalogue(self) -> List[Dict[str, Any]]:
        return [{k: d[k] for k in ("id", "title", "params", "needs")} for d in self.drills.catalogue()]

    def start(self, ref: str, params: Dict[str, str], provider: Any) -> str:
        """The drill, checked here (an id of the catalogue, node names), then run in the background."""
        if not self.lab:
            raise ValueError("this room has no demonstration lab: room start --demo LAB")
        known = {d["id"] for d in self.drills.catalogue()}
        if grammar.DRILL.problem(ref) or ref not in known:
            raise ValueError(f"drill: no drill {ref[:48]!r}: one of {', '.join(sorted(known))}")
        drill = self.drills.find(ref, params)
        with self.lock:
            if self.running:
                raise Busy(f"drill {self.id} runs on {self.lab}: wait for it to end")
            self.running, self.id, self.error, self.report = True, ref, "", None
            self.title = dict(drill.title)
            self.events.clear()
            self.questions, self.picks = [], []
        self.thread = threading.Thread(target=self._run, args=(drill, provider), name="room-drill", daemon=True)
        self.thread.start()
        return ref

    def _run(self, drill: Any, provider: Any) -> None:
        try:
            self.report = self.drills.run(self.lab, provider, drill, self.events.append, self._ask)
        except SwarmlabError as exc:
            self.error = "; ".join(exc.lines())
        except Exception as exc:  # the board says it; the server goes on
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            with self.lock:
                for q in self.questions:
                    q["open"] = False
                self.running = False

    def _ask(self, quiz: Any) -> None:
        """The question to the room, until every trainee answered, the trainer closed it or
        QUIZ_OPEN passed. No single pick: each trainee's is scored after the drill."""
        with self.lock:
            self.answered.clear()
            self.questions.append(
                {"question": dict(quiz.question), "choices": [dict(t) for t, _ in quiz.choices], "open": True}
            )
            self.picks.append({})
        self.events.append(f"question {len(self.questions)} put to the room")
        self.answered.wait(QUIZ_OPEN)
        with self.lock:
            self.questions[-1]["open"] = False
            said = len(self.picks[-1])
        self.events.append(f"question {len(self.questions)} closed: {said} answer(s)")
        return None

    def answer(self, trainee: str, number: int, choice: int) -> None:
        with self.lock:
            if not (1 <= number <= len(self.questions)) or not self.questions[number - 1]["open"]:
                raise ValueError(f"question {number} is not open")
            if not 0 <= choice < len(self.questions[number - 1]["choices"]):
                raise ValueError(f"choice: {choice} is not one of the question's")
            self.picks[number - 1][trainee] = choice
            everyone = set(self.trainees()) <= set(self.picks[number - 1])
        if everyone:
            self.answered.set()

    def close_question(self) -> None:
        self.answered.set()

    def finish(self, within: float) -> bool:
        """The pages stop: an open question closed, and the drill left to end (it heals what
        it broke) for at most `within` seconds; False when it still runs."""
        self.answered.set()
        if self.thread is not None:
            self.thread.join(within)
        return not self.running

    def view(self, trainee: Optional[str], lang: str) -> Dict[str, Any]:
        """What a page shows: the drill, its timeline, each question (in `lang`), and, once
        scored, what held; a trainee sees their own picks, the board everyone's."""
        with self.lock:
            scored = (self.report or {}).get("quiz") or []
            return {
                "lab": self.lab,
                "id": self.id,
                "title": _text(self.title, lang),
                "running": self.running,
                "error": self.error,
                "passed": (self.report or {}).get("passed"),
                "events": list(self.events),
                "questions": [
                    self._question(n, q, scored[n] if n < len(scored) else None, trainee, lang)
                    for n, q in enumerate(self.questions)
                ],
                "scores": self._scores(scored) if trainee is None else None,
            }

    def _question(self, n: int, q: Dict[str, Any], scored: Optional[dict], trainee: Optional[str], lang: str):
        picks = self.picks[n]
        out: Dict[str, Any] = {
            "number": n + 1,
            "question": _text(q["question"], lang),
            "choices": [_text(c, lang) for c in q["choices"]],
            "open": q["open"],
            "answers": len(picks),
        }
        if trainee is not None:
            out["picked"] = picks.get(trainee)
        else:
            out["counts"] = [sum(1 for p in picks.values() if p == i) for i in range(len(q["choices"]))]
        if scored is not None:
            out["right"] = scored["right"]
            out["observed"] = [c["observed"] for c in scored["choices"]]
        return out

    def _scores(self, scored: List[dict]) -> Dict[str, str]:
        """Each trainee's right picks out of the questions scored."""
        if not scored:
            return {}
        return {
            t: f"{sum(self.picks[n].get(t) in q['right'] for n, q in enumerate(scored) if n < len(self.picks))}"
            f"/{len(scored)}"
            for t in self.trainees()
        }

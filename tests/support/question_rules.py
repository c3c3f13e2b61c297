"""The referee of question types and run options (docs/engine.md, Scoring), written from the rules with
exact fractions: what a participant's answer must score, and how a board of such participants ranks.
The engine's Lua computes the same in integers and doubles; the tests compare the two."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from speedrun.engine.models import NUMERIC_SLACK, FrozenQuestion

GRACE_MS = 1_000


def half_up(value: Fraction) -> int:
    return int(value + Fraction(1, 2)) if value >= 0 else -int(-value + Fraction(1, 2))


def window_ms(duration_s: int | None, multiplier: float = 1) -> int | None:
    """The participant's time for a question (None: untimed)."""
    if duration_s is None:
        return None
    return half_up(Fraction(duration_s * 1000) * Fraction(multiplier))


def is_right(question: FrozenQuestion, answer: Any) -> tuple[bool, Fraction]:
    """(correct?, the share of the base points it earns)."""
    if question.type == "numeric":
        correct = Fraction(question.answer or 0)
        distance = abs(Fraction(answer) - correct)
        tolerance = Fraction(question.tolerance or 0)
        slack = Fraction(NUMERIC_SLACK) * max(Fraction(1), abs(correct))
        if distance > tolerance + slack:
            return False, Fraction(0)
        return True, Fraction(1) if tolerance == 0 else 1 - min(distance, tolerance) / (2 * tolerance)
    if question.type == "order":
        return list(answer) == list(question.correct), Fraction(1)
    return sorted(answer) == sorted(question.correct), Fraction(1)


@dataclass
class Scored:
    outcome: str
    points: int
    counted_ms: int


def score(
    question: FrozenQuestion,
    answer: Any,
    *,
    elapsed_ms: int,
    scoring: str = "speed",
    duration_s: int | None = 20,
    multiplier: float = 1,
    given_up: bool = False,
) -> Scored:
    """What one answer (None with `given_up`: a `timeout`) `elapsed_ms` after the question was served scores."""
    window = window_ms(duration_s, multiplier)
    elapsed = elapsed_ms if window is None else min(elapsed_ms, window)
    counted = elapsed if window is None else int(Fraction(elapsed * duration_s * 1000, window))  # type: ignore[operator]
    if question.type == "poll":
        counted = 0
    late = window is not None and elapsed_ms > window + GRACE_MS
    if given_up or late:
        return Scored("timeout", 0, counted)
    if question.type == "poll":
        return Scored("answered", 0, 0)
    right, share = is_right(question, answer)
    if not right:
        return Scored("incorrect", 0, counted)
    base = 1000 if scoring == "accuracy" else half_up(1000 * (1 - Fraction(elapsed, 2 * window)))  # type: ignore[operator]
    return Scored("correct", half_up(base * share), counted)


@dataclass
class Player:
    participant_id: str
    order: int
    score: int = 0
    elapsed_ms: int = 0
    history: list[Scored] = field(default_factory=list)

    def add(self, scored: Scored) -> None:
        self.history.append(scored)
        self.score += scored.points
        self.elapsed_ms += scored.counted_ms


def ranking(players: list[Player], *, scoring: str = "speed", speed_tiebreak: bool = True) -> list[str]:
    """Participant ids in rank order: score desc, then counted time when it breaks ties, then join order."""
    time_counts = scoring == "speed" or speed_tiebreak
    return [
        p.participant_id for p in sorted(players, key=lambda p: (-p.score, p.elapsed_ms if time_counts else 0, p.order))
    ]

"""The engine's public value types (shared with sign-on and the reporter)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from speedrun.question_types import QuestionType
from speedrun.roles import HOST, PARTICIPANT

Scoring = Literal["speed", "accuracy"]
"""`speed`: a correct answer earns 500..1000 by how fast it came; `accuracy`: a flat 1,000 (docs/engine.md, Scoring)."""


NUMERIC_SLACK = 1e-9
"""A numeric answer counts as within its tolerance up to this share of the answer's size (at least 1):
the doubles' rounding of a decimal distance (0.4 - 0.3 is 0.10000000000000003) must not refuse it."""


@dataclass(frozen=True)
class FrozenQuestion:
    """A question as a run plays it. `options` are in the order participants see them (an order
    question's shuffled at sign-on); `correct` are indexes into them (an order question's: the
    correct order). A numeric question has no options: `answer` within `tolerance` is right."""

    index: int
    category: str
    text: str
    options: list[str]
    correct: list[int]
    explanation: str | None = None
    image: str | None = None
    """An image key (`manifest.image_url` makes its URL); the frames send the URL."""
    option_images: list[str | None] | None = None
    type: QuestionType = "choice"
    answer: float | None = None
    tolerance: float | None = None


@dataclass(frozen=True)
class RunConfig:
    host: str
    name: str
    question_set_id: str
    question_set_version: int
    """The version of the set the questions were taken from (a run keeps it while the set changes)."""
    question_duration_s: int | None
    """None: untimed questions (the run's `duration_s` still ends the run)."""
    duration_s: int | None
    max_participants: int
    chat: bool
    shuffle: bool
    categories: list[str] | None
    late_join: bool = True
    scoring: Scoring = "speed"
    speed_tiebreak: bool = True
    """Under accuracy scoring, whether total time breaks ties (under speed scoring it always does)."""
    show_explanations: bool = False
    """`answer_result` carries the question's explanation."""


@dataclass(frozen=True)
class CreatedRun:
    run_id: str
    join_code: str
    expires_at_ms: int


@dataclass(frozen=True)
class Joined:
    run_id: str
    participant_id: str
    name: str
    participant_count: int
    flush_in_ms: int | None
    """When the run wants its coalesced pushes flushed (the host's `participant_joined`, the lobby
    update), for the caller (sign-on) to ask the fan-out; None: a flush is already on its way."""


@dataclass(frozen=True)
class RunExport:
    run_id: str
    status: str
    events: list[dict[str, Any]] = field(default_factory=list)
    """docs/events.md, in order, seq from 1."""


@dataclass(frozen=True)
class Caller:
    """Who sent a WebSocket frame: the authorizer's context plus the socket it came on."""

    run_id: str
    role: str
    participant_id: str | None
    connection_id: str

    @property
    def slot(self) -> str:
        """The caller's entry in the run's connection registry (`host` or the participant id)."""
        return self.participant_id if self.role == PARTICIPANT and self.participant_id else HOST

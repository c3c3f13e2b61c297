"""The event vocabulary (docs/events.md): the type names of run and player events, the shape of
each one's `data`, the aggregates their streams belong to, and where a player event sits in its
stream. The engine, the players worker, the reporter and replay all speak it.

Each event is `{"seq": int, "type": str, "at": epoch ms (server clock), "data": {...}}`, `data`
being the payload below of its `type`."""

from __future__ import annotations

import zlib
from typing import Any, NotRequired, TypedDict

RUN_CREATED = "run_created"
PARTICIPANT_JOINED = "participant_joined"
RUN_STARTED = "run_started"
QUESTION_SERVED = "question_served"
EXTRA_TIME_GRANTED = "extra_time_granted"
ANSWER_SCORED = "answer_scored"
PARTICIPANT_FINISHED = "participant_finished"
PARTICIPANT_KICKED = "participant_kicked"
MESSAGE_SENT = "message_sent"
RUN_COMPLETED = "run_completed"

GAME_COMPLETED = "game_completed"
PROFILE_UPSERTED = "profile_upserted"
PROGRESS_RECORDED = "progress_recorded"

_PLAYER_SEQ_SPREAD = 1_000_000


# --- run events (aggregate `run#<run id>`) ---------------------------------------------------------


class FrozenQuestionData(TypedDict):
    index: int
    type: NotRequired[str]
    """`choice`, `true_false`, `poll`, `numeric` or `order`; absent on events written before types: `choice`."""
    category: str
    text: str
    options: list[str]
    correct: list[int]
    """0-based option indexes (an order question's: the shown indexes in the correct order)."""
    select_count: NotRequired[int]
    """Absent on events written before it existed: as many as `correct` has."""
    explanation: NotRequired[str | None]
    image: NotRequired[str | None]
    """The question's image key (absent: none, and on events written before images existed)."""
    option_images: NotRequired[list[str | None] | None]
    answer: NotRequired[float]
    """Numeric questions only, with `tolerance`."""
    tolerance: NotRequired[float]


class RunCreatedData(TypedDict):
    run_id: str
    host: str
    """The host's account id (Cognito `sub`)."""
    name: str
    question_set_id: str
    question_set_version: NotRequired[int]
    """The set's version the questions were taken from; absent on events written before sets had versions."""
    join_code: NotRequired[str]
    config: dict[str, Any]
    questions: list[FrozenQuestionData]


class ParticipantJoinedData(TypedDict):
    participant_id: str
    name: str
    player_handle: NotRequired[str | None]
    join_order: int
    """1-based."""


class RunStartedData(TypedDict):
    started_at: int
    ends_at: NotRequired[int | None]


class QuestionServedData(TypedDict):
    participant_id: str
    index: int
    served_at: int
    deadline: int


class ExtraTimeGrantedData(TypedDict):
    participant_id: str
    multiplier: float
    """1..4 (1: none)."""


class AnswerScoredData(TypedDict):
    participant_id: str
    index: int
    selected: list[int]
    """[] for a timeout and for numeric questions; an order question's in the participant's order."""
    value: NotRequired[float | None]
    """Numeric questions only: the number answered (null on a timeout)."""
    outcome: str
    """`correct`, `incorrect`, `timeout`, or `answered` (a poll)."""
    points: int
    elapsed_ms: int
    """served_at -> scoring, capped at the question's duration."""
    score: int
    """The participant's new total."""


class ParticipantFinishedData(TypedDict):
    participant_id: str
    score: int
    elapsed_ms: int
    """The sum of the participant's question elapsed times."""


class ParticipantKickedData(TypedDict):
    participant_id: str


MessageSentData = TypedDict("MessageSentData", {"from": str, "to": str, "content": str})
"""`from`: a participant id or `host` (a keyword, hence the functional form)."""


class RunCompletedData(TypedDict):
    reason: str
    """`all_finished`, `deadline` or `host_ended`."""
    completed_at: int
    leaderboard: list[dict[str, Any]]
    """The full final board, as the host sees it."""


# --- player events (aggregate `player#<handle>`) ---------------------------------------------------


class ProfileUpsertedData(TypedDict):
    request_id: str
    owner: str
    profile: dict[str, Any]


class ProgressRecordedData(TypedDict):
    request_id: str
    record: dict[str, Any]


class GameCompletedData(TypedDict):
    """Written by the reporter for a participant who gave a `player_handle`."""

    run_id: str
    score: int
    rank: int


def run_aggregate(run_id: str) -> str:
    return f"run#{run_id}"


def player_aggregate(handle: str) -> str:
    return f"player#{handle}"


def player_event_seq(at_ms: int, key: str) -> int:
    """Deterministic position of a player event: time-ordered, and the same for a redelivered event.

    Player streams are written by two writers (the players worker and the reporter), so a counter
    would need a read-modify-write; the event time plus a hash of its unique key (request id or run
    id) orders events by time and makes a retry rewrite the identical item.
    """
    return at_ms * _PLAYER_SEQ_SPREAD + zlib.crc32(key.encode()) % _PLAYER_SEQ_SPREAD

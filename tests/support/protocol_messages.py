"""Pydantic models of every server -> client frame of the WebSocket protocol (protocol.md; docs/engine.md), strict:
documented fields with their types, plus the few additive fields the engine documents
(docs/engine.md); anything else (a leaked `correct`, a stray internal field) is a violation."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, TypeAdapter

ERROR_CODES = (
    "bad_request",
    "unauthorized",
    "forbidden",
    "not_found",
    "conflict",
    "out_of_order",
    "not_running",
    "rate_limited",
    "too_large",
    "unavailable",
    "internal",
)
"""protocol.md, "Error codes" (here: the classes of `speedrun.errors`)."""


def _iso_utc(value: str) -> str:
    if not value.endswith("Z"):
        raise ValueError("not an ISO-8601 UTC time")
    datetime.fromisoformat(value)
    return value


IsoTime = Annotated[StrictStr, AfterValidator(_iso_utc)]
Count = Annotated[StrictInt, Field(ge=0)]
Outcome = Literal["correct", "incorrect", "timeout", "answered"]
"""`answered`: a poll's answer (docs/engine.md, Question types)."""
QuestionKind = Literal["choice", "true_false", "poll", "numeric", "order"]
Scoring = Literal["speed", "accuracy"]
Multiplier = Annotated[StrictInt | float, Field(ge=1, le=4)]
ImageUrl = Annotated[StrictStr, Field(pattern=r"^/images/[0-9a-f]{64}\.(?:png|jpg|webp|gif)$")]
"""docs/engine.md, Frames: an image's URL is its content-hash key under /images/."""


class _Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)

    request_id: StrictStr | None = Field(default=None, max_length=64)


class _Part(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class BoardEntry(_Part):
    rank: Annotated[StrictInt, Field(ge=1)]
    participant_id: StrictStr
    name: StrictStr
    score: Count
    answered: Count
    elapsed_ms: Count


class ParticipantSummary(_Part):
    participant_id: StrictStr
    name: StrictStr
    connected: StrictBool
    finished: StrictBool
    extra_time: Multiplier


class QuestionFrame(_Frame):
    type: Literal["question"]
    index: Count
    question_type: QuestionKind
    category: StrictStr
    text: StrictStr
    options: list[StrictStr] = Field(max_length=8)
    select_count: Count
    served_at: IsoTime
    deadline: Count
    duration_ms: Annotated[StrictInt, Field(ge=1)] | None
    # only on questions with images (docs/engine.md, Frames)
    image: ImageUrl | None = None
    option_images: list[ImageUrl | None] | None = None


class StateFrame(_Frame):
    type: Literal["state"]
    role: Literal["host", "participant"]
    speedrun_id: StrictStr
    status: Literal["lobby", "running", "completed"]
    name: StrictStr
    question_count: Count
    question_duration_s: Count | None
    scoring: Scoring
    speed_tiebreak: StrictBool
    show_explanations: StrictBool
    started_at: IsoTime | None
    ends_at: IsoTime | None
    participants: list[ParticipantSummary] | Count
    leaderboard: list[BoardEntry]
    participant_count: Count
    chat: StrictBool
    # participants only
    participant_id: StrictStr | None = None
    participant_name: StrictStr | None = None
    next_index: Count | None = None
    score: Count | None = None
    rank: Annotated[StrictInt, Field(ge=1)] | None = None
    elapsed_ms: Count | None = None
    finished: StrictBool | None = None
    extra_time: Multiplier | None = None
    current_question: QuestionFrame | None = None
    images: list[ImageUrl] | None = None
    """The run's image URLs for prefetching (docs/engine.md, Frames)."""


class JoinedItem(_Part):
    participant_id: StrictStr
    name: StrictStr


class ParticipantJoinedFrame(_Frame, JoinedItem):
    """The latest join's fields (JoinedItem), then the frame's own."""

    type: Literal["participant_joined"]
    participant_count: Count
    joined: list[JoinedItem] | None = Field(default=None, min_length=2)
    """Revision 2: every join since the host's last notification, when there were several."""


class LobbyFrame(_Frame):
    type: Literal["lobby"]
    participant_count: Count
    recent: list[StrictStr] = Field(max_length=10)


class ParticipantLeftFrame(_Frame):
    type: Literal["participant_left"]
    participant_id: StrictStr
    reason: Literal["kicked"]
    participant_count: Count


class StartedFrame(_Frame):
    type: Literal["started"]
    started_at: IsoTime
    ends_at: IsoTime
    question_count: Count
    question_duration_s: Count | None
    scoring: Scoring
    speed_tiebreak: StrictBool
    show_explanations: StrictBool
    images: list[ImageUrl]
    """The run's image URLs for prefetching (docs/engine.md, Frames)."""


class AnswerResultFrame(_Frame):
    type: Literal["answer_result"]
    index: Count
    question_type: QuestionKind
    outcome: Outcome
    points: Annotated[StrictInt, Field(ge=0, le=1000)]
    score: Count
    correct_options: list[Count] = Field(max_length=8)
    finished: StrictBool
    rank: Annotated[StrictInt, Field(ge=1)]
    top: list[BoardEntry] = Field(max_length=10)
    participant_count: Count
    # numeric questions only; `explanation` only when the run shows explanations (docs/engine.md)
    correct_value: StrictInt | float | None = None
    tolerance: StrictInt | float | None = None
    value: StrictInt | float | None = None
    explanation: StrictStr | None = None


class AnsweredItem(_Part):
    participant_id: StrictStr
    name: StrictStr
    index: Count
    outcome: Outcome
    points: Annotated[StrictInt, Field(ge=0, le=1000)]
    score: Count


class ParticipantAnsweredFrame(_Frame, AnsweredItem):
    type: Literal["participant_answered"]
    answered: list[AnsweredItem] | None = Field(default=None, min_length=2)
    """This project's extension (docs/engine.md): every answer since the last notification."""


class FinishedItem(_Part):
    participant_id: StrictStr
    name: StrictStr
    score: Count
    elapsed_ms: Count


class ParticipantFinishedFrame(_Frame, FinishedItem):
    type: Literal["participant_finished"]
    finished: list[FinishedItem] | None = Field(default=None, min_length=2)


class LeaderboardFrame(_Frame):
    type: Literal["leaderboard"]
    entries: list[BoardEntry]
    participant_count: Count


class CompletedFrame(_Frame):
    type: Literal["completed"]
    reason: Literal["all_finished", "deadline", "host_ended"]
    completed_at: IsoTime
    leaderboard: list[BoardEntry]
    participant_count: Count


class ResultsFrame(_Frame):
    model_config = ConfigDict(extra="allow", strict=True)

    type: Literal["results"]
    speedrun_id: StrictStr
    questions: list[dict[str, Any]]


class MessageFrame(_Frame):
    type: Literal["message"]
    from_: StrictStr = Field(alias="from")
    from_name: StrictStr
    to: StrictStr = Field(min_length=1, max_length=64)
    content: StrictStr = Field(min_length=1, max_length=500)
    sent_at: IsoTime


class ErrorFrame(_Frame):
    type: Literal["error"]
    code: Literal[ERROR_CODES]  # type: ignore[valid-type]
    message: StrictStr


class ExtraTimeFrame(_Frame):
    """The host's reply to `extra_time`; the participant's push also has the question being answered."""

    type: Literal["extra_time"]
    participant_id: StrictStr
    multiplier: Multiplier
    index: Count | None = None
    deadline: Count | None = None
    duration_ms: Annotated[StrictInt, Field(ge=1)] | None = None


class PongFrame(_Frame):
    type: Literal["pong"]


ServerFrame = Annotated[
    StateFrame
    | ParticipantJoinedFrame
    | LobbyFrame
    | ParticipantLeftFrame
    | StartedFrame
    | QuestionFrame
    | AnswerResultFrame
    | ParticipantAnsweredFrame
    | ParticipantFinishedFrame
    | LeaderboardFrame
    | CompletedFrame
    | ResultsFrame
    | MessageFrame
    | ErrorFrame
    | ExtraTimeFrame
    | PongFrame,
    Field(discriminator="type"),
]

SERVER_FRAME: TypeAdapter[Any] = TypeAdapter(ServerFrame)


def validate_server_frame(frame: Any) -> BaseModel:
    """The frame as its protocol model; raises pydantic's ValidationError when it breaks the contract."""
    model: BaseModel = SERVER_FRAME.validate_python(frame)
    return model

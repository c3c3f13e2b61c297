"""Response models of the run routes of the results API (documented in the OpenAPI document).

They describe what `projections.run_summary` (persisted runs) and `listing.live_summary` (live
runs) build; unknown fields are kept (`extra="allow"`), so a field a projection adds is served
before a model names it."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RunStatus = Literal["lobby", "running", "completed"]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class RunSettings(_Open):
    """The run's options as sign-on accepted them."""

    question_duration_s: int | None = None
    duration_s: int | None = Field(default=None, description="Null: the longest run sign-on allows.")
    max_participants: int | None = None
    chat: bool | None = None
    shuffle: bool | None = None
    categories: list[str] | None = Field(default=None, description="Null: every category of the set.")
    late_join: bool | None = None


class BoardEntry(_Open):
    rank: int
    participant_id: str
    name: str
    score: int
    answered: int
    elapsed_ms: int


class RunQuestion(_Open):
    index: int
    category: str
    text: str
    options: list[str]
    correct_options: list[int]
    select_count: int
    explanation: str | None = None


class SpeedRunSummary(_Open):
    """A run's summary for its host, live or persisted."""

    run_id: str
    host: str = Field(description="The host's account id (Cognito `sub`): the caller.")
    name: str
    question_set_id: str
    join_code: str
    status: RunStatus
    persisted: bool = Field(
        description="True once the run is durable (results and CSV served); false while it is live "
        "(in the lobby, running, or completed with its results still being saved)."
    )
    config: RunSettings
    question_count: int
    participant_count: int = Field(description="Participants not kicked.")
    kicked_count: int
    finished_count: int
    answer_count: int | None = Field(description="Null while live (counted when the run is persisted).")
    correct_answer_count: int | None = Field(description="Null while live.")
    message_count: int | None = Field(description="Null while live.")
    created_at: str | None
    started_at: str | None
    ends_at: str | None
    completed_at: str | None
    completed_at_ms: int | None
    completion_reason: Literal["all_finished", "deadline", "host_ended"] | None
    expires_at: str | None = Field(
        default=None, description="A live run still in the lobby is forgotten at this time unless started."
    )
    leaderboard: list[BoardEntry] | None = Field(
        description="The final leaderboard of a persisted run; null while live (the live board is on the WebSocket)."
    )
    questions: list[RunQuestion] = Field(description="The run's questions, with their correct options.")


class SpeedRunListItem(_Open):
    run_id: str
    name: str
    status: RunStatus
    persisted: bool = Field(description="False: live (reconnect with the host token); true: results are served.")
    join_code: str | None
    question_count: int | None
    participant_count: int | None
    finished_count: int | None
    created_at: str | None
    started_at: str | None
    ends_at: str | None
    completed_at: str | None
    completion_reason: Literal["all_finished", "deadline", "host_ended"] | None
    expires_at: str | None = Field(description="Lobby only: when the unstarted run is forgotten.")


class SpeedRunPage(BaseModel):
    items: list[SpeedRunListItem] = Field(description="Newest first (by creation), live and persisted runs mixed.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")

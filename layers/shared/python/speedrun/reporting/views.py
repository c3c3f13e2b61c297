"""The views the read side serves, as models (so the OpenAPI document describes them): a host's
runs (`GET /api/speedruns`, `GET /api/speedruns/{id}`), the protocol's `results` message (the
results route and the WebSocket `results` action) and a player's game history, with the results
views built from the read models (`speedrun.reporting.projections`).

The run models describe what `projections.run_summary` (persisted runs) and `listing.live_summary`
(live runs) build; unknown fields are kept (`extra="allow"`), so a field a projection adds is served
before a model names it. The results views are built here, field by field, in the order they are
sent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from speedrun.engine.models import Scoring
from speedrun.errors import NotFound
from speedrun.question_types import DEFAULT_QUESTION_TYPE, QuestionType
from speedrun.reporting.projections import (
    OLDER_RUN_OPTIONS,
    answer_to,
    participant_results,
    run_summary,
)

RunStatus = Literal["lobby", "running", "completed"]
QUESTION_SET_VERSION_DESCRIPTION = (
    "The version of the question set the run's questions were taken from; null for runs opened before sets "
    "had versions."
)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class RunSettings(_Open):
    """The run's options as sign-on accepted them (a run created before an option existed: as it played)."""

    question_duration_s: int | None = Field(default=None, description="Null: untimed questions.")
    duration_s: int | None = Field(default=None, description="Null: the longest run sign-on allows.")
    max_participants: int | None = None
    chat: bool | None = None
    shuffle: bool | None = None
    categories: list[str] | None = Field(default=None, description="Null: every category of the set.")
    late_join: bool | None = None
    scoring: Scoring = Field(
        default=OLDER_RUN_OPTIONS["scoring"],
        description="`speed`: a correct answer earns 500..1000 points by how fast it came; `accuracy`: a flat 1,000.",
    )
    speed_tiebreak: bool = Field(
        default=OLDER_RUN_OPTIONS["speed_tiebreak"],
        description="Whether total time breaks score ties under accuracy scoring (under speed scoring it always does).",
    )
    show_explanations: bool = Field(
        default=OLDER_RUN_OPTIONS["show_explanations"],
        description="Whether each answer's result carried the question's explanation.",
    )


class BoardEntry(_Open):
    rank: int
    participant_id: str
    name: str
    score: int
    answered: int
    elapsed_ms: int


CORRECT_OPTIONS_DESCRIPTION = (
    "The correct option indexes (0-based; sorted), an order question's in the correct order; [] for polls "
    "and numeric questions."
)


class RunQuestion(_Open):
    """A run's question (a summary persisted before types has no `type`, `correct_value`, `tolerance`)."""

    index: int
    type: QuestionType = DEFAULT_QUESTION_TYPE
    category: str
    text: str
    options: list[str] = Field(description="As shown to participants (an order question's shuffled); [] for numeric.")
    correct_options: list[int] = Field(description=CORRECT_OPTIONS_DESCRIPTION)
    select_count: int
    explanation: str | None = None
    correct_value: float | None = Field(default=None, description="Numeric only: the answer.")
    tolerance: float | None = Field(default=None, description="Numeric only: how far from the answer is right.")


class SpeedRunSummary(_Open):
    """A run's summary for its host, live or persisted."""

    run_id: str
    host: str = Field(description="The host's account id (Cognito `sub`): the caller.")
    name: str
    question_set_id: str
    question_set_version: int | None = Field(default=None, description=QUESTION_SET_VERSION_DESCRIPTION)
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


# --- the protocol's `results` message --------------------------------------------------------------

Outcome = Literal["correct", "incorrect", "timeout", "answered"]
"""`answered`: a poll's answer (no points)."""


class Person(BaseModel):
    participant_id: str
    name: str


class ResultsQuestion(BaseModel):
    index: int
    type: QuestionType
    category: str
    text: str
    options: list[str]
    correct_options: list[int] = Field(description=CORRECT_OPTIONS_DESCRIPTION)
    explanation: str | None
    correct_value: float | None = Field(description="Numeric only (else null): the answer.")
    tolerance: float | None = Field(description="Numeric only (else null): how far from the answer is right.")


class HostResultsQuestion(ResultsQuestion):
    correct_answerers: list[Person]
    incorrect_answerers: list[Person]
    timeout_answerers: list[Person]
    answered_answerers: list[Person] = Field(description="Polls: who answered; [] for other types.")
    option_counts: list[int] | None = Field(
        description="Choice, true/false and poll questions: how many participants chose each option; null for "
        "order and numeric questions."
    )
    values: list[float] | None = Field(
        description="Numeric questions: every value answered, ascending (timeouts have none); null for other types."
    )


class ParticipantResultsQuestion(ResultsQuestion):
    selected: list[int] | None = Field(
        description="Null: not answered (the run ended first); an order question's in the participant's order; "
        "[] for numeric questions."
    )
    value: float | None = Field(description="Numeric questions: the number answered (null on a timeout); else null.")
    outcome: Outcome | None
    points: int


class _Results(BaseModel):
    type: Literal["results"] = "results"
    speedrun_id: str
    name: str


class HostResults(_Results):
    """The host's `results` message: who answered each question how, and the final leaderboard."""

    question_set_version: int | None = Field(default=None, description=QUESTION_SET_VERSION_DESCRIPTION)
    questions: list[HostResultsQuestion]
    score: None = None
    rank: None = None
    elapsed_ms: None = None
    participant_count: int = Field(description="Participants not kicked.")
    leaderboard: list[BoardEntry]


class ParticipantResults(_Results):
    """A participant's `results` message: their own answers, score and rank."""

    questions: list[ParticipantResultsQuestion]
    score: int
    rank: int | None
    elapsed_ms: int


def _question_fields(q: dict[str, Any]) -> dict[str, Any]:
    # Through the summary's own model: a summary persisted before question types reads as choice.
    question = RunQuestion.model_validate(q)
    return {name: getattr(question, name) for name in ResultsQuestion.model_fields}


def _run_fields(summary: dict[str, Any]) -> dict[str, Any]:
    return {"speedrun_id": summary["run_id"], "name": summary["name"]}


def _person(p: dict[str, Any]) -> Person:
    return Person(participant_id=p["participant_id"], name=p["name"])


def _option_counts(question: dict[str, Any], answers: Sequence[dict[str, Any]]) -> list[int] | None:
    """How many answers chose each option; None where a count says nothing (an order answer places
    every option, a numeric one none)."""
    if question["type"] in ("order", "numeric"):
        return None
    counts = [0] * len(question["options"])
    for answer in answers:
        for i in answer["selected"]:
            counts[int(i)] += 1
    return counts


def _values(question: dict[str, Any], answers: Sequence[dict[str, Any]]) -> list[float] | None:
    if question["type"] != "numeric":
        return None
    return sorted(answer["value"] for answer in answers if answer.get("value") is not None)


def host_results_from(summary: dict[str, Any], participants: Sequence[dict[str, Any]]) -> HostResults:
    """The host's view from the two read models (every participant's results)."""
    questions = []
    for q in summary["questions"]:
        fields = _question_fields(q)
        by_outcome: dict[str, list[Person]] = {outcome: [] for outcome in get_args(Outcome)}
        answers = []
        for p in participants:
            answer = answer_to(p, q["index"])
            if answer is not None:
                by_outcome[answer["outcome"]].append(_person(p))
                answers.append(answer)
        questions.append(
            HostResultsQuestion(
                **fields,
                correct_answerers=by_outcome["correct"],
                incorrect_answerers=by_outcome["incorrect"],
                timeout_answerers=by_outcome["timeout"],
                answered_answerers=by_outcome["answered"],
                option_counts=_option_counts(fields, answers),
                values=_values(fields, answers),
            )
        )
    return HostResults(
        **_run_fields(summary),
        # Summaries persisted before sets had versions have no such key.
        question_set_version=summary.get("question_set_version"),
        questions=questions,
        participant_count=summary["participant_count"],
        leaderboard=summary["leaderboard"],
    )


def participant_results_from(
    summary: dict[str, Any], participants: Sequence[dict[str, Any]], participant_id: str
) -> ParticipantResults:
    """One participant's view from the read models; NotFound when `participants` has no such one."""
    me = next((p for p in participants if p["participant_id"] == participant_id), None)
    if me is None:
        raise NotFound("no results for this participant")
    questions = []
    for q in summary["questions"]:
        answer = answer_to(me, q["index"])
        questions.append(
            ParticipantResultsQuestion(
                **_question_fields(q),
                selected=None if answer is None else answer["selected"],
                # Results persisted before numeric questions have no value.
                value=None if answer is None else answer.get("value"),
                outcome=None if answer is None else answer["outcome"],
                points=0 if answer is None else answer["points"],
            )
        )
    return ParticipantResults(
        **_run_fields(summary),
        questions=questions,
        score=me["score"],
        rank=me["rank"],
        elapsed_ms=me["elapsed_ms"],
    )


def results_view_from(
    summary: dict[str, Any], participants: Sequence[dict[str, Any]], participant_id: str | None
) -> HostResults | ParticipantResults:
    """The protocol's `results` message (the host's view when participant_id is None)."""
    if participant_id is None:
        return host_results_from(summary, participants)
    return participant_results_from(summary, participants, participant_id)


def results_view(events: Sequence[dict[str, Any]], participant_id: str | None) -> HostResults | ParticipantResults:
    """The protocol's `results` message from a run's events (the host's view when participant_id is None).

    Raises NotFound for a participant id the run does not know.
    """
    return results_view_from(run_summary(events), participant_results(events), participant_id)


# --- a player's game history -----------------------------------------------------------------------


class PlayerGame(BaseModel):
    """One completed run of a player (the run's host is never served)."""

    run_id: str
    run_name: str
    completed_at: str
    score: int
    rank: int
    participant_count: int
    question_count: int
    correct_count: int


class PlayerGamePage(BaseModel):
    items: list[PlayerGame] = Field(description="Newest first (by completion).")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")

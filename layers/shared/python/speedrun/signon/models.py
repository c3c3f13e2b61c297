"""Sign-on request and reply bodies (http-api.md, Sign-on). Unknown fields are refused, and every
problem names its field, so a client sees exactly what to fix; no text field takes a lone surrogate
(`speedrun.text.UnicodeModel`)."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator

from speedrun.engine.store import JOIN_CODE_ALPHABET, JOIN_CODE_LENGTH, NAME_MAX_CHARS
from speedrun.players.commands import HANDLE_PATTERN
from speedrun.question_sets.models import MAX_CATEGORY_CHARS, MAX_NAME_CHARS, MAX_QUESTIONS
from speedrun.text import UnicodeModel

PLAYER_HANDLE_PATTERN = HANDLE_PATTERN
"""The players API's own pattern (3..32 of `a-z 0-9 _ -`, starting with a letter or digit), so the
history of every handle given at join can be read back through `/api/players/{handle}/games`."""
JOIN_CODE_PATTERN = re.compile(f"[{JOIN_CODE_ALPHABET}]{{{JOIN_CODE_LENGTH}}}")
_JOIN_CODE_NOISE = re.compile(r"[\s-]+")

MAX_DURATION_S = 7200
"""The longest `duration_s`: API Gateway closes a WebSocket connection after 2 h."""
CategoryName = Annotated[str, Field(min_length=1, max_length=MAX_CATEGORY_CHARS)]


class CreateSpeedRunRequest(UnicodeModel):
    """`POST /api/signon/speedruns`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    question_set_id: str = Field(min_length=1, max_length=64, description="One of the caller's question sets.")
    name: str | None = Field(
        default=None, min_length=1, max_length=MAX_NAME_CHARS, description="Run name (default: the set's name)."
    )
    categories: list[CategoryName] | None = Field(
        default=None,
        min_length=1,
        description="Only questions of these categories (case-insensitive); every one must exist in the set.",
    )
    question_count: int | None = Field(
        default=None, ge=1, le=MAX_QUESTIONS, description="How many questions (default: every matching one)."
    )
    shuffle: bool = Field(default=False, description="Pick and order the questions at random.")
    question_duration_s: int = Field(default=20, ge=5, le=300, description="Seconds per question.")
    duration_s: int | None = Field(
        default=None, ge=30, le=MAX_DURATION_S, description="The run's deadline after start (default: none)."
    )
    max_participants: int = Field(default=1000, ge=1, le=10000)
    chat: bool = Field(default=False, description="Participants may send messages.")
    late_join: bool = Field(default=True, description="Participants may join once the run is running.")

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value.strip() if value is not None else None


class JoinRequest(UnicodeModel):
    """`POST /api/signon/join`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    join_code: str = Field(
        description=f"{JOIN_CODE_LENGTH} characters as read aloud; case, spaces and dashes do not matter."
    )
    name: str = Field(description=f"Nickname, 1..{NAME_MAX_CHARS} characters, unique in the run (case-insensitive).")
    player_handle: str | None = Field(
        default=None,
        pattern=PLAYER_HANDLE_PATTERN,
        description="Optional: records the game in this player's history.",
    )

    @field_validator("join_code")
    @classmethod
    def _normalise_join_code(cls, value: str) -> str:
        code = normalise_join_code(value)
        if not JOIN_CODE_PATTERN.fullmatch(code):
            raise ValueError(f"must be {JOIN_CODE_LENGTH} characters from {JOIN_CODE_ALPHABET}")
        return code

    @field_validator("name")
    @classmethod
    def _clean_name(cls, value: str) -> str:
        name = clean_name(value)
        if not 1 <= len(name) <= NAME_MAX_CHARS:
            raise ValueError(f"must be 1..{NAME_MAX_CHARS} characters (after removing control characters)")
        return name


class SpeedRunCreated(BaseModel):
    speedrun_id: str
    join_code: str
    host_token: str
    ws_url: str
    expires_at: str = Field(description="ISO-8601: the host token (and the run at the latest) expires then.")


class RunJoined(BaseModel):
    speedrun_id: str
    participant_id: str
    participant_token: str
    ws_url: str


def normalise_join_code(value: str) -> str:
    """Codes are read aloud and typed back: case, spaces and dashes are noise."""
    return _JOIN_CODE_NOISE.sub("", value).upper()


def clean_name(value: str) -> str:
    """A nickname without control, format or unassigned characters (Unicode category C*), trimmed."""
    return "".join(ch for ch in value if not unicodedata.category(ch).startswith("C")).strip()

"""The WebSocket envelope and each action's fields (protocol.md; docs/engine.md), validated at the edge.

Anything malformed is refused with `bad_request` before Redis is touched, so it changes nothing.
Option indexes are checked against the question (range, count) in the script, which has it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from pydantic import (
    ConfigDict,
    Field,
    StrictFloat,
    StrictInt,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from speedrun.errors import BadRequest, TooLarge
from speedrun.question_types import MAX_NUMERIC_ABS, MAX_OPTIONS
from speedrun.text import UnicodeModel, load_json

MAX_FRAME_BYTES = 32 * 1024
"""API Gateway's WebSocket frame size."""
MAX_REQUEST_ID_CHARS = 64
MAX_MESSAGE_CHARS = 500
MAX_EXTRA_TIME = 4
"""The most extra time a host may grant: four times a question's time."""


@dataclass(frozen=True)
class Envelope:
    body: dict[str, Any]
    request_id: str | None


def read_envelope(raw: str | None) -> Envelope:
    """Parse a frame; raises the protocol error (too_large, bad_request) with the request id when known.
    Nesting deeper than `speedrun.text.MAX_JSON_DEPTH` is refused before parsing."""
    raw = raw or ""
    if len(raw.encode()) > MAX_FRAME_BYTES:
        raise TooLarge(f"frames are limited to {MAX_FRAME_BYTES} bytes")
    try:
        body = load_json(raw, what="the frame")
    except ValueError:
        raise BadRequest("the frame is not JSON") from None
    if not isinstance(body, dict):
        raise BadRequest("the frame must be a JSON object")
    request_id = body.get("request_id")
    if request_id is not None and (
        not isinstance(request_id, str) or len(request_id) > MAX_REQUEST_ID_CHARS or not _is_utf8(request_id)
    ):
        raise BadRequest(f"request_id must be a UTF-8 string of at most {MAX_REQUEST_ID_CHARS} characters")
    return Envelope(body=body, request_id=request_id)


def _is_utf8(text: str) -> bool:
    """False for a lone surrogate (valid JSON as a `\\uD800` escape): echoed in the reply, it would
    make a frame that cannot be sent, as WebSocket text is UTF-8."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


ParticipantId = Annotated[StrictStr, Field(min_length=1, max_length=64)]
"""A participant a host action names (`kick`, `extra_time`)."""


class _Fields(UnicodeModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class QuestionFields(_Fields):
    index: StrictInt = Field(ge=0)


class AnswerFields(_Fields):
    """`selected` answers a choice, true/false, poll or order question (an order question's indexes in
    the participant's order); `value` a numeric one. Which one the question takes is checked by the
    script, which has the question."""

    index: StrictInt = Field(ge=0)
    selected: list[StrictInt] | None = Field(default=None, min_length=1, max_length=MAX_OPTIONS)
    value: StrictInt | StrictFloat | None = Field(
        default=None, ge=-MAX_NUMERIC_ABS, le=MAX_NUMERIC_ABS, allow_inf_nan=False
    )

    @field_validator("selected")
    @classmethod
    def _distinct(cls, selected: list[int] | None) -> list[int] | None:
        if selected is not None and len(set(selected)) != len(selected):
            raise ValueError("options must be distinct")
        return selected

    @model_validator(mode="after")
    def _one_answer(self) -> AnswerFields:
        if (self.selected is None) == (self.value is None):
            raise ValueError("send either `selected` (option indexes) or `value` (a numeric question's number)")
        return self

    @property
    def script_argument(self) -> str:
        """The answer as the script takes it: a JSON array of indexes, or the number."""
        return json.dumps(self.selected if self.value is None else self.value)


class ExtraTimeFields(_Fields):
    participant_id: ParticipantId
    multiplier: StrictInt | StrictFloat = Field(
        ge=1, le=MAX_EXTRA_TIME, allow_inf_nan=False, description="1 removes the participant's extra time."
    )


class KickFields(_Fields):
    participant_id: ParticipantId


class MessageFields(_Fields):
    to: StrictStr = Field(min_length=1, max_length=64)
    content: StrictStr = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)


FieldsT = TypeVar("FieldsT", bound=_Fields)


def parse_fields(model: type[FieldsT], body: dict[str, Any]) -> FieldsT:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or 'body'}: {error['msg']}" for error in exc.errors()
        )
        raise BadRequest(problems) from None

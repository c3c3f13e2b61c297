"""The players command side: validated command bodies, ownership check, and the queued command.

`PUT /api/players/{handle}` upserts a profile and `POST /api/players/{handle}/progress` appends a
progress record; both are queued on the players FIFO queue (group = handle, deduplication id = a
hash of the command's scope, see `PlayerCommand.scope`) and applied by the players worker. A handle
belongs to the account (Cognito `sub`) that first created its profile: another account's command is
refused here (403) and again by the worker.

A client's `request_id` is only unique to that client: it is always scoped by the command kind, the
handle and the caller's `sub` (`PlayerCommand.scope`), both for the queue's deduplication and for the
worker's idempotency, so two players (or one player's upsert and progress) never collide.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, StrictFloat, StrictInt

from speedrun.adapters.tables import PlayerModel
from speedrun.clock import now_ms
from speedrun.errors import Forbidden
from speedrun.text import UnicodeModel

HANDLE_PATTERN = r"^[a-z0-9][a-z0-9_-]{2,31}$"
"""3..32 characters: lowercase letters, digits, `_` and `-`, starting with a letter or digit."""
REQUEST_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
UPSERT_PROFILE = "upsert_profile"
RECORD_PROGRESS = "record_progress"

RequestId = Annotated[
    str,
    Field(
        pattern=REQUEST_ID_PATTERN,
        description="Idempotency key, scoped by the caller, the handle and the command: a repeat is applied once.",
    ),
]


class ProfileBody(UnicodeModel):
    """`PUT /api/players/{handle}`: the whole profile (an upsert replaces it)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    display_name: str = Field(min_length=1, max_length=40)
    avatar: str | None = Field(
        default=None,
        min_length=1,
        max_length=16,
        pattern=r"^[^\s/:]+$",
        description="An emoji or a short string; never a URL.",
    )
    bio: str | None = Field(default=None, max_length=280)
    request_id: RequestId | None = None


class ProgressBody(UnicodeModel):
    """`POST /api/players/{handle}/progress`: one append-only progress record."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)
    kind: str = Field(
        pattern=r"^[a-z][a-z0-9_]{0,31}$",
        description="What is recorded, e.g. `level_reached`, `practice_score`, `badge`.",
    )
    value: (
        StrictInt
        | Annotated[StrictFloat, Field(allow_inf_nan=False)]
        | Annotated[str, Field(min_length=1, max_length=100)]
    ) = Field(description="A number or a short string.")
    note: str | None = Field(default=None, max_length=280)
    request_id: RequestId | None = None


class PlayerCommand(BaseModel):
    """A queued command (the players queue's message body)."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["upsert_profile", "record_progress"]
    handle: str
    owner: str
    request_id: str
    accepted_at: int
    """Server time the command side accepted it: the event's `at` and the progress record's key."""
    profile: dict[str, Any] | None = None
    record: dict[str, Any] | None = None

    def scope(self) -> list[str]:
        """What makes a command unique: its kind, handle, owner (the caller's `sub`) and request id.

        The worker's idempotency key is `IDEMPOTENCY_KEY_JMESPATH` of the queued body, i.e. this list.
        """
        return [self.kind, self.handle, self.owner, self.request_id]

    def deduplication_id(self) -> str:
        """The FIFO MessageDeduplicationId: SHA-256 (hex, 64 characters; SQS allows 128) of the scope."""
        return hashlib.sha256(json.dumps(self.scope()).encode()).hexdigest()


IDEMPOTENCY_KEY_JMESPATH = "[kind, handle, owner, request_id]"
"""The worker's idempotency key, selected from a queued command's body: `PlayerCommand.scope()`."""


class PlayerCommandQueue(Protocol):
    """The part of `speedrun.adapters.queues.JobQueues` the command side uses."""

    def send_player_command(self, handle: str, deduplication_id: str, body: dict[str, Any]) -> None: ...


def check_owner(handle: str, owner: str) -> PlayerModel | None:
    """The handle's profile, if any; Forbidden when it is bound to another account."""
    try:
        player = PlayerModel.get(handle, consistent_read=True)
    except PlayerModel.DoesNotExist:
        return None
    if player.owner != owner:
        raise Forbidden("this handle belongs to another account")
    return player


class PlayerCommands:
    def __init__(
        self,
        queue: PlayerCommandQueue,
        *,
        clock: Callable[[], int] = now_ms,
        new_request_id: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._queue = queue
        self._clock = clock
        self._new_request_id = new_request_id

    def upsert_profile(self, handle: str, owner: str, body: ProfileBody) -> str:
        profile = body.model_dump(exclude={"request_id"})
        return self._enqueue(handle, owner, UPSERT_PROFILE, body.request_id, profile=profile)

    def record_progress(self, handle: str, owner: str, body: ProgressBody) -> str:
        record = body.model_dump(exclude={"request_id"})
        return self._enqueue(handle, owner, RECORD_PROGRESS, body.request_id, record=record)

    def _enqueue(self, handle: str, owner: str, kind: str, request_id: str | None, **payload: Any) -> str:
        check_owner(handle, owner)
        command = PlayerCommand.model_validate(
            {
                "kind": kind,
                "handle": handle,
                "owner": owner,
                "request_id": request_id or self._new_request_id(),
                "accepted_at": self._clock(),
                **payload,
            }
        )
        self._queue.send_player_command(handle, command.deduplication_id(), command.model_dump())
        return command.request_id

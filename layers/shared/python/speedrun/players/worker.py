"""The players worker: applies queued commands once each and records them as player events.

Order of a command: re-check ownership (point read), append the event (deterministic key, so a
retry rewrites it), then update the read model with a condition that makes a retry harmless (a
profile counts an upsert once per request id; a progress record is insert-only, never
overwritten). The worker runs commands of one handle in order (FIFO group), so the point read
cannot race another command of the same handle. Exactly-once per command comes from Powertools
idempotency on top (`make_idempotent_apply`), keyed on the command's scope (kind, handle, owner,
request id: `PlayerCommand.scope`), never on the client's request id alone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent_function,
)
from pynamodb.exceptions import PutError, UpdateError

from speedrun.adapters.tables import PlayerModel, PlayerProgressModel
from speedrun.clock import iso_from_ms
from speedrun.errors import Forbidden
from speedrun.events import PROFILE_UPSERTED, PROGRESS_RECORDED, player_aggregate, player_event_seq
from speedrun.players.commands import (
    IDEMPOTENCY_KEY_JMESPATH,
    RECORD_PROGRESS,
    UPSERT_PROFILE,
    PlayerCommand,
    check_owner,
)
from speedrun.reporting import event_store

logger = Logger(child=True)

IDEMPOTENCY_TTL_S = 7 * 24 * 3600
"""A command (same kind, handle, owner and request id) repeated within a week is applied once."""

APPLIED = "applied"
REJECTED = "rejected"


def command_event(command: PlayerCommand) -> dict[str, Any]:
    # The seq key carries the kind: one player's upsert and progress record may share a request id
    # (and a millisecond), and must not overwrite each other's event.
    seq_key = f"{command.kind}#{command.request_id}"
    if command.kind == UPSERT_PROFILE:
        kind = PROFILE_UPSERTED
        data = {"request_id": command.request_id, "owner": command.owner, "profile": command.profile}
    else:
        kind = PROGRESS_RECORDED
        data = {"request_id": command.request_id, "record": command.record}
    return {
        "seq": player_event_seq(command.accepted_at, seq_key),
        "type": kind,
        "at": command.accepted_at,
        "data": data,
    }


def progress_model(handle: str, event: dict[str, Any]) -> PlayerProgressModel:
    recorded_at = iso_from_ms(int(event["at"]))
    request_id = event["data"]["request_id"]
    return PlayerProgressModel(
        handle,
        f"{recorded_at}#{request_id}",
        request_id=request_id,
        recorded_at=recorded_at,
        record=event["data"]["record"],
    )


def profile_model(handle: str, events: Sequence[dict[str, Any]]) -> PlayerModel | None:
    """The profile read model folded from a player's events (replay); None when never upserted."""
    upserts = [e for e in sorted(events, key=lambda e: int(e["seq"])) if e["type"] == PROFILE_UPSERTED]
    if not upserts:
        return None
    last = upserts[-1]
    return PlayerModel(
        handle,
        owner=upserts[0]["data"]["owner"],
        profile=last["data"]["profile"],
        updated_at=iso_from_ms(int(last["at"])),
        version=len(upserts),
        last_request_id=last["data"]["request_id"],
    )


class PlayerWorker:
    def apply(self, command: PlayerCommand) -> dict[str, Any]:
        """Apply one command; a command the owner check refuses is reported, not retried."""
        try:
            player = check_owner(command.handle, command.owner)
        except Forbidden:
            logger.warning("player command refused: handle owned by another account", extra={"handle": command.handle})
            return {"request_id": command.request_id, "status": REJECTED, "reason": "forbidden"}
        if command.kind == RECORD_PROGRESS and player is None:
            logger.warning("progress for a handle without a profile", extra={"handle": command.handle})
            return {"request_id": command.request_id, "status": REJECTED, "reason": "not_found"}
        event = command_event(command)
        event_store.append(player_aggregate(command.handle), event)
        if command.kind == UPSERT_PROFILE:
            self._upsert_profile(command)
        else:
            self._insert_progress(command.handle, event)
        return {"request_id": command.request_id, "status": APPLIED}

    @staticmethod
    def _upsert_profile(command: PlayerCommand) -> None:
        player = PlayerModel(command.handle)
        first_or_same_owner = PlayerModel.handle.does_not_exist() | (PlayerModel.owner == command.owner)
        not_yet_counted = PlayerModel.last_request_id.does_not_exist() | (
            PlayerModel.last_request_id != command.request_id
        )
        try:
            player.update(
                actions=[
                    PlayerModel.owner.set(command.owner),
                    PlayerModel.profile.set(command.profile),
                    PlayerModel.updated_at.set(iso_from_ms(command.accepted_at)),
                    PlayerModel.last_request_id.set(command.request_id),
                    PlayerModel.version.add(1),
                ],
                condition=first_or_same_owner & not_yet_counted,
            )
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            # Already applied by an earlier attempt that crashed before its idempotency record.

    @staticmethod
    def _insert_progress(handle: str, event: dict[str, Any]) -> None:
        try:
            progress_model(handle, event).save(condition=PlayerProgressModel.record_key.does_not_exist())
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            # The record exists (an earlier attempt wrote it): progress is never overwritten.


def idempotency_config() -> IdempotencyConfig:
    """Keyed on the command's scope (kind, handle, owner, request id), so two players' (or one
    player's two kinds of) commands with the same client request id are both applied. The handler
    registers its Lambda context on it, so a command left in progress by a timed-out invocation can
    be retried once that invocation is over."""
    return IdempotencyConfig(event_key_jmespath=IDEMPOTENCY_KEY_JMESPATH, expires_after_seconds=IDEMPOTENCY_TTL_S)


def make_idempotent_apply(
    worker: PlayerWorker, persistence: DynamoDBPersistenceLayer, config: IdempotencyConfig | None = None
) -> Callable[..., dict[str, Any]]:
    """`apply(command=<queued body dict>)`, run at most once per command scope."""
    config = config or idempotency_config()

    @idempotent_function(data_keyword_argument="command", persistence_store=persistence, config=config)
    def apply(command: dict[str, Any]) -> dict[str, Any]:
        return worker.apply(PlayerCommand.model_validate(command))

    return apply


def process_player_commands(
    event: dict[str, Any], apply: Callable[..., dict[str, Any]], context: Any = None
) -> PartialItemFailureResponse:
    """Apply every command of an SQS FIFO batch; a failure fails it and the rest of the batch."""

    def record_handler(record: SQSRecord) -> dict[str, Any]:
        return apply(command=PlayerCommand.model_validate_json(record.body).model_dump())

    return process_partial_response(event, record_handler, SqsFifoPartialProcessor(), context)

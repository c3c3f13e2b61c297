"""Every DynamoDB table of the system, declared once as a pynamodb model.

The CDK `tables` construct builds each table from these models (key schema, TTL, indexes), and
the local stack creates them in moto from the same models, so the two cannot disagree.
Table names come from the environment (`TABLE_<LOGICAL_NAME>`, see `speedrun.manifest.table_env`),
read when this module is imported; the logical name is the fallback for tests and the local stack.
"""

from __future__ import annotations

import os
from typing import Any

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
)
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from speedrun import manifest


def _table_name(logical: str) -> str:
    return os.environ.get(manifest.table_env(logical), logical)


def _region() -> str:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"


class QuestionSetModel(Model):
    """Metadata of one stored question set; the questions themselves live in the question store."""

    class Meta:
        table_name = _table_name(manifest.QUESTION_SETS)
        region = _region()

    owner = UnicodeAttribute(hash_key=True)
    """The uploading host's user id (Cognito `sub`): a host lists and reads only their own sets."""
    set_id = UnicodeAttribute(range_key=True)
    """Time-ordered id, so a query by owner lists newest first without an index."""
    name = UnicodeAttribute()
    question_count = NumberAttribute()
    categories = MapAttribute[str, Any]()
    """Category name (as first written) -> question count."""
    created_at = UnicodeAttribute()
    store_key = UnicodeAttribute()
    """Path of the current version's immutable file inside the question store."""
    source_format = UnicodeAttribute()
    size_bytes = NumberAttribute()
    version = NumberAttribute(null=True)
    """1 at upload, one more per replace; absent on items written before sets had versions (1)."""
    updated_at = UnicodeAttribute(null=True)
    """When the current version was saved; absent on items written before sets had versions (created_at)."""


class EventModel(Model):
    """The event store: every state change of a run or a player, in order, forever."""

    class Meta:
        table_name = _table_name(manifest.EVENTS)
        region = _region()

    aggregate_id = UnicodeAttribute(hash_key=True)
    """`run#<run id>` or `player#<handle>`."""
    seq = NumberAttribute(range_key=True)
    """Position in the aggregate's stream; deterministic, so a redelivered event rewrites the same item."""
    type = UnicodeAttribute()
    at = NumberAttribute()
    """Server time, epoch milliseconds."""
    data = JSONAttribute()


class RunsByHostIndex(GlobalSecondaryIndex["RunModel"]):
    """A host's persisted runs, newest first (`GET /api/speedruns`): only the small listing is projected."""

    class Meta:
        index_name = "runs_by_host"
        projection = IncludeProjection(["name", "status", "listing"])

    host = UnicodeAttribute(hash_key=True)
    created_key = UnicodeAttribute(range_key=True)


class RunModel(Model):
    """Read model: one completed run's summary."""

    class Meta:
        table_name = _table_name(manifest.RUNS)
        region = _region()

    run_id = UnicodeAttribute(hash_key=True)
    host = UnicodeAttribute()
    name = UnicodeAttribute()
    status = UnicodeAttribute()
    summary = JSONAttribute()
    """Config, counts, timestamps, completion reason, final leaderboard, questions (with correct options)."""
    created_key = UnicodeAttribute(null=True)
    """`<created_at epoch ms, 15 digits>#<run id>` (`speedrun.reporting.live_runs.listing_key`): the
    index's sort key, the same string the live per-host index sorts by. Null on items written before
    the index existed (a replay rewrites them with it)."""
    listing = JSONAttribute(null=True)
    """The list entry's counts and timestamps (`speedrun.reporting.host_runs`), projected into the index."""
    by_host = RunsByHostIndex()


class ResultModel(Model):
    """Read model: one participant's results in one run (every answer with outcome, points, elapsed)."""

    class Meta:
        table_name = _table_name(manifest.RESULTS)
        region = _region()

    run_id = UnicodeAttribute(hash_key=True)
    participant_id = UnicodeAttribute(range_key=True)
    name = UnicodeAttribute()
    player_handle = UnicodeAttribute(null=True)
    join_order = NumberAttribute()
    kicked = BooleanAttribute(default=False)
    finished = BooleanAttribute(default=False)
    score = NumberAttribute()
    rank = NumberAttribute(null=True)
    """None for a kicked participant."""
    elapsed_ms = NumberAttribute()
    answered = NumberAttribute()
    correct_count = NumberAttribute()
    answers = JSONAttribute()
    """[{index, selected, outcome, points, elapsed_ms, served_at}], by question index."""


class GamesByHostIndex(GlobalSecondaryIndex["PlayerGameModel"]):
    """One player's games in one host's runs, newest first: what a host who is not the player may read."""

    class Meta:
        index_name = "games_by_host_handle"
        projection = AllProjection()

    host_handle = UnicodeAttribute(hash_key=True)
    game_key = UnicodeAttribute(range_key=True)


class PlayerGameModel(Model):
    """Read model: a player's game history, newest first by sort key."""

    class Meta:
        table_name = _table_name(manifest.PLAYER_GAMES)
        region = _region()

    handle = UnicodeAttribute(hash_key=True)
    game_key = UnicodeAttribute(range_key=True)
    """`<completed_at ISO-8601>#<run id>`: sorts by time, unique per run."""
    run_id = UnicodeAttribute()
    run_name = UnicodeAttribute()
    completed_at = UnicodeAttribute()
    score = NumberAttribute()
    rank = NumberAttribute()
    completed_at_ms = NumberAttribute()
    participant_id = UnicodeAttribute()
    participant_count = NumberAttribute()
    question_count = NumberAttribute()
    correct_count = NumberAttribute()
    host = UnicodeAttribute(null=True)
    """The run's host (Cognito `sub`); never served."""
    host_handle = UnicodeAttribute(null=True)
    """`<host sub>#<handle>`: the index key (null on items written before the index existed)."""
    by_host_handle = GamesByHostIndex()


class PlayerModel(Model):
    """Query side of the players service: a profile, by point read."""

    class Meta:
        table_name = _table_name(manifest.PLAYERS)
        region = _region()

    handle = UnicodeAttribute(hash_key=True)
    owner = UnicodeAttribute()
    """The account (Cognito `sub`) the handle is bound to."""
    profile = JSONAttribute()
    updated_at = UnicodeAttribute()
    version = NumberAttribute()
    """How many profile upserts were applied (1 after the first)."""
    last_request_id = UnicodeAttribute()
    """The last applied upsert: a retried command after a crash does not count twice."""


class PlayerProgressModel(Model):
    """Append-only progress records of a player (never overwritten)."""

    class Meta:
        table_name = _table_name(manifest.PLAYER_PROGRESS)
        region = _region()

    handle = UnicodeAttribute(hash_key=True)
    record_key = UnicodeAttribute(range_key=True)
    """`<recorded_at ISO-8601>#<request id>`."""
    request_id = UnicodeAttribute()
    recorded_at = UnicodeAttribute()
    record = JSONAttribute()


class IdempotencyModel(Model):
    """Powertools idempotency records (its DynamoDB persistence layer's default attribute names)."""

    class Meta:
        table_name = _table_name(manifest.IDEMPOTENCY)
        region = _region()

    id = UnicodeAttribute(hash_key=True)
    expiration = TTLAttribute(null=True)
    status = UnicodeAttribute(null=True)
    data = UnicodeAttribute(null=True)
    validation = UnicodeAttribute(null=True)
    in_progress_expiration = NumberAttribute(null=True)


MODELS: dict[str, type[Model]] = {
    manifest.QUESTION_SETS: QuestionSetModel,
    manifest.EVENTS: EventModel,
    manifest.RUNS: RunModel,
    manifest.RESULTS: ResultModel,
    manifest.PLAYER_GAMES: PlayerGameModel,
    manifest.PLAYERS: PlayerModel,
    manifest.PLAYER_PROGRESS: PlayerProgressModel,
    manifest.IDEMPOTENCY: IdempotencyModel,
}
"""Logical table name -> model. The CDK tables construct and the local stack iterate this."""


def ttl_attribute(model: type[Model]) -> str | None:
    """Name of the model's TTL attribute, if it has one (DynamoDB allows at most one)."""
    for name, attribute in model.get_attributes().items():
        if isinstance(attribute, TTLAttribute):
            return attribute.attr_name or name
    return None


def create_all(**create_kwargs: Any) -> None:
    """Create every table (moto in tests and the local stack), on demand, waiting until active."""
    for model in MODELS.values():
        if not model.exists():
            model.create_table(billing_mode="PAY_PER_REQUEST", wait=True, **create_kwargs)

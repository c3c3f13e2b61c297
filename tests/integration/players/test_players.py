"""Players: commands validated and queued (202), applied once per request id by the worker,
progress never overwritten, handles bound to their first account, profiles by point read."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

import lambdas.players_command.handler as players_command
import lambdas.players_worker.handler as players_worker
import lambdas.results.handler as results_lambda
from speedrun import events, manifest
from speedrun.adapters.tables import PlayerModel, PlayerProgressModel
from speedrun.players.commands import PlayerCommand, PlayerCommands, ProfileBody, ProgressBody
from speedrun.players.worker import PlayerWorker
from speedrun.reporting import event_store
from tests.support.durable_stores import (
    MotoQueues,
    durable_stores,
    poll_once,
    queue_depth,
    sqs_event,
)
from tests.support.fakes import FakeLambdaContext
from tests.support.question_sets import http_event

OWNER = "player-sub-1"
OTHER = "player-sub-2"


@pytest.fixture
def stores() -> Iterator[MotoQueues]:
    with durable_stores() as queues:
        players_command.commands.cache_clear()
        players_worker.apply_once.cache_clear()
        yield queues
        players_command.commands.cache_clear()
        players_worker.apply_once.cache_clear()


def _call(module: Any, method: str, path: str, body: Any = None, *, sub: str | None = OWNER) -> tuple[int, Any]:
    raw = None if body is None else json.dumps(body).encode()
    event = http_event(method, path, sub=sub, body=raw, content_type="application/json" if raw else None)
    response = module.handler(event, FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"]) if response.get("body") else None


def _work(stores: MotoQueues) -> None:
    """Run the worker over the players queue until it is empty."""
    handler = lambda event: players_worker.handler(event, FakeLambdaContext())  # noqa: E731
    while poll_once(stores.sqs, stores.urls[manifest.PLAYERS_QUEUE], handler, 10):
        pass


def _players_queue_depth(stores: MotoQueues) -> int:
    return queue_depth(stores.sqs, stores.urls[manifest.PLAYERS_QUEUE])


def test_profile_put_is_queued_applied_and_read_back(stores):
    status, body = _call(players_command, "PUT", "/api/players/ada", {"display_name": "Ada", "avatar": "🦊"})
    assert status == 202
    assert body["request_id"]
    assert _players_queue_depth(stores) == 1
    # Not applied until the worker runs: the query side is a point read of the read model.
    assert _call(results_lambda, "GET", "/api/players/ada")[0] == 404

    _work(stores)

    status, profile = _call(results_lambda, "GET", "/api/players/ada")
    assert status == 200
    assert profile["handle"] == "ada"
    assert (profile["display_name"], profile["avatar"], profile["bio"], profile["version"]) == ("Ada", "🦊", None, 1)
    _call(players_command, "PUT", "/api/players/ada", {"display_name": "Ada L.", "bio": "math", "request_id": "r-2"})
    _work(stores)
    profile = _call(results_lambda, "GET", "/api/players/ada")[1]
    assert (profile["display_name"], profile["bio"], profile["version"]) == ("Ada L.", "math", 2)
    stream = event_store.read_stream(events.player_aggregate("ada"))
    assert [e["type"] for e in stream] == [events.PROFILE_UPSERTED] * 2
    assert stream[1]["data"]["request_id"] == "r-2"


def test_unknown_handle_is_not_found(stores):
    status, body = _call(results_lambda, "GET", "/api/players/nobody")
    assert status == 404
    assert body["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/players/ada", {"display_name": ""}, "display_name"),
        ("/api/players/ada", {"display_name": "x" * 41}, "display_name"),
        ("/api/players/ada", {}, "display_name"),
        ("/api/players/ada", {"display_name": "Ada", "avatar": "https://evil.example/a.png"}, "avatar"),
        ("/api/players/ada", {"display_name": "Ada", "bio": "b" * 281}, "bio"),
        ("/api/players/ada", {"display_name": "Ada", "request_id": "no spaces allowed"}, "request_id"),
        ("/api/players/ada", {"display_name": "Ada", "owner": "someone"}, "owner"),
        ("/api/players/Not%20A%20Handle", {"display_name": "Ada"}, "handle"),
        ("/api/players/ada/progress", {"kind": "Level Reached", "value": 3}, "kind"),
        ("/api/players/ada/progress", {"kind": "level_reached"}, "value"),
        ("/api/players/ada/progress", {"kind": "level_reached", "value": True}, "value"),
        ("/api/players/ada/progress", {"kind": "level_reached", "value": 3, "note": "n" * 281}, "note"),
    ],
)
def test_invalid_commands_are_refused_naming_the_field_and_nothing_is_queued(stores, path, body, field):
    method = "POST" if path.endswith("/progress") else "PUT"
    status, reply = _call(players_command, method, path, body)
    assert status == 400
    assert reply["error"]["code"] == "bad_request"
    assert any(field in detail["field"] for detail in reply["error"]["details"]), reply
    assert _players_queue_depth(stores) == 0


def test_a_handle_belongs_to_the_account_that_created_it(stores):
    _call(players_command, "PUT", "/api/players/ada", {"display_name": "Ada"})
    _work(stores)

    status, reply = _call(players_command, "PUT", "/api/players/ada", {"display_name": "Mallory"}, sub=OTHER)
    assert (status, reply["error"]["code"]) == (403, "forbidden")
    status, reply = _call(players_command, "POST", "/api/players/ada/progress", {"kind": "x", "value": 1}, sub=OTHER)
    assert (status, reply["error"]["code"]) == (403, "forbidden")
    assert _players_queue_depth(stores) == 0

    # The worker re-checks: a command that slipped through (queued before the profile existed) is refused.
    sneaked = PlayerCommand(
        kind="upsert_profile",
        handle="ada",
        owner=OTHER,
        request_id="sneak",
        accepted_at=1,
        profile={"display_name": "M"},
    )
    assert PlayerWorker().apply(sneaked)["status"] == "rejected"
    assert PlayerModel.get("ada").owner == OWNER
    assert PlayerModel.get("ada").profile["display_name"] == "Ada"
    assert len(event_store.read_stream(events.player_aggregate("ada"))) == 1


def test_progress_without_a_profile_is_rejected_by_the_worker(stores):
    status, _ = _call(players_command, "POST", "/api/players/ghost/progress", {"kind": "badge", "value": "first"})
    assert status == 202
    _work(stores)
    assert PlayerProgressModel.count("ghost") == 0
    assert event_store.read_stream(events.player_aggregate("ghost")) == []


class _RecordingQueue:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    def send_player_command(self, handle: str, deduplication_id: str, body: dict[str, Any]) -> None:
        self.sent.append((handle, deduplication_id, body))


def _as_messages(sent: list[tuple[str, str, dict[str, Any]]]) -> list[dict[str, Any]]:
    return [
        {
            "MessageId": f"m-{n}",
            "ReceiptHandle": f"rh-{n}",
            "Body": json.dumps(body),
            "MD5OfBody": "",
            "Attributes": {"MessageGroupId": handle},
        }
        for n, (handle, _deduplication_id, body) in enumerate(sent)
    ]


def test_100_commands_with_20_repeated_request_ids_apply_exactly_80(stores):
    queue = _RecordingQueue()
    clock = iter(range(1_800_000_000_000, 1_800_000_000_000 + 1000))
    commands = PlayerCommands(queue, clock=lambda: next(clock))
    commands.upsert_profile("ada", OWNER, ProfileBody(display_name="Ada", request_id="profile-1"))
    for n in range(100):
        # Every fifth command repeats an earlier request id (a client retry, after the queue's
        # 5-minute deduplication window: accepted again, with a new accepted_at).
        request_id = f"progress-{n - 1}" if n % 5 == 1 else f"progress-{n}"
        commands.record_progress("ada", OWNER, ProgressBody(kind="practice_score", value=n, request_id=request_id))
    assert len(queue.sent) == 101

    messages = _as_messages(queue.sent)
    for start in range(0, len(messages), 10):
        response = players_worker.handler(sqs_event(messages[start : start + 10]), FakeLambdaContext())
        assert response == {"batchItemFailures": []}
    # Delivered again as a whole (an at-least-once redelivery): still nothing new.
    for start in range(0, len(messages), 10):
        players_worker.handler(sqs_event(messages[start : start + 10]), FakeLambdaContext())

    records = list(PlayerProgressModel.query("ada"))
    assert len(records) == 80
    assert sorted(r.request_id for r in records) == sorted({f"progress-{n}" for n in range(100) if n % 5 != 1})
    # The first command of a request id wins: its value is kept.
    assert {r.request_id: r.record["value"] for r in records}["progress-0"] == 0
    stream = event_store.read_stream(events.player_aggregate("ada"))
    assert [e["type"] for e in stream].count(events.PROGRESS_RECORDED) == 80
    assert PlayerModel.get("ada").version == 1


def test_progress_records_are_never_overwritten(stores):
    queue = _RecordingQueue()
    commands = PlayerCommands(queue, clock=lambda: 1_800_000_000_000)
    commands.upsert_profile("ada", OWNER, ProfileBody(display_name="Ada"))
    commands.record_progress("ada", OWNER, ProgressBody(kind="level_reached", value=3, request_id="lvl"))
    worker = PlayerWorker()
    for _handle, _rid, body in queue.sent:
        assert worker.apply(PlayerCommand.model_validate(body))["status"] == "applied"
    original = PlayerProgressModel.get("ada", next(iter(PlayerProgressModel.query("ada"))).record_key)

    # The same command with another value, past idempotency (its record expired): the insert-only
    # write refuses to replace the stored record.
    tampered = PlayerCommand.model_validate({**queue.sent[1][2], "record": {"kind": "level_reached", "value": 99}})
    worker.apply(tampered)
    again = PlayerProgressModel.get("ada", original.record_key)
    assert again.record == original.record == {"kind": "level_reached", "value": 3, "note": None}
    assert PlayerProgressModel.count("ada") == 1


def test_player_command_http_path_to_worker_end_to_end(stores):
    _call(players_command, "PUT", "/api/players/ada", {"display_name": "Ada", "request_id": "same"})
    # The same request id again within the queue's deduplication window: one message.
    status, body = _call(players_command, "PUT", "/api/players/ada", {"display_name": "Ada", "request_id": "same"})
    assert (status, body) == (202, {"request_id": "same"})
    status, body = _call(players_command, "POST", "/api/players/ada/progress", {"kind": "level_reached", "value": 2.5})
    assert status == 202
    _work(stores)
    assert PlayerModel.get("ada").version == 1
    assert [r.record["value"] for r in PlayerProgressModel.query("ada")] == [2.5]
    assert _players_queue_depth(stores) == 0


# Idempotency is scoped by who sent a command (issue 12, item 2): a client's request id is only
# unique to that client, so the key is (kind, handle, owner sub, request id).


def test_two_players_with_the_same_request_id_are_both_applied(stores):
    for handle, sub, name in (("ada", OWNER, "Ada"), ("bob", OTHER, "Bob")):
        status, body = _call(
            players_command, "PUT", f"/api/players/{handle}", {"display_name": name, "request_id": "1"}, sub=sub
        )
        assert (status, body) == (202, {"request_id": "1"})
    for handle, sub in (("ada", OWNER), ("bob", OTHER)):
        status, body = _call(
            players_command,
            "POST",
            f"/api/players/{handle}/progress",
            {"kind": "level_reached", "value": 3, "request_id": "2"},
            sub=sub,
        )
        assert (status, body) == (202, {"request_id": "2"})
    # Neither the queue's deduplication nor the worker's idempotency drops the second player.
    assert _players_queue_depth(stores) == 4
    _work(stores)

    assert _call(results_lambda, "GET", "/api/players/ada")[1]["display_name"] == "Ada"
    assert _call(results_lambda, "GET", "/api/players/bob")[1]["display_name"] == "Bob"
    assert PlayerModel.get("bob").owner == OTHER
    for handle in ("ada", "bob"):
        assert [(r.request_id, r.record["value"]) for r in PlayerProgressModel.query(handle)] == [("2", 3)]


def test_the_worker_scopes_its_idempotency_by_kind_handle_and_owner(stores):
    """Past the queue's 5-minute deduplication window only the worker's idempotency decides."""
    queue = _RecordingQueue()
    clock = iter(range(1_800_000_000_000, 1_800_000_000_000 + 1000))
    commands = PlayerCommands(queue, clock=lambda: next(clock))
    commands.upsert_profile("ada", OWNER, ProfileBody(display_name="Ada", request_id="1"))
    commands.upsert_profile("bob", OTHER, ProfileBody(display_name="Bob", request_id="1"))
    commands.record_progress("ada", OWNER, ProgressBody(kind="badge", value="gold", request_id="1"))
    commands.record_progress("bob", OTHER, ProgressBody(kind="badge", value="silver", request_id="1"))
    # One player repeating a command (a client retry, accepted again later): applied once.
    commands.upsert_profile("ada", OWNER, ProfileBody(display_name="Ada again", request_id="1"))
    commands.record_progress("ada", OWNER, ProgressBody(kind="badge", value="bronze", request_id="1"))
    assert len(queue.sent) == 6

    messages = _as_messages(queue.sent)
    assert players_worker.handler(sqs_event(messages), FakeLambdaContext()) == {"batchItemFailures": []}
    players_worker.handler(sqs_event(messages), FakeLambdaContext())  # redelivered as a whole

    assert (PlayerModel.get("ada").profile["display_name"], PlayerModel.get("ada").version) == ("Ada", 1)
    assert (PlayerModel.get("bob").profile["display_name"], PlayerModel.get("bob").version) == ("Bob", 1)
    assert [r.record["value"] for r in PlayerProgressModel.query("ada")] == ["gold"]
    assert [r.record["value"] for r in PlayerProgressModel.query("bob")] == ["silver"]
    for handle in ("ada", "bob"):
        stream = event_store.read_stream(events.player_aggregate(handle))
        assert [e["type"] for e in stream] == [events.PROFILE_UPSERTED, events.PROGRESS_RECORDED]
    assert len({dedup for _handle, dedup, _body in queue.sent}) == 4


def test_one_players_upsert_and_progress_with_the_same_request_id_are_both_applied(stores):
    # The same millisecond too: the two events must not share a seq (an event put overwrites).
    queue = _RecordingQueue()
    commands = PlayerCommands(queue, clock=lambda: 1_800_000_000_000)
    commands.upsert_profile("ada", OWNER, ProfileBody(display_name="Ada", request_id="same"))
    commands.record_progress("ada", OWNER, ProgressBody(kind="level_reached", value=7, request_id="same"))
    assert queue.sent[0][1] != queue.sent[1][1]

    messages = _as_messages(queue.sent)
    assert players_worker.handler(sqs_event(messages), FakeLambdaContext()) == {"batchItemFailures": []}

    assert PlayerModel.get("ada").version == 1
    assert [r.record["value"] for r in PlayerProgressModel.query("ada")] == [7]
    stream = event_store.read_stream(events.player_aggregate("ada"))
    assert [e["type"] for e in stream] == [events.PROFILE_UPSERTED, events.PROGRESS_RECORDED]


def test_the_same_request_id_through_http_for_upsert_and_progress_is_two_commands(stores):
    _call(players_command, "PUT", "/api/players/ada", {"display_name": "Ada", "request_id": "same"})
    _work(stores)  # the profile exists before the progress record is accepted
    status, body = _call(
        players_command, "POST", "/api/players/ada/progress", {"kind": "badge", "value": "x", "request_id": "same"}
    )
    assert (status, body) == (202, {"request_id": "same"})
    assert _players_queue_depth(stores) == 1
    _work(stores)
    assert [r.record["value"] for r in PlayerProgressModel.query("ada")] == ["x"]


def test_two_accounts_racing_for_a_free_handle_with_the_same_request_id(stores):
    """Both are queued (the handle is free when each is accepted); the first applied owns it, the
    second is refused by the worker, not silently taken for the first one's duplicate."""
    assert _call(players_command, "PUT", "/api/players/ada", {"display_name": "Ada", "request_id": "1"})[0] == 202
    assert (
        _call(players_command, "PUT", "/api/players/ada", {"display_name": "M", "request_id": "1"}, sub=OTHER)[0] == 202
    )
    assert _players_queue_depth(stores) == 2
    _work(stores)
    player = PlayerModel.get("ada")
    assert (player.owner, player.profile["display_name"], player.version) == (OWNER, "Ada", 1)
    assert len(event_store.read_stream(events.player_aggregate("ada"))) == 1


def test_the_fifo_deduplication_id_is_a_short_hash_of_the_scope():
    def command(**overrides: Any) -> PlayerCommand:
        fields = {"kind": "upsert_profile", "handle": "ada", "owner": OWNER, "request_id": "1", "accepted_at": 1}
        return PlayerCommand.model_validate({**fields, **overrides})

    base = command()
    assert base.deduplication_id() == command(accepted_at=2, profile={"display_name": "x"}).deduplication_id()
    others = [
        command(kind="record_progress"),
        command(handle="bob"),
        command(owner=OTHER),
        command(request_id="2"),
    ]
    ids = {base.deduplication_id(), *(other.deduplication_id() for other in others)}
    assert len(ids) == 5
    longest = command(handle="a" * 32, owner="s" * 128, request_id="r" * 64)
    assert len(longest.deduplication_id()) <= 128
    assert all(len(i) <= 128 and i.isalnum() for i in ids)

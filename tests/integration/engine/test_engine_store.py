"""The run store on the test Redis: creating runs, joining (atomically, under contention), who may
connect, the event stream the reporter exports, expiry of runs that never start, and dropping."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from speedrun.adapters.redis_client import redis_from_settings
from speedrun.engine.keys import join_code_key, run_keys
from speedrun.engine.models import Joined
from speedrun.engine.store import JOIN_CODE_ALPHABET, LOBBY_TTL_MS, RunEngine
from speedrun.errors import BadRequest, Conflict, DomainError, Forbidden, NotFound, Unavailable
from speedrun.settings import Settings
from tests.support.engine_harness import Client, EngineWorld, engine_queues, make_questions, run_config
from tests.support.redis_server import free_port


@pytest.fixture(scope="module")
def sqs() -> Iterator[Any]:
    with engine_queues() as client:
        yield client


@pytest.fixture
def world(redis_url: str, sqs: Any) -> EngineWorld:
    return EngineWorld(redis_url, sqs)


def test_a_new_run_is_frozen_in_redis_with_a_readable_join_code(world: EngineWorld) -> None:
    questions = make_questions(3)
    created = world.engine.create_run(run_config(name="Capitals", categories=["cat-0"]), questions)
    assert re.fullmatch(r"[a-z2-7]{12}", created.run_id)
    assert len(created.join_code) == 6 and set(created.join_code) <= set(JOIN_CODE_ALPHABET)
    assert not set("0O1I") & set(JOIN_CODE_ALPHABET)
    assert created.expires_at_ms == world.clock() + LOBBY_TTL_MS
    assert all(f"{{{created.run_id}}}" in key for key in run_keys(created.run_id))
    export = world.engine.export(created.run_id)
    assert export is not None and export.status == "lobby"
    (event,) = export.events
    assert (event["seq"], event["type"], event["at"]) == (1, "run_created", world.clock())
    assert event["data"]["config"] == {
        "question_duration_s": 20,
        "duration_s": 600,
        "max_participants": 1000,
        "chat": True,
        "shuffle": False,
        "categories": ["cat-0"],
        "late_join": True,
        "scoring": "speed",
        "speed_tiebreak": True,
        "show_explanations": False,
    }
    assert event["data"]["questions"][2] == {
        "index": 2,
        "type": "choice",
        "category": "cat-0",
        "text": "Question 2?",
        "options": ["option 2.0", "option 2.1", "option 2.2", "option 2.3"],
        "correct": [2, 3],
        "select_count": 2,
        "explanation": None,
    }
    assert (event["data"]["name"], event["data"]["join_code"]) == ("Capitals", created.join_code)


def test_runs_need_questions_indexed_in_order(world: EngineWorld) -> None:
    with pytest.raises(BadRequest):
        world.engine.create_run(run_config(), [])
    with pytest.raises(BadRequest):
        world.engine.create_run(run_config(), list(reversed(make_questions(2))))


def test_a_run_that_never_starts_expires_and_a_started_one_does_not(world: EngineWorld) -> None:
    expires_at = world.clock() + LOBBY_TTL_MS
    run_id, code, host = world.create(2)
    world.clock.advance(60_000)
    world.join(code, "Ann")  # told at once: the host's notifications are taken
    world.engine.join(code, "Bob", None)  # within the second: waits in the feed for the next flush
    world.send(host, "message", to="all", content="welcome")
    keys = [*run_keys(run_id), join_code_key(code)]
    watchers = run_keys(run_id)[-1]
    assert world.redis.exists(watchers) == 0  # nobody has finished
    kept = [key for key in keys if key != watchers]
    assert {key: world.redis.pexpiretime(key) for key in kept} == dict.fromkeys(kept, expires_at)
    world.send(host, "start")
    assert {key: world.redis.pexpiretime(key) for key in kept} == dict.fromkeys(kept, -1)


def test_join_asks_for_a_flush_and_the_host_hears_of_every_join(world: EngineWorld) -> None:
    run_id, code, host = world.create(2)
    first = world.engine.join(code.lower(), "  Ann  ", "ann-handle")
    assert (first.run_id, first.name, first.participant_count, first.flush_in_ms) == (run_id, "Ann", 1, 0)
    world.clock.advance(10)
    second = world.engine.join(code, "Bob", None)
    # a flush is on its way (due now): this join's notification waits for it
    assert (second.participant_count, second.flush_in_ms) == (2, None)
    flushed = world.engine.call("flush", run_id)
    assert flushed.effects["host_feed"]["conn"] == host.connection_id
    assert [entry["item"] for entry in flushed.effects["host_feed"]["items"]] == [
        {"participant_id": first.participant_id, "name": "Ann"},
        {"participant_id": second.participant_id, "name": "Bob"},
    ]
    assert world.engine.call("flush", run_id).effects == {}  # taken: nothing twice
    joined = [e["data"] for e in world.engine.export(run_id).events if e["type"] == "participant_joined"]  # type: ignore[union-attr]
    assert joined == [
        {"participant_id": first.participant_id, "name": "Ann", "player_handle": "ann-handle", "join_order": 1},
        {"participant_id": second.participant_id, "name": "Bob", "player_handle": None, "join_order": 2},
    ]


@pytest.mark.parametrize(
    ("name", "error"),
    [("ANN", Conflict), ("ann", Conflict), ("", BadRequest), ("   ", BadRequest), ("x" * 25, BadRequest)],
)
def test_names_are_unique_case_insensitively_and_1_to_24_characters(
    world: EngineWorld, name: str, error: type[DomainError]
) -> None:
    _run_id, code, _host = world.create(1)
    world.engine.join(code, "Ann", None)
    with pytest.raises(error):
        world.engine.join(code, name, None)
    assert world.engine.join(code, "x" * 24, None).participant_count == 2


def test_join_refuses_unknown_codes_full_runs_and_finished_runs(world: EngineWorld) -> None:
    with pytest.raises(NotFound):
        world.engine.join("ZZZZZZ", "Ann", None)
    _run_id, code, host = world.create(1, max_participants=1)
    world.engine.join(code, "Ann", None)
    with pytest.raises(Forbidden):
        world.engine.join(code, "Bob", None)
    world.send(host, "start")
    world.send(host, "end")
    with pytest.raises(Conflict):
        world.engine.join(code, "Cat", None)


def test_late_join_while_running_unless_the_run_forbids_it(world: EngineWorld) -> None:
    _run_id, code, host = world.create(2)
    world.send(host, "start")
    late = world.join(code, "Late")
    assert world.send(late, "question", index=0)["index"] == 0
    _closed_id, closed_code, closed_host = world.create(2, late_join=False)
    world.send(closed_host, "start")
    with pytest.raises(Conflict):
        world.engine.join(closed_code, "Late", None)


def test_racing_joins_never_overshoot_the_capacity(world: EngineWorld) -> None:
    run_id, code, _host = world.create(1, max_participants=150)
    barrier = threading.Barrier(200)
    joined: list[Joined] = []
    refused: list[DomainError] = []

    def join(n: int) -> None:
        barrier.wait()
        try:
            joined.append(world.engine.join(code, f"Racer {n}", None))
        except DomainError as exc:
            refused.append(exc)

    threads = [threading.Thread(target=join, args=(n,)) for n in range(200)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(joined) == 150
    assert len(refused) == 50 and all(isinstance(exc, Forbidden) for exc in refused)
    assert sorted(j.participant_count for j in joined) == list(range(1, 151))
    assert world.redis.zcard(run_keys(run_id)[4]) == 150
    events = world.engine.export(run_id).events  # type: ignore[union-attr]
    orders = [e["data"]["join_order"] for e in events if e["type"] == "participant_joined"]
    assert orders == list(range(1, 151))


def test_who_may_connect(world: EngineWorld) -> None:
    run_id, code, host = world.create(1)
    ann = world.join(code, "Ann")
    assert world.engine.connection_allowed(run_id, "host", None) is True
    assert world.engine.connection_allowed(run_id, "participant", ann.participant_id) is True
    assert world.engine.connection_allowed(run_id, "participant", "nobody") is False
    assert world.engine.connection_allowed(run_id, "participant", None) is False
    assert world.engine.connection_allowed(run_id, "admin", ann.participant_id) is False
    assert world.engine.connection_allowed("nosuchrun000", "host", None) is False
    world.send(host, "kick", participant_id=ann.participant_id)
    assert world.engine.connection_allowed(run_id, "participant", ann.participant_id) is False


def test_the_event_stream_is_ordered_from_seq_1_with_server_times(world: EngineWorld) -> None:
    run_id, code, host = world.create(2)
    ann = world.join(code, "Ann")
    world.clock.advance(1_000)
    world.send(host, "start")
    for index in range(2):
        world.clock.advance(100)
        world.send(ann, "question", index=index)
        world.clock.advance(2_000)
        world.send(ann, "timeout" if index else "answer", index=index, selected=[0])
    export = world.engine.export(run_id)
    assert export is not None and export.status == "completed"
    assert [e["seq"] for e in export.events] == list(range(1, len(export.events) + 1))
    assert [e["type"] for e in export.events] == [
        "run_created",
        "participant_joined",
        "run_started",
        "question_served",
        "answer_scored",
        "question_served",
        "answer_scored",
        "participant_finished",
        "run_completed",
    ]
    ats = [e["at"] for e in export.events]
    assert ats == sorted(ats) and ats[-1] == world.clock()
    finished = export.events[7]["data"]
    assert finished == {"participant_id": ann.participant_id, "score": 950, "elapsed_ms": 4_000}
    completed = export.events[8]["data"]
    assert (completed["reason"], completed["completed_at"]) == ("all_finished", world.clock())
    assert completed["leaderboard"] == [
        {
            "rank": 1,
            "participant_id": ann.participant_id,
            "name": "Ann",
            "score": 950,
            "answered": 2,
            "elapsed_ms": 4_000,
        }
    ]


def test_drop_removes_every_live_key_and_the_join_code(world: EngineWorld) -> None:
    run_id, code, host = world.create(1)
    world.join(code, "Ann")
    world.send(host, "start")
    world.send(host, "end")
    other_id, other_code, _ = world.create(1)
    world.engine.drop(run_id)
    assert world.engine.export(run_id) is None
    assert world.redis.exists(*run_keys(run_id), join_code_key(code)) == 0
    with pytest.raises(NotFound):
        world.engine.join(code, "Bob", None)
    assert world.engine.export(other_id) is not None and world.redis.exists(join_code_key(other_code)) == 1
    world.engine.drop(run_id)  # again: nothing left, nothing fails


def test_the_configured_client_reaches_redis_once_per_process(redis_url: str) -> None:
    settings = Settings(redis_url=redis_url)
    client = redis_from_settings(settings)
    assert redis_from_settings(Settings(redis_url=redis_url)) is client
    assert client.set("probe", "é") and client.get("probe") == "é"  # decode_responses
    assert RunEngine(client).export("nosuchrun000") is None


def test_a_lost_redis_is_unavailable(world: EngineWorld) -> None:
    engine = RunEngine(redis_from_settings(Settings(redis_url=f"redis://127.0.0.1:{free_port()}/0")))
    with pytest.raises(Unavailable):
        engine.create_run(run_config(), make_questions(1))
    with pytest.raises(Unavailable):
        engine.join("ABCDEF", "Ann", None)
    with pytest.raises(Unavailable):
        engine.export("abc")
    world.service.engine = engine
    host = Client("abcdefabcdef", "host", None, "conn-x")
    assert world.connect(host) == 503
    assert world.send(host, "sync")["code"] == "unavailable"
    assert world.send(host, "ping") == {"type": "pong"}

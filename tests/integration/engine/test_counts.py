"""Deterministic counts of the hot path, protocol revision 2, on a whole run played through
`lambdas.speedrun.handler` by the benchmark's driver (`bench.engine_run`: real Redis, the fan-out
function in this process on its own Redis client, a counting pusher, an injected clock).

- every `question`/`answer`/`timeout` invocation of the run is one Redis round trip (and Redis's
  own command statistics agree with the client's count, the fan-out's flushes added);
- every `@connections` push of the run is accounted for by the revision-2 rules: `started` to every
  participant, `completed` to everyone, host notifications (coalesced) only to the host and listing
  every join, answer and finish once, pushed boards only to the host and finished participants,
  lobby updates bounded by the lobby's seconds; in all at most 2 pushes per answer, lobby included.

A 150 x 20 run proves the accounting exactly (`make bench` plays 1,000 x 20 and reports the same
figures); the counts asserted do not depend on this machine's speed, only on the simulated clock.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
import redis

from bench.engine_run import GAME_ACTIONS, JOIN, JOIN_GAP_MS, EngineRun, play_engine_run

PARTICIPANTS = 150
QUESTIONS = 20
LOBBY_PUSHES_PER_S = 250
"""common.lua: a lobby update at most once a second, and about 250 lobby pushes a second."""
FEED_INTERVAL_MS = 1000
"""common.lua: the host's notifications, at most one message of each kind a second (unless split)."""


@pytest.fixture(scope="module")
def run(redis_server_url: str) -> Iterator[EngineRun]:
    redis.Redis.from_url(redis_server_url).flushall()
    yield play_engine_run(redis_server_url, PARTICIPANTS, QUESTIONS, report=False)


def test_every_question_answer_and_timeout_is_one_redis_round_trip(run: EngineRun) -> None:
    assert run.answers == run.answer_results == PARTICIPANTS * QUESTIONS
    assert run.errors == 0
    assert run.completion_reason == "all_finished"
    loads = 0
    for action in GAME_ACTIONS:
        calls = run.actions[action].redis_calls
        assert len(calls) == run.invocations[action]
        # A script's first call on a fresh server is NOSCRIPT, SCRIPT LOAD, EVALSHA (redis-py's Script).
        first, rest = calls[0], calls[1:]
        assert first in (1, 3), (action, first)
        assert set(rest) == {1}, (action, sorted(set(rest)))
        loads += first == 3
    assert run.invocations["question"] == PARTICIPANTS * QUESTIONS
    assert run.invocations["answer"] + run.invocations["timeout"] == PARTICIPANTS * QUESTIONS
    # Redis itself counted the same EVALSHAs: the actions' (NOSCRIPT attempts included) and the
    # fan-out's flushes (its own client), nothing else.
    game_invocations = sum(run.invocations[action] for action in GAME_ACTIONS)
    assert run.client_evalsha_calls == game_invocations + loads
    assert run.server_evalsha_calls == run.client_evalsha_calls + run.fanout_evalsha_calls_in_game
    # A join costs the same few Redis calls whatever the lobby's size (its flush goes to the queue).
    assert len(set(run.actions[JOIN].redis_calls[1:])) == 1


def test_broadcasts_go_to_everyone_once(run: EngineRun) -> None:
    assert run.pushes_by_type["started"] == PARTICIPANTS  # the host gets `started` as its direct reply
    assert run.pushes_by_type["completed"] == PARTICIPANTS + 1  # everyone: the run completed on an answer
    assert run.pushes_by_phase["start"] == PARTICIPANTS
    assert run.fanout_undelivered == run.fanout_requeued == 0


def test_host_notifications_list_every_join_answer_and_finish_once_and_go_to_the_host_only(run: EngineRun) -> None:
    assert run.joins == run.finishes == PARTICIPANTS
    assert run.host_items_by_type == {
        "participant_joined": run.joins,
        "participant_answered": run.answers,
        "participant_finished": run.finishes,
    }
    assert run.notifications_to_others == 0
    # Coalesced: at most one message of each kind per second of server time (these lists are far
    # under one message's budget, so none is split).
    seconds = (run.simulated_lobby_ms + run.simulated_game_ms) // FEED_INTERVAL_MS + 2
    for kind in ("participant_joined", "participant_answered", "participant_finished"):
        assert 1 <= run.pushes_by_type[kind] <= seconds, (kind, run.pushes_by_type[kind], seconds)
    assert run.pushes_by_type["participant_answered"] < run.answers / 5


def test_boards_are_pushed_only_to_the_host_and_finished_participants(run: EngineRun) -> None:
    assert run.boards_to_others == 0
    assert run.pushes_by_type["leaderboard"] >= QUESTIONS  # the host gets one every second or so
    # At most one board a second (longer with more watchers), each to at most P + 1 watchers.
    assert run.pushes_by_type["leaderboard"] <= (run.simulated_game_ms // 1000 + 1) * (PARTICIPANTS + 1)


def test_lobby_updates_are_bounded_by_the_lobby_seconds(run: EngineRun) -> None:
    assert run.simulated_lobby_ms >= PARTICIPANTS * JOIN_GAP_MS
    lobby_s = math.ceil(run.simulated_lobby_ms / 1000)
    assert 1 <= run.lobby_updates <= lobby_s + 1
    assert run.pushes_by_type["lobby"] <= LOBBY_PUSHES_PER_S * lobby_s + PARTICIPANTS
    assert run.pushes_by_phase["lobby"] == run.pushes_by_type["lobby"] + run.pushes_by_type["participant_joined"]


def test_every_push_is_accounted_for(run: EngineRun) -> None:
    assert set(run.pushes_by_type) == {
        "participant_joined",
        "lobby",
        "started",
        "participant_answered",
        "leaderboard",
        "participant_finished",
        "completed",
    }
    assert run.total_pushes == sum(run.pushes_by_type.values())
    assert run.pushes_by_phase["game"] == (
        run.pushes_by_type["participant_answered"]
        + run.pushes_by_type["participant_finished"]
        + run.pushes_by_type["leaderboard"]
        + run.pushes_by_type["completed"]
        # host notifications of the last joins may go out after the lobby settled: none here
    )


def test_at_most_two_pushes_per_answer_lobby_included(run: EngineRun) -> None:
    assert run.total_pushes / run.answers <= 2
    # What the earlier protocol sent (every answer's board to everyone) dwarfs it.
    assert run.naive_game_pushes >= 20 * run.total_pushes


def test_every_fanout_record_is_counted(run: EngineRun) -> None:
    # Each flush request is one pushes-queue message, and so is each published delivery.
    assert run.flush_requests == sum(run.flush_requests_by_producer.values())
    assert run.fanout_deliveries >= run.flush_requests
    assert run.fanout_invocations == math.ceil(run.fanout_deliveries / run.fanout_batch_size)
    sends = run.pushes_queue_requests
    assert sends["ReceiveMessage"] == sends["DeleteMessageBatch"] == run.fanout_invocations

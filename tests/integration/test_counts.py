"""Deterministic counts of the hot path, on a whole run played through `lambdas.speedrun.handler`
by the benchmark's driver (`bench.engine_run`: real Redis, counting pusher, injected clock).

- every `question`/`answer`/`timeout` invocation of the run is one Redis round trip (and Redis's
  own command statistics agree with the client's count);
- every `@connections` push of the run is accounted for by the protocol's rules (lobby, start,
  host notifications, coalesced boards, completion), and with those rules a 1,000 x 20 run pushes
  at least 20x fewer messages than the naive protocol that broadcast every answer to everyone.

The 1,000 x 20 run itself takes minutes on a shared 2-core machine (`make bench` plays it and
reports the measured ratio); here a 150 x 20 run proves the accounting exactly, and the 1,000 x 20
figure is computed from it with the engine's coalescing bound (at most one board per second of
server time). DynamoDB writes per reported run (ceil(items / 25) + retries) are asserted by
tests/integration/test_reporter.py and test_reporter_faults.py.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import pytest
import redis

from bench.engine_run import GAME_ACTIONS, THINK_MS, EngineRun, play_engine_run

PARTICIPANTS = 150
QUESTIONS = 20


@pytest.fixture(scope="module")
def run(redis_server_url: str) -> Iterator[EngineRun]:
    redis.Redis.from_url(redis_server_url).flushall()
    yield play_engine_run(redis_server_url, PARTICIPANTS, QUESTIONS, report=False)


def pushes_by_the_rules(participants: int, answers: int, boards: int) -> dict[str, int]:
    """What the protocol's rules send for a run where everyone joins, connects, plays every question."""
    connections = participants + 1
    return {
        # each join goes to every connection open at that moment: the host and the earlier joiners
        "participant_joined": sum(range(1, participants + 1)),
        "started": participants,  # the host gets `started` as its direct reply
        "participant_answered": answers,  # to the host, one per answer
        "participant_finished": participants,
        "leaderboard": boards * connections,
        "completed": connections,
    }


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
    # Redis itself counted the same EVALSHAs (the NOSCRIPT attempts included).
    game_invocations = sum(run.invocations[action] for action in GAME_ACTIONS)
    assert run.client_evalsha_calls == game_invocations + loads
    assert run.server_evalsha_calls == run.client_evalsha_calls


def test_every_push_is_accounted_for_and_boards_are_coalesced(run: EngineRun) -> None:
    boards = run.pushes_by_type["leaderboard"] // (PARTICIPANTS + 1)
    assert run.pushes_by_type == pushes_by_the_rules(PARTICIPANTS, run.answers, boards)
    assert run.pushes_by_phase == {
        "lobby": sum(range(1, PARTICIPANTS + 1)),
        "start": PARTICIPANTS,
        "game": run.answers + PARTICIPANTS + boards * (PARTICIPANTS + 1) + PARTICIPANTS + 1,
    }
    # At most one board per second of server time (the answers' clock), and at least one per
    # question here (every question's answers span more than a second).
    assert QUESTIONS <= boards <= run.simulated_game_ms // 1000 + 1


def test_a_1000_by_20_run_pushes_at_least_20x_fewer_messages_than_the_naive_protocol(run: EngineRun) -> None:
    participants, questions = 1000, 20
    answers = participants * questions
    # The driver's timeline per question: serving everyone (1 ms each), answers within THINK_MS,
    # then a 1 s pause: an upper bound of the server time, so of the boards the engine may send.
    seconds = questions * math.ceil((participants + THINK_MS[1] + 1_000) / 1000)
    bound = sum(pushes_by_the_rules(participants, answers, boards=seconds + 1).values())
    naive = answers * (participants + 1)
    assert naive >= 20 * bound, (naive, bound)
    # The same rules, checked against this run's actual counts above, give this run's naive ratio.
    assert run.naive_game_pushes == run.answers * (PARTICIPANTS + 1)
    assert (
        run.total_pushes
        == sum(pushes_by_the_rules(PARTICIPANTS, run.answers, boards=0).values()) + (run.pushes_by_type["leaderboard"])
    )

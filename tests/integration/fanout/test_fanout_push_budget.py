"""Protocol revision 2's push budget, counted on runs played through `lambdas.speedrun.handler` in
the engine harness (real Redis, the fan-out in this process on the injected clock):

- a participant's lobby messages grow with the lobby's seconds, not with the number of joiners;
- the host's notifications are coalesced into one message per kind a second, listing every item;
- pushed boards go to the host and to finished participants only (`top` on every answer instead),
  at most one per board interval, the interval growing with the watchers;
- no handler invocation posts a broadcast: every one goes through the fan-out;
- the participant whose answer completes the run still gets its `answer_result`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from speedrun.adapters.connections import Push, SendReport
from speedrun.fanout.deliveries import RECIPIENTS_PER_DELIVERY
from tests.support.engine_harness import Client, EngineWorld, engine_queues

BOARD_PUSHES_PER_S = 250
LOBBY_PUSHES_PER_S = 250
"""common.lua's budgets, restated here as the protocol's bound the test checks against."""


@pytest.fixture(scope="module")
def sqs() -> Iterator[Any]:
    with engine_queues() as client:
        yield client


@pytest.fixture
def world(redis_url: str, sqs: Any) -> EngineWorld:
    return EngineWorld(redis_url, sqs)


def of_type(world: EngineWorld, client: Client, kind: str) -> list[dict[str, Any]]:
    world.fanout.run_due()
    return [frame for frame in world.received(client) if frame["type"] == kind]


def fill_lobby(world: EngineWorld, participants: int, gap_ms: int) -> tuple[str, Client, list[Client]]:
    run_id, code, host = world.create(2, max_participants=participants)
    players = []
    for k in range(participants):
        players.append(world.join(code, f"P{k:04d}"))
        world.clock.advance(gap_ms)
    world.settle()
    return run_id, host, players


@pytest.mark.parametrize("participants", [100, 300])
def test_lobby_messages_grow_with_the_lobbys_seconds_not_with_its_size(world: EngineWorld, participants: int) -> None:
    gap_ms = 6_000 // participants  # every lobby fills in 6 s of server time
    _run_id, host, players = fill_lobby(world, participants, gap_ms)
    lobby_seconds = participants * gap_ms / 1000
    interval_s = max(1.0, participants / LOBBY_PUSHES_PER_S)
    per_participant_bound = math.ceil(lobby_seconds / interval_s) + 2
    counts = [len(of_type(world, player, "lobby")) for player in players]
    assert max(counts) <= per_participant_bound
    assert sum(counts) <= participants * per_participant_bound  # 100 x 8, 300 x 7: not P^2 / 2
    assert not any(of_type(world, player, "participant_joined") for player in players)
    # The trailing update: everyone ends on the full count and the latest names, newest last.
    for player in players:
        last = of_type(world, player, "lobby")[-1]
        assert last["participant_count"] == participants
        assert last["recent"] == [f"P{k:04d}" for k in range(participants - 10, participants)]
    # The host: one coalesced message a second at most, naming every joiner once, in order.
    joined = of_type(world, host, "participant_joined")
    assert len(joined) <= math.ceil(lobby_seconds) + 2
    names = [item["name"] for frame in joined for item in frame.get("joined") or [frame]]
    assert names == [f"P{k:04d}" for k in range(participants)]
    assert joined[-1]["participant_count"] == participants


def test_answers_notify_the_host_once_a_second_and_push_boards_only_to_watchers(world: EngineWorld) -> None:
    participants = 200
    _run_id, host, players = fill_lobby(world, participants, 5)
    world.send(host, "start")
    board_times: dict[str, list[int]] = {}
    post = world.pusher.send

    def post_noting_boards(pushes: Sequence[Push]) -> SendReport:
        for push in pushes:
            if push.message["type"] == "leaderboard":
                board_times.setdefault(push.connection_id, []).append(world.clock())
        return post(pushes)

    world.pusher.send = post_noting_boards  # type: ignore[method-assign]
    host_before = len(world.received(host))
    for index in range(2):
        for player in players:
            world.send(player, "question", index=index)
        for n, player in enumerate(players):
            world.clock.advance(20)  # 200 answers over 4 s of server time
            reply = world.send(player, "answer", index=index, selected=[0] if n % 2 else [1])
            assert reply["type"] == "answer_result" and len(reply["top"]) == 10
            assert reply["participant_count"] == participants
        if index == 0:
            # Nobody has finished: boards reach the host only, at most one a second.
            assert set(board_times) == {host.connection_id}
            host_boards = board_times[host.connection_id]
            assert all(b - a >= 1_000 for a, b in itertools.pairwise(host_boards))
            assert len(host_boards) <= 5
    world.settle()
    host_frames = world.received(host)[host_before:]
    answered = [f for f in host_frames if f["type"] == "participant_answered"]
    items = [item for frame in answered for item in frame.get("answered") or [frame]]
    assert len(items) == 2 * participants  # every answer, once
    assert len(answered) <= 2 * (4 + 2)  # about one message a second (each question's answers span 4 s)
    finished = [item for f in host_frames if f["type"] == "participant_finished" for item in f.get("finished") or [f]]
    assert len(finished) == participants
    # Finished participants (the watchers) get boards; the interval grows with them.
    watchers_boards = sum(len(times) for conn, times in board_times.items() if conn != host.connection_id)
    assert watchers_boards > 0
    host_boards = board_times[host.connection_id]
    for earlier, later in itertools.pairwise(host_boards):
        assert later - earlier >= 1_000
    # The last answer completed the run: its final board rides in `completed`.
    assert [f["type"] for f in host_frames].count("completed") == 1


def test_no_handler_invocation_posts_a_broadcast(world: EngineWorld) -> None:
    posted_in_handler: list[str] = []
    invoke = world._invoke
    in_handler = False

    def invoking(event: dict[str, Any]) -> dict[str, Any]:
        nonlocal in_handler
        in_handler = True
        try:
            return invoke(event)
        finally:
            in_handler = False

    post = world.pusher.send

    def post_watched(pushes: Sequence[Push]) -> SendReport:
        if in_handler:
            posted_in_handler.extend(str(push.message["type"]) for push in pushes)
        return post(pushes)

    world._invoke = invoking  # type: ignore[method-assign]
    world.pusher.send = post_watched  # type: ignore[method-assign]
    _run_id, code, host = world.create(2, chat=True)
    players = [world.join(code, f"P{k}") for k in range(5)]
    world.settle()  # the lobby's update
    world.send(players[0], "message", to="all", content="hello everyone")
    world.send(host, "kick", participant_id=players[4].participant_id)
    world.send(host, "start")
    for player in players[:4]:
        for index in range(2):
            world.send(player, "question", index=index)
            world.clock.advance(300)
            assert world.send(player, "answer", index=index, selected=[0])["type"] == "answer_result"
    world.settle()
    assert posted_in_handler == []
    # ... and every broadcast did arrive, through the fan-out.
    kinds = {frame["type"] for frame in world.received(players[1])}
    assert {"lobby", "message", "participant_left", "started", "completed"} <= kinds
    assert world.fanout.report.sent == world.pusher.push_count


def test_the_participant_whose_answer_completes_the_run_gets_its_answer_result(world: EngineWorld) -> None:
    _run_id, code, host = world.create(1)
    first, last = world.join(code, "First"), world.join(code, "Last")
    world.send(host, "start")
    for player in (first, last):
        world.send(player, "question", index=0)
    world.clock.advance(500)
    assert world.send(first, "answer", index=0, selected=[0])["finished"] is True
    world.clock.advance(500)
    reply = world.send(last, "answer", index=0, request_id="final", selected=[0])
    assert (reply["type"], reply["request_id"], reply["finished"]) == ("answer_result", "final", True)
    world.settle()
    kinds = [frame["type"] for frame in world.received(last)]
    assert kinds.count("answer_result") == 1 and kinds.count("completed") == 1
    assert world.received(last)[-1]["type"] == "completed"


def test_a_crowd_joining_faster_than_the_lobby_budget_still_gets_lobby_updates(world: EngineWorld) -> None:
    # 600 joins a second for a second: the lobby interval (2.4 s at 600) must not recede as they come
    _run_id, code, _host = world.create(1, max_participants=2000)
    players = []
    for k in range(1800):
        players.append(world.join(code, f"C{k:04d}", connect=k < 50))
        world.clock.advance(1)  # 1,000 joins a second
    during = [len(of_type(world, player, "lobby")) for player in players[:50]]
    assert min(during) >= 1  # told while the crowd was still arriving, not only after it stopped


def test_a_flush_too_big_for_one_delivery_is_posted_as_deliveries(world: EngineWorld) -> None:
    _run_id, code, host = world.create(1, max_participants=1200)
    players = [world.join(code, f"W{k:04d}") for k in range(1100)]
    world.settle()
    world.send(host, "start")
    sizes: list[int] = []
    send = world.fanout.service.send

    def noting_sizes(run_id: str, pushes: Sequence[Push], *, attempt: int = 0) -> Any:
        sizes.append(len(pushes))
        return send(run_id, pushes, attempt=attempt)

    world.fanout.service.send = noting_sizes  # type: ignore[method-assign]
    for player in players:
        world.send(player, "question", index=0)
    for player in players[:-1]:  # everyone but one finishes: 1,099 watchers
        world.send(player, "answer", index=0, selected=[0])
    world.clock.advance(10_000)
    world.send(players[-1], "question", index=0)  # any action lets due deliveries run
    world.settle()
    boards = sum(1 for player in players[:-1] if of_type(world, player, "leaderboard"))
    assert boards == len(players) - 1  # every watcher got the board
    assert max(sizes) <= RECIPIENTS_PER_DELIVERY

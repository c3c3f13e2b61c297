"""A whole speed-run through `lambdas.speedrun.handler`: a host and 50 participants x 10 questions,
correct, wrong, given-up, late and multi-select answers, one reconnect mid-question and one late
join. Every frame each client received is checked against the protocol (types, fields, order), and
scores, ranks and the final leaderboard against an independent computation of the rules."""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

import pytest

from local_stack.client import COALESCED_LISTS
from speedrun.adapters.connections import Push, SendReport
from speedrun.clock import iso_from_ms
from tests.support.engine_harness import Client, EngineWorld, drain, engine_queues, make_questions

QUESTIONS = 10
DURATION_MS = 20_000
GRACE_MS = 1_000
LOBBY_PLAYERS = 49

# protocol.md, "Server -> client messages" (docs/engine.md, Frames): the fields each frame type must carry
FIELDS: dict[str, set[str]] = {
    "participant_joined": {"participant_id", "name", "participant_count"},
    "started": {"started_at", "ends_at", "question_count", "question_duration_s"},
    "question": {"index", "category", "text", "options", "select_count", "served_at", "deadline"},
    "answer_result": {"index", "outcome", "points", "score", "correct_options", "finished", "rank", "top"},
    "lobby": {"participant_count", "recent"},
    "participant_answered": {"participant_id", "name", "index", "outcome", "points", "score"},
    "participant_finished": {"participant_id", "name", "score", "elapsed_ms"},
    "leaderboard": {"entries", "participant_count"},
    "completed": {"reason", "completed_at", "leaderboard"},
}
STATE_FIELDS = {"role", "speedrun_id", "status", "name", "question_count", "question_duration_s"} | {
    "started_at",
    "ends_at",
    "participants",
    "leaderboard",
}
ENTRY_FIELDS = {"rank", "participant_id", "name", "score", "answered", "elapsed_ms"}
HOST_TYPES = {"state", "participant_joined", "started", "participant_answered", "participant_finished"} | {
    "leaderboard",
    "completed",
}
PARTICIPANT_TYPES = {"state", "lobby", "started", "question", "answer_result", "leaderboard"} | {"completed"}


def host_items(frames: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    """The items of the host's coalesced notifications of `kind`, in order (protocol revision 2:
    one frame per second, listing every item when there are several)."""
    items: list[dict[str, Any]] = []
    for frame in frames:
        if frame["type"] == kind:
            items += frame.get(COALESCED_LISTS[kind]) or [frame]
    return items


def points_for(elapsed_ms: int) -> int:
    """The protocol's formula, halves rounded up, computed here from scratch."""
    return int(1000 * (1 - Fraction(elapsed_ms, 2 * DURATION_MS)) + Fraction(1, 2))


@dataclass
class Standing:
    """What the test itself knows of a participant (never read back from the server)."""

    client: Client
    order: int
    score: int = 0
    elapsed: int = 0
    answered: int = 0
    served_at: int = 0


class Referee:
    def __init__(self) -> None:
        self.standings: dict[str, Standing] = {}

    def add(self, client: Client) -> Standing:
        standing = Standing(client, order=len(self.standings) + 1)
        self.standings[client.participant_id or ""] = standing
        return standing

    def ranking(self) -> list[Standing]:
        return sorted(self.standings.values(), key=lambda s: (-s.score, s.elapsed, s.order))

    def rank_of(self, standing: Standing) -> int:
        return self.ranking().index(standing) + 1

    def board(self) -> list[dict[str, Any]]:
        return [
            {
                "rank": rank,
                "participant_id": s.client.participant_id,
                "name": s.client.name,
                "score": s.score,
                "answered": s.answered,
                "elapsed_ms": s.elapsed,
            }
            for rank, s in enumerate(self.ranking(), start=1)
        ]


@pytest.fixture
def world(redis_url: str) -> Iterator[EngineWorld]:
    with engine_queues() as sqs:
        yield EngineWorld(redis_url, sqs)


def is_iso(value: Any) -> bool:
    return isinstance(value, str) and value.endswith("Z") and datetime.fromisoformat(value) is not None


def check_shape(frame: dict[str, Any], *, host: bool) -> None:
    kind = frame["type"]
    assert kind in (HOST_TYPES if host else PARTICIPANT_TYPES), frame
    if kind == "state":
        required = STATE_FIELDS | (set() if host else {"participant_id", "next_index", "score"})
        assert required <= set(frame), frame
        return
    assert FIELDS[kind] <= set(frame), frame
    for key, value in frame.items():
        if key.endswith("_at"):
            assert is_iso(value), frame
    for entries in (frame.get("entries"), frame.get("leaderboard"), frame.get("top")):
        if entries is not None:
            assert all(set(entry) == ENTRY_FIELDS for entry in entries), frame
            assert [entry["rank"] for entry in entries] == list(range(1, len(entries) + 1))
            assert len(entries) <= (len(entries) if host else 10)
    if kind == "question":
        assert "correct" not in frame and "correct_options" not in frame


def test_a_whole_speed_run(world: EngineWorld) -> None:
    rng = random.Random(20261122)
    questions = make_questions(QUESTIONS)
    run_id, code, host = world.create(QUESTIONS, duration_s=1800, max_participants=100)
    assert world.send(host, "sync")["status"] == "lobby"
    referee = Referee()
    for k in range(LOBBY_PLAYERS):
        client = world.join(code, f"Player {k:02d}", handle=f"handle-{k}" if k % 3 == 0 else None)
        referee.add(client)
        state = world.send(client, "sync")
        assert (state["status"], state["participants"], state["next_index"]) == ("lobby", k + 1, 0)
        world.clock.advance(37)

    started = world.send(host, "start")
    start_ms = world.clock()
    assert started["started_at"] == iso_from_ms(start_ms)
    assert started["ends_at"] == iso_from_ms(start_ms + 1_800_000)

    reconnecter = list(referee.standings.values())[6]
    late: Standing | None = None
    host_board_times: list[int] = []
    expected_answered: list[tuple[str, int, str, int, int]] = []
    last_reply_to: Standing | None = None

    post = world.pusher.send

    def post_noting_host_boards(pushes: Sequence[Push]) -> SendReport:
        """When (server clock) each board reached the host: the fan-out posts them as they fall due."""
        host_boards = [
            p for p in pushes if p.connection_id == host.connection_id and p.message["type"] == "leaderboard"
        ]
        host_board_times.extend([world.clock()] * len(host_boards))
        return post(pushes)

    world.pusher.send = post_noting_host_boards  # type: ignore[method-assign]

    def settle(standing: Standing, index: int, outcome: str, elapsed: int, reply: dict[str, Any]) -> None:
        nonlocal last_reply_to
        points = points_for(elapsed) if outcome == "correct" else 0
        standing.score += points
        standing.elapsed += elapsed
        standing.answered += 1
        expected = {
            "type": "answer_result",
            "index": index,
            "question_type": "choice",
            "outcome": outcome,
            "points": points,
            "score": standing.score,
            "correct_options": questions[index].correct,
            "finished": index == QUESTIONS - 1,
            "rank": referee.rank_of(standing),
            "top": referee.board()[:10],
            "participant_count": len(referee.standings),
        }
        assert reply == expected, (standing.client.name, reply, expected)
        pid = standing.client.participant_id or ""
        expected_answered.append((pid, index, outcome, points, standing.score))
        last_reply_to = standing

    round_number = 0
    while any(s.answered < QUESTIONS for s in referee.standings.values()):
        if round_number == 3:  # a late joiner, while the run is running
            client = world.join(code, "Latecomer")
            late = referee.add(client)
            state = world.send(client, "sync")
            assert (state["status"], state["next_index"], state["score"]) == ("running", 0, 0)
            assert state["started_at"] == iso_from_ms(start_ms)
        actors = [s for s in referee.standings.values() if s.answered < QUESTIONS]
        plans = {id(s): rng.choice(["correct"] * 6 + ["wrong"] * 2 + ["give_up", "late"]) for s in actors}
        for standing in actors:  # everyone asks for their next question
            index = standing.answered
            frame = world.send(standing.client, "question", index=index)
            standing.served_at = world.clock()
            question = questions[index]
            assert frame == {
                "type": "question",
                "index": index,
                "question_type": "choice",
                "category": question.category,
                "text": question.text,
                "options": question.options,
                "select_count": len(question.correct),
                "served_at": iso_from_ms(standing.served_at),
                "deadline": standing.served_at + DURATION_MS,
                "duration_ms": DURATION_MS,
            }
            world.clock.advance(3)
        if round_number == 4:  # mid-question: a new socket with the same token, then sync
            old_connection = reconnecter.client.connection_id
            assert world.reconnect(reconnecter.client) == 200
            assert old_connection in world.pusher.closed
            state = world.send(reconnecter.client, "sync")
            assert (state["next_index"], state["score"], state["elapsed_ms"]) == (
                4,
                reconnecter.score,
                reconnecter.elapsed,
            )
            assert state["rank"] == referee.rank_of(reconnecter)
            assert state["current_question"]["index"] == 4
            assert state["current_question"]["served_at"] == iso_from_ms(reconnecter.served_at)
            assert state["current_question"]["deadline"] == reconnecter.served_at + DURATION_MS
        for standing in actors:  # answers within the deadline
            plan = plans[id(standing)]
            if plan == "late":
                continue
            world.clock.advance(rng.randrange(40, 300))
            index = standing.answered
            correct = questions[index].correct
            elapsed = world.clock() - standing.served_at
            if plan == "give_up":
                reply = world.send(standing.client, "timeout", index=index)
                settle(standing, index, "timeout", elapsed, reply)
                continue
            selected = list(reversed(correct)) if plan == "correct" else [(correct[0] + 1) % 4][: len(correct)]
            if len(selected) < len(correct):
                selected.append((selected[0] + 1) % 4)
            reply = world.send(standing.client, "answer", index=index, selected=selected)
            settle(standing, index, plan if plan == "correct" else "incorrect", elapsed, reply)
        laggards = [s for s in actors if plans[id(s)] == "late"]
        if laggards:  # past every laggard's deadline and grace: their answers count as timeouts
            world.clock.advance(max(s.served_at for s in laggards) + DURATION_MS + GRACE_MS + 1 - world.clock())
            for standing in laggards:
                index = standing.answered
                selected = list(questions[index].correct)
                reply = world.send(standing.client, "answer", index=index, selected=selected)
                settle(standing, index, "timeout", DURATION_MS, reply)
                world.clock.advance(11)
        world.clock.advance(500)
        round_number += 1
    assert late is not None and round_number == 13

    # --- the host: everything, in order ---------------------------------------------------------
    world.settle()  # the last coalesced pushes
    host_frames = world.received(host)
    for frame in host_frames:
        check_shape(frame, host=True)
    assert host_frames[0]["type"] == "state"
    joined = host_items(host_frames, "participant_joined")
    assert [f["name"] for f in joined] == [s.client.name for s in referee.standings.values()]
    counts = [f["participant_count"] for f in host_frames if f["type"] == "participant_joined"]
    assert counts == sorted(counts) and counts[-1] == LOBBY_PLAYERS + 1
    # joins 37 ms apart: about one message a second, not one a join
    assert len(counts) <= LOBBY_PLAYERS * 37 // 1000 + 3
    answered = [
        (f["participant_id"], f["index"], f["outcome"], f["points"], f["score"])
        for f in host_items(host_frames, "participant_answered")
    ]
    assert answered == expected_answered
    assert len(answered) == (LOBBY_PLAYERS + 1) * QUESTIONS
    assert sum(f["type"] == "participant_answered" for f in host_frames) < len(answered) / 5
    finished = host_items(host_frames, "participant_finished")
    assert sorted(f["participant_id"] for f in finished) == sorted(referee.standings)
    for item in finished:
        standing = referee.standings[item["participant_id"]]
        assert (item["name"], item["score"], item["elapsed_ms"]) == (
            standing.client.name,
            standing.score,
            standing.elapsed,
        )
        # told after the notification that carried its last answer
        position = next(i for i, f in enumerate(host_frames) if item in (f.get("finished") or [f]))
        last_answer = max(
            i
            for i, f in enumerate(host_frames)
            if f["type"] == "participant_answered"
            and item["participant_id"] in {a["participant_id"] for a in f.get("answered") or [f]}
        )
        assert position > last_answer
    assert host_frames[-1]["type"] == "completed"
    assert [f["type"] for f in host_frames].count("completed") == 1
    final_board = referee.board()
    completed = host_frames[-1]
    assert completed["reason"] == "all_finished"
    assert completed["leaderboard"] == final_board
    boards = [f for f in host_frames if f["type"] == "leaderboard"]
    assert boards and len(boards) == len(host_board_times)
    assert all(later - earlier >= 1_000 for earlier, later in itertools.pairwise(host_board_times))
    assert all(len(f["entries"]) == f["participant_count"] for f in boards)  # the host sees everyone
    assert {f["participant_count"] for f in boards} == {LOBBY_PLAYERS, LOBBY_PLAYERS + 1}

    # --- every participant: everything, in order ------------------------------------------------
    for standing in referee.standings.values():
        frames = world.received(standing.client)
        for frame in frames:
            check_shape(frame, host=False)
        assert frames[0]["type"] == "state"
        kinds = [f["type"] for f in frames]
        if standing is late:
            assert "started" not in kinds
        else:
            assert kinds.count("started") == 1
            assert kinds.index("started") < kinds.index("question")
        game = [(f["type"], f["index"]) for f in frames if f["type"] in ("question", "answer_result")]
        assert game == [(kind, i) for i in range(QUESTIONS) for kind in ("question", "answer_result")]
        assert kinds.count("completed") == 1
        # pushes are asynchronous: `completed` follows the direct reply of the frame that completed the run
        assert kinds[-1] == "completed"
        completed_frame = frames[kinds.index("completed")]
        assert completed_frame["leaderboard"] == final_board[:10]
        # revision 2: a participant is pushed boards only once it has finished (`top` before that)
        last_result = max(i for i, kind in enumerate(kinds) if kind == "answer_result")
        for position, frame in enumerate(frames):
            if frame["type"] == "leaderboard":
                assert len(frame["entries"]) == min(10, frame["participant_count"])
                assert position > last_result
        # the lobby's updates: about one a second while people joined, never one per join
        if standing is not late:
            lobby = [f for f in frames if f["type"] == "lobby"]
            assert len(lobby) <= LOBBY_PLAYERS * 37 // 1000 + 3
    assert last_reply_to is late  # the latecomer finished last, completing the run
    assert len(world.received(reconnecter.client)) > 0 and len(reconnecter.client.connections) == 2

    # --- durability hand-off: exactly one completion job -----------------------------------------
    assert drain(world.sqs, "completion") == [{"run_id": run_id}]
    export = world.engine.export(run_id)
    assert export is not None and export.status == "completed"
    assert [e["seq"] for e in export.events] == list(range(1, len(export.events) + 1))

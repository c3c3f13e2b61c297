"""Soak: consecutive runs of 200 participants on the local stack (`python -m local_stack run`, a
child process on a private redis-server), over real WebSocket sockets, each reported by the real
reporter (the completion queue's poller). After every run the live state is gone (the Redis key
count back to its baseline, exactly), the stack holds no socket of the run (open file descriptors
within a small bound), and its memory stays within a stated bound of what it was once warmed up."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
import redis

from local_stack import client
from local_stack.client import RunSocket
from local_stack.demo import demo_question_set
from local_stack.process import RunningStack, stack_process
from speedrun import manifest
from tests.support.redis_server import private_redis

RUNS = 10
PARTICIPANTS = 200
QUESTIONS = 2
QUESTION_DURATION_S = 5
"""The shortest the contract allows; the bots answer at once, so a run lasts well under a second of play."""
WARM_UP_RUNS = 2
"""Runs before the memory baseline is taken: first-use caches, thread pools, loaded scripts."""
RSS_GROWTH_LIMIT_BYTES = 96 * 1024 * 1024
"""RSS is noisy (allocator arenas; moto keeps every durable item of every run in the stack's
process, a few MiB a run): a leak of live state (200 sockets, their frames, ~1,200 handler
invocations a run) would pass this bound over 8 runs only if it were under ~12 MiB a run. The
Redis key count is exact."""
FD_GROWTH_LIMIT = 40
"""Open descriptors may vary with pooled HTTP connections (boto3 to moto and to `@connections`);
a leaked socket per participant would add 200 a run."""
SETTLE_TIMEOUT_S = 60.0
"""Bound on waiting for the reporter (asynchronous, via the completion queue); not an assertion on time."""

pytestmark = pytest.mark.timeout(480)


@dataclass
class SoakRun:
    run_id: str
    answer_results: dict[str, list[dict[str, Any]]]
    """participant id -> its `answer_result` replies, in order."""
    completed: dict[str, Any]
    results: dict[str, Any]


def _process_tree(root: int) -> list[int]:
    found: list[int] = []
    pending = [root]
    while pending:
        pid = pending.pop()
        found.append(pid)
        for task in Path(f"/proc/{pid}/task").glob("*/children"):
            try:
                pending += [int(child) for child in task.read_text().split()]
            except OSError:
                continue  # the process ended meanwhile
    return found


@dataclass
class Stack:
    running: RunningStack
    redis_url: str

    def rss_bytes(self) -> int:
        """The stack's whole process tree: the gateway and every function's execution environments."""
        total = 0
        for pid in _process_tree(self.running.pid):
            try:
                statm = Path(f"/proc/{pid}/statm").read_text()
            except OSError:
                continue  # an environment replaced meanwhile
            total += int(statm.split()[1]) * os.sysconf("SC_PAGE_SIZE")
        return total

    def open_descriptors(self) -> int:
        return len(os.listdir(f"/proc/{self.running.pid}/fd"))


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with (
        private_redis() as redis_url,
        mock.patch.dict(os.environ, {manifest.REDIS_URL_ENV: redis_url}),
        stack_process("--no-samples") as running,
    ):
        yield Stack(running, redis_url)


async def _http(method: str, url: str, **kwargs: Any) -> client.HttpReply:
    return await asyncio.to_thread(client.http_request, method, url, **kwargs)


async def _play(socket: RunSocket, participant_id: str, correct_by_text: dict[str, list[int]]) -> list[dict]:
    """Every question in order, answered at once: correct on even participants' odd questions."""
    replies = []
    for index in range(QUESTIONS):
        question = await socket.request("question", index=index)
        assert question["type"] == "question", question
        right = correct_by_text[question["text"]]
        wrong = [(right[0] + 1) % len(question["options"])]
        selected = right if (index + int(participant_id[-1], 36)) % 2 else wrong
        reply = await socket.request("answer", index=index, selected=selected)
        assert reply["type"] == "answer_result", reply
        replies.append(reply)
    return replies


async def _soak_run(stack: RunningStack, id_token: str, question_set_id: str, correct: dict[str, list[int]]) -> SoakRun:
    api = f"{stack.base_url}/api"
    opened = await _http(
        "POST",
        f"{api}/signon/speedruns",
        json_body={
            "question_set_id": question_set_id,
            "name": "Soak run",
            "question_duration_s": QUESTION_DURATION_S,
            "duration_s": 120,
            "max_participants": PARTICIPANTS,
        },
        headers=client.bearer(id_token),
    )
    assert opened.status == 201, opened.body
    run = opened.json()
    host = await RunSocket.connect(run["ws_url"], run["host_token"], "host")
    assert (await host.request("sync"))["type"] == "state"

    async def join(number: int) -> dict[str, Any]:
        joined = await _http(
            "POST", f"{api}/signon/join", json_body={"join_code": run["join_code"], "name": f"p{number}"}
        )
        assert joined.status == 201, joined.body
        return dict(joined.json())

    async def connect(joined: dict[str, Any]) -> tuple[str, RunSocket]:
        socket = await RunSocket.connect(joined["ws_url"], joined["participant_token"], joined["participant_id"])
        assert (await socket.request("sync"))["type"] == "state"
        return joined["participant_id"], socket

    # Everyone joins, then opens their socket: `participant_joined` goes to the connections open at
    # the time, so joining over open sockets would cost 200 x 200 pushes a run, not the point here.
    tickets = await asyncio.gather(*(join(number) for number in range(PARTICIPANTS)))
    players = dict(await asyncio.gather(*(connect(joined) for joined in tickets)))
    assert (await host.request("start"))["type"] == "started"
    played = await asyncio.gather(*(_play(socket, pid, correct) for pid, socket in players.items()))
    completed = await host.wait_for("completed", 60)

    results_url = f"{api}/speedruns/{run['speedrun_id']}/results"
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while (reply := await _http("GET", results_url, headers=client.bearer(id_token))).status == 404:
        assert time.monotonic() < deadline, "the reporter did not persist the run"
        await asyncio.sleep(0.2)
    assert reply.status == 200, reply.body
    for socket in [host, *players.values()]:
        await socket.close()
    return SoakRun(run["speedrun_id"], dict(zip(players, played, strict=True)), completed, reply.json())


def _check_results(run: SoakRun) -> None:
    """The durable results hold every acknowledged answer once, with the outcome it was acknowledged with."""
    assert run.completed["reason"] == "all_finished"
    assert len(run.completed["leaderboard"]) == PARTICIPANTS
    assert len(run.results["questions"]) == QUESTIONS
    for question in run.results["questions"]:
        index = question["index"]
        for outcome in ("correct", "incorrect", "timeout"):
            persisted = [who["participant_id"] for who in question[f"{outcome}_answerers"]]
            acknowledged = [pid for pid, replies in run.answer_results.items() if replies[index]["outcome"] == outcome]
            assert len(persisted) == len(set(persisted))
            assert sorted(persisted) == sorted(acknowledged)
    final_scores = {entry["participant_id"]: entry["score"] for entry in run.completed["leaderboard"]}
    assert final_scores == {pid: replies[-1]["score"] for pid, replies in run.answer_results.items()}


def _lasting_keys(live: redis.Redis) -> list[bytes]:
    """Keys without an expiry: live run state (sign-on's join counters expire on their own, 2 min)."""
    return sorted(key for key in live.scan_iter() if live.ttl(key) == -1)


def _settled(live: redis.Redis, baseline: list[bytes]) -> list[bytes]:
    """Waits (bounded) until the reporter dropped the run's live state; the lasting keys then."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while (keys := _lasting_keys(live)) != baseline and time.monotonic() < deadline:
        time.sleep(0.1)
    return keys


def test_ten_runs_of_200_leave_no_live_state_and_no_memory_growth(stack: Stack) -> None:
    live = redis.Redis.from_url(stack.redis_url)
    baseline = _lasting_keys(live)
    running = stack.running
    id_token = client.sign_in(
        running.base_url, running.user_pool_client_id, running.host_username, running.host_password
    )
    question_set = demo_question_set(QUESTIONS)
    correct = {question["text"]: question["correct"] for question in question_set["questions"]}
    upload = client.upload_question_set(running.base_url, id_token, "soak.json", json.dumps(question_set).encode())
    assert upload.status == 201, upload.body

    rss_after: list[int] = []
    descriptors_after: list[int] = []
    run_ids = set()
    for _ in range(RUNS):
        run = asyncio.run(_soak_run(running, id_token, upload.json()["id"], correct))
        _check_results(run)
        run_ids.add(run.run_id)
        assert _settled(live, baseline) == baseline
        # Whatever else is left is an expiring join counter, nothing of the run.
        assert all(
            key.startswith(b"joins:") and 0 < live.ttl(key) <= 120 for key in live.scan_iter() if key not in baseline
        )
        rss_after.append(stack.rss_bytes())
        descriptors_after.append(stack.open_descriptors())

    assert len(run_ids) == RUNS
    shown = {"rss_mib": [round(rss / 2**20, 1) for rss in rss_after], "open_descriptors": descriptors_after}
    print(f"stack after each run: {shown}")
    assert max(rss_after[WARM_UP_RUNS:]) - rss_after[WARM_UP_RUNS - 1] < RSS_GROWTH_LIMIT_BYTES, shown
    assert max(descriptors_after[WARM_UP_RUNS:]) - descriptors_after[WARM_UP_RUNS - 1] < FD_GROWTH_LIMIT, shown

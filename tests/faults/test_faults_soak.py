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
HANDSHAKES_AT_ONCE = 32
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
FDS_PER_ENVIRONMENT = 3
"""The gateway's side of one execution environment: its Runtime API listener, the runtime client's
connection to it, the pipe of the environment's output. More environments start under load, up to
their cap: that is pool growth, not a leak, so the gateway's count is taken net of them."""
ENVIRONMENT_RSS_GROWTH_LIMIT_BYTES = 48 * 1024 * 1024
"""Per environment that lived through the measured runs (a warm Lambda container): its handler's
module-level state must not grow with the runs it served."""
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


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(child) for child in task.read_text().split()]
        except OSError:
            continue  # the thread or process ended meanwhile
    return found


def _rss_bytes(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return None


@dataclass
class Stack:
    running: RunningStack
    redis_url: str

    def rss_bytes(self) -> int:
        """The gateway's process (Starlette, moto, the pollers, the Lambda service's bookkeeping)."""
        return _rss_bytes(self.running.pid) or 0

    def environments(self) -> dict[int, int]:
        """Each function execution environment (a child process running awslambdaric): pid -> RSS."""
        found = {}
        for pid in _children(self.running.pid):
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except OSError:
                continue
            rss = _rss_bytes(pid)
            if b"awslambdaric" in command and rss is not None:
                found[pid] = rss
        return found

    def gateway_descriptors(self) -> int:
        """The gateway's open descriptors, less the FDS_PER_ENVIRONMENT each live environment holds."""
        return len(os.listdir(f"/proc/{self.running.pid}/fd")) - FDS_PER_ENVIRONMENT * len(self.environments())


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

    # Handshakes 32 at a time, as the load bench opens them: each runs the authorizer and $connect in
    # the functions' own processes, and 200 at once on 2 cores measure cold starts, not the soak.
    opening = asyncio.Semaphore(HANDSHAKES_AT_ONCE)

    async def connect(joined: dict[str, Any]) -> tuple[str, RunSocket]:
        async with opening:
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
    environments_after: list[dict[int, int]] = []
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
        descriptors_after.append(stack.gateway_descriptors())
        environments_after.append(stack.environments())

    assert len(run_ids) == RUNS
    baseline_environments = environments_after[WARM_UP_RUNS - 1]
    lived_through = set(baseline_environments).intersection(*environments_after[WARM_UP_RUNS:])
    growth = {
        pid: max(after[pid] for after in environments_after[WARM_UP_RUNS:]) - baseline_environments[pid]
        for pid in lived_through
    }
    shown = {
        "gateway_rss_mib": [round(rss / 2**20, 1) for rss in rss_after],
        "gateway_descriptors": descriptors_after,
        "environments": [len(after) for after in environments_after],
        "environment_rss_growth_mib": sorted(round(grown / 2**20, 1) for grown in growth.values()),
    }
    print(f"stack after each run: {shown}")
    assert lived_through, "no environment lived through the measured runs: nothing was warm"
    assert max(rss_after[WARM_UP_RUNS:]) - rss_after[WARM_UP_RUNS - 1] < RSS_GROWTH_LIMIT_BYTES, shown
    assert max(growth.values()) < ENVIRONMENT_RSS_GROWTH_LIMIT_BYTES, shown
    assert max(descriptors_after[WARM_UP_RUNS:]) - descriptors_after[WARM_UP_RUNS - 1] < FD_GROWTH_LIMIT, shown

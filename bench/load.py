"""The local stack under load: P participants as real WebSocket clients over loopback (one asyncio
client process), against the local stack in a child process (`local_stack.process.stack_process`).

Participants arrive as a crowd does: each joins over HTTP (sign-on), then connects and sends `sync`,
CONCURRENT_SETUP at a time, while the lobby's coalesced updates (`lobby`, protocol revision 2) go
out; the host starts; every participant plays every question (`question`, think, `answer` or
`timeout`). Measured on the client: joins + connects a second, lobby messages per participant,
answer-to-`answer_result` latency, errors, lost
replies (a request without its reply within the timeout) and duplicated ones (an `answer_result`
for an index already answered), `completed` per socket, and when the results became durable.
Bounded: every request has a timeout and the whole scenario a deadline.
"""

from __future__ import annotations

import asyncio
import json
import random
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.engine_run import percentile_ms
from local_stack import client
from local_stack.client import RunSocket
from local_stack.demo import demo_question_set
from local_stack.process import stack_process

QUESTION_DURATION_S = 10
THINK_S = (0.2, 4.0)
REQUEST_TIMEOUT_S = 60.0
COMPLETION_WAIT_S = 30.0
SCENARIO_TIMEOUT_S = 480.0
LOBBY_SETTLE_S = 2.5
ARRIVAL = "join (HTTP) + connect + sync"
CONCURRENT_SETUP = 32
"""Joins and connections opened at once (a crowd arriving, not a thundering herd of 1,000)."""


@dataclass
class LoadOutcome:
    participants: int
    questions: int
    answer_latency_ns: list[int] = field(default_factory=list)
    answer_results: Counter[tuple[int, int]] = field(default_factory=Counter)
    """(participant number, question index) -> answer_results received (direct replies and strays)."""
    errors: Counter[str] = field(default_factory=Counter)
    lost: Counter[str] = field(default_factory=Counter)
    """Requests (by action) whose reply did not come within REQUEST_TIMEOUT_S."""
    late: int = 0
    """answer_results that arrived after their request had timed out (counted as lost too)."""
    completion: str = ""
    completed_per_socket: list[int] = field(default_factory=list)
    phases_s: dict[str, float] = field(default_factory=dict)
    results_persisted_after_s: float | None = None
    lobby_messages: list[int] = field(default_factory=list)
    """Per participant: lobby messages (`lobby`, or a revision-1 `participant_joined`) before the start."""

    def summary(self) -> dict[str, Any]:
        expected = self.participants * self.questions
        duplicated = sum(count - 1 for count in self.answer_results.values() if count > 1)
        return {
            "participants": self.participants,
            "questions": self.questions,
            "expected_answer_results": expected,
            "answer_results": sum(self.answer_results.values()),
            # a participant whose reply was lost stops playing: expected - received can exceed this
            "lost": sum(self.lost.values()),
            "requests_timed_out": dict(self.lost),
            "late_answer_results": self.late,
            "duplicated": duplicated,
            "completion": self.completion,
            "errors": dict(self.errors),
            "error_count": sum(self.errors.values()),
            "answer_to_result_p50_ms": percentile_ms(self.answer_latency_ns, 50) if self.answer_latency_ns else None,
            "answer_to_result_p99_ms": percentile_ms(self.answer_latency_ns, 99) if self.answer_latency_ns else None,
            "sockets_with_one_completed": sum(1 for count in self.completed_per_socket if count == 1),
            "sockets": len(self.completed_per_socket),
            "phases_s": {name: round(seconds, 1) for name, seconds in self.phases_s.items()},
            "joins_and_connects_per_s": round(self.participants / self.phases_s[ARRIVAL], 1),
            "lobby_messages_per_participant_median": statistics.median(self.lobby_messages),
            "lobby_messages_per_participant_max": max(self.lobby_messages),
            "results_persisted_after_s": self.results_persisted_after_s,
        }


async def _http(method: str, url: str, **kwargs: Any) -> client.HttpReply:
    return await asyncio.to_thread(client.http_request, method, url, **kwargs)


async def _bounded(count: int, make: Callable[[int], Any]) -> list[Any]:
    """`make(k)` for k in range(count), at most CONCURRENT_SETUP at a time, in order."""
    gate = asyncio.Semaphore(CONCURRENT_SETUP)

    async def one(k: int) -> Any:
        async with gate:
            return await make(k)

    return list(await asyncio.gather(*(one(k) for k in range(count))))


async def _play(
    number: int, socket: RunSocket, correct: dict[str, list[int]], outcome: LoadOutcome, rng: random.Random
) -> None:
    for index in range(outcome.questions):
        try:
            question = await socket.request("question", REQUEST_TIMEOUT_S, index=index)
        except TimeoutError:
            outcome.lost["question"] += 1
            return
        if question.get("type") != "question":
            outcome.errors[f"question: {question.get('code', question.get('type'))}"] += 1
            return
        await asyncio.sleep(rng.uniform(*THINK_S))
        roll = rng.random()
        sent = time.perf_counter_ns()
        try:
            if roll < 0.1:
                reply = await socket.request("timeout", REQUEST_TIMEOUT_S, index=index)
            else:
                selected = correct[question["text"]]
                if roll < 0.4:
                    selected = [(selected[0] + 1) % len(question["options"])]
                reply = await socket.request("answer", REQUEST_TIMEOUT_S, index=index, selected=selected)
        except TimeoutError:
            outcome.lost["answer" if roll >= 0.1 else "timeout"] += 1
            return
        if reply.get("type") != "answer_result":
            outcome.errors[f"answer: {reply.get('code', reply.get('type'))}"] += 1
            return
        outcome.answer_latency_ns.append(time.perf_counter_ns() - sent)
        outcome.answer_results[(number, reply["index"])] += 1


@dataclass
class _Phases:
    """Times the scenario's phases one after the other, into the outcome's `phases_s`."""

    outcome: LoadOutcome
    progress: Callable[[str], None]
    started: float = field(default_factory=time.perf_counter)

    def done(self, name: str) -> None:
        self.outcome.phases_s[name] = time.perf_counter() - self.started
        self.started = time.perf_counter()
        self.progress(f"load: {name} done in {self.outcome.phases_s[name]:.1f} s")


@dataclass(frozen=True)
class _OpenedRun:
    """A run the host has opened on the local stack, with what the clients need to play it."""

    api: str
    id_token: str
    signon: dict[str, Any]
    """Sign-on's reply: `speedrun_id`, `join_code`, `ws_url`, `host_token`."""
    correct: dict[str, list[int]]
    """Question text -> its correct options."""


async def _open_run(stack: Any, participants: int, questions: int) -> _OpenedRun:
    """The host signs in, uploads a demo question set and opens a run for `participants`."""
    config = (await _http("GET", f"{stack.base_url}/config.json")).json()
    api = config["api_url"]
    id_token = await asyncio.to_thread(
        client.sign_in, stack.base_url, config["user_pool_client_id"], stack.host_username, stack.host_password
    )
    question_set = demo_question_set(questions)
    upload = await asyncio.to_thread(
        client.upload_question_set, stack.base_url, id_token, "load.json", json.dumps(question_set).encode()
    )
    opened = await _http(
        "POST",
        f"{api}/signon/speedruns",
        json_body={
            "question_set_id": upload.json()["id"],
            "name": f"Load run, {participants} participants",
            "question_duration_s": QUESTION_DURATION_S,
            "duration_s": int(SCENARIO_TIMEOUT_S),
            "max_participants": participants,
        },
        headers=client.bearer(id_token),
    )
    correct = {question["text"]: question["correct"] for question in question_set["questions"]}
    return _OpenedRun(api, id_token, opened.json(), correct)


async def _arrive_all(opened: _OpenedRun, participants: int) -> list[RunSocket]:
    """Every participant joins over HTTP, connects and syncs, CONCURRENT_SETUP at a time."""

    async def join(k: int) -> str:
        joined = await _http(
            "POST", f"{opened.api}/signon/join", json_body={"join_code": opened.signon["join_code"], "name": f"L{k}"}
        )
        if joined.status != 201:
            raise RuntimeError(f"join {k}: HTTP {joined.status} {joined.body[:200]!r}")
        return str(joined.json()["participant_token"])

    async def arrive(k: int) -> RunSocket:
        socket = await RunSocket.connect(opened.signon["ws_url"], await join(k), f"p{k}")
        await socket.request("sync", REQUEST_TIMEOUT_S)
        return socket

    return await _bounded(participants, arrive)


async def _play_all(
    sockets: list[RunSocket], correct: dict[str, list[int]], outcome: LoadOutcome, progress: Callable[[str], None]
) -> None:
    """Every participant plays every question at once, each with its own seeded think times."""
    rng = random.Random(7)  # noqa: S311 (a reproducible workload, not security)
    games = [
        asyncio.create_task(_play(k, socket, correct, outcome, random.Random(rng.random())))  # noqa: S311
        for k, socket in enumerate(sockets)
    ]
    while not all(game.done() for game in games):
        await asyncio.wait(games, timeout=5.0)
        progress(f"load: {len(outcome.answer_latency_ns)}/{outcome.participants * outcome.questions} answer_results")


async def _await_completed(host: RunSocket, sockets: list[RunSocket], outcome: LoadOutcome) -> None:
    """The run completes (the host ends it if someone stopped playing); `completed` counted per socket."""
    outcome.completion = "all_finished"
    host_reply: dict[str, Any] = {}
    try:
        await host.wait_for("completed", COMPLETION_WAIT_S)
    except TimeoutError:  # someone stopped playing (a lost reply): end the run so it completes
        outcome.completion = "ended by the host (not every participant finished)"
        host_reply = await host.request("end", REQUEST_TIMEOUT_S)
    waits = [socket.wait_for("completed", COMPLETION_WAIT_S) for socket in sockets]
    await asyncio.gather(*waits, return_exceptions=True)  # a missing one is counted below
    # the host's `completed` is the direct reply to its `end` when it ended the run (protocol.md; docs/engine.md)
    outcome.completed_per_socket = [len(host.received("completed")) + (host_reply.get("type") == "completed")]
    outcome.completed_per_socket += [len(socket.received("completed")) for socket in sockets]


def _count_stray_answer_results(sockets: list[RunSocket], outcome: LoadOutcome) -> None:
    for number, socket in enumerate(sockets):
        # An answer_result among the pushes is a reply that came after its request timed out
        # (already counted as lost), or a second copy of one that was answered: a duplicate.
        for stray in socket.received("answer_result"):
            if outcome.answer_results[(number, stray["index"])]:
                outcome.answer_results[(number, stray["index"])] += 1
            else:
                outcome.late += 1


async def _results_persisted_after(opened: _OpenedRun) -> float | None:
    """Seconds until the run's results can be read (durable), or None if not within REQUEST_TIMEOUT_S."""
    results_url = f"{opened.api}/speedruns/{opened.signon['speedrun_id']}/results"
    waited = time.perf_counter()
    while time.perf_counter() - waited < REQUEST_TIMEOUT_S:
        if (await _http("GET", results_url, headers=client.bearer(opened.id_token))).status == 200:
            return round(time.perf_counter() - waited, 1)
        await asyncio.sleep(0.5)
    return None


async def _scenario(stack: Any, participants: int, questions: int, progress: Callable[[str], None]) -> LoadOutcome:
    outcome = LoadOutcome(participants, questions)
    phases = _Phases(outcome, progress)
    opened = await _open_run(stack, participants, questions)
    host = await RunSocket.connect(opened.signon["ws_url"], opened.signon["host_token"], "host")
    await host.request("sync")
    sockets = await _arrive_all(opened, participants)
    phases.done(ARRIVAL)
    await asyncio.sleep(LOBBY_SETTLE_S)  # the lobby's last (trailing) update
    outcome.lobby_messages = [len(s.received("lobby")) + len(s.received("participant_joined")) for s in sockets]

    await host.request("start")
    await _play_all(sockets, opened.correct, outcome, progress)
    phases.done("play")
    await _await_completed(host, sockets, outcome)
    _count_stray_answer_results(sockets, outcome)
    phases.done("completed on every socket")

    outcome.results_persisted_after_s = await _results_persisted_after(opened)
    await asyncio.gather(*(socket.close() for socket in [host, *sockets]), return_exceptions=True)
    return outcome


def measure(participants: int, questions: int, progress: Callable[[str], None] = lambda _line: None) -> dict[str, Any]:
    with stack_process("--no-samples") as stack:
        progress(f"load: local stack up at {stack.base_url}")
        outcome = asyncio.run(asyncio.wait_for(_scenario(stack, participants, questions, progress), SCENARIO_TIMEOUT_S))
    return outcome.summary()

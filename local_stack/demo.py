"""`make demo`: a whole speed-run against the local stack, played by bots over real sockets.

The host signs in with Cognito (InitiateAuth through `/cognito/`), uploads a generated question
set, opens a run and connects over WebSocket; N bot participants join over HTTP, connect, and
answer with a mix of speeds, wrong answers and give-ups. Everything goes through the public
contracts only (http-api.md, protocol.md: /api/openapi.json, docs/engine.md), so the e2e test plays the same scenario.
"""

from __future__ import annotations

import asyncio
import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from local_stack import client
from local_stack.client import RunSocket

QUESTION_DURATION_S = 5
"""The shortest the contract allows, so a demo run ends within about a minute."""
RUN_DURATION_S = 120
COMPLETION_TIMEOUT_S = 150.0
RESULTS_TIMEOUT_S = 60.0


def demo_question_set(question_count: int = 8, seed: int = 7) -> dict[str, Any]:
    """Arithmetic questions: the bots can tell the right answer from the text, as a human would."""
    rng = random.Random(seed)  # noqa: S311 (reproducible demo data, not security)
    questions = []
    for number in range(question_count):
        left, right = rng.randint(3, 12), rng.randint(3, 12)
        answer = left * right
        wrong = rng.sample([value for value in range(answer - 12, answer + 13) if value not in (answer,)], 3)
        options = [str(value) for value in [answer, *wrong]]
        rng.shuffle(options)
        questions.append(
            {
                "category": "times tables" if number % 2 else "arithmetic",
                "text": f"How much is {left} x {right}?",
                "options": options,
                "correct": [options.index(str(answer))],
            }
        )
    return {"name": "Demo: times tables", "questions": questions}


@dataclass
class Bot:
    name: str
    think_s: float
    accuracy: float
    give_up_rate: float
    rng: random.Random

    @classmethod
    def crowd(cls, count: int, seed: int = 42) -> list[Bot]:
        rng = random.Random(seed)  # noqa: S311 (reproducible demo data, not security)
        bots = []
        for number in range(1, count + 1):
            speed = rng.choice(["quick", "steady", "slow"])
            think_s = {"quick": 0.2, "steady": 0.8, "slow": 1.6}[speed] * rng.uniform(0.6, 1.4)
            bots.append(
                cls(
                    name=f"{speed}-bot-{number:02d}",
                    think_s=think_s,
                    accuracy=rng.uniform(0.45, 0.95),
                    give_up_rate=0.1 if speed == "slow" else 0.02,
                    rng=random.Random(rng.random()),  # noqa: S311
                )
            )
        return bots


@dataclass
class Progress:
    participants: int
    question_count: int
    answered: int = 0
    finished: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: {"correct": 0, "incorrect": 0, "timeout": 0})

    def line(self) -> str:
        total = self.participants * self.question_count
        tally = " ".join(f"{outcome} {count}" for outcome, count in self.outcomes.items())
        return f"answers {self.answered}/{total} ({tally}), finished {self.finished}/{self.participants}"


@dataclass
class RunOutcome:
    run_id: str
    join_code: str
    host: RunSocket
    players: dict[str, RunSocket]
    """Bot name -> its socket (every push it received is in `.pushes`)."""
    answer_results: dict[str, list[dict[str, Any]]]
    completed: dict[str, Any]
    results_url: str
    results: client.HttpReply
    csv: client.HttpReply


async def _http(method: str, url: str, **kwargs: Any) -> client.HttpReply:
    return await asyncio.to_thread(client.http_request, method, url, **kwargs)


async def play(bot: Bot, socket: RunSocket, correct_by_text: dict[str, list[int]], progress: Progress) -> list[dict]:
    """Answer every question in order; returns the bot's `answer_result` replies."""
    results: list[dict[str, Any]] = []
    index = 0
    while True:
        question = await socket.request("question", index=index)
        if question.get("type") != "question":
            raise RuntimeError(f"{bot.name}: question {index} refused: {question}")
        await asyncio.sleep(bot.think_s * bot.rng.uniform(0.5, 1.5))
        if bot.rng.random() < bot.give_up_rate:
            result = await socket.request("timeout", index=index)
        else:
            correct = correct_by_text[question["text"]]
            selected = correct
            if bot.rng.random() > bot.accuracy:
                wrong = [option for option in range(len(question["options"])) if option not in correct]
                selected = sorted(bot.rng.sample(wrong, question["select_count"]))
            result = await socket.request("answer", index=index, selected=selected)
        if result.get("type") != "answer_result":
            raise RuntimeError(f"{bot.name}: answer {index} refused: {result}")
        results.append(result)
        progress.answered += 1
        progress.outcomes[result["outcome"]] = progress.outcomes.get(result["outcome"], 0) + 1
        if result["finished"]:
            progress.finished += 1
            return results
        index += 1


async def play_run(
    base_url: str,
    username: str,
    password: str,
    *,
    participants: int,
    report: Callable[[str], None] = lambda _line: None,
) -> RunOutcome:
    """The whole scenario: sign in, upload, open, join, start, play, completion, durable results."""
    config = (await _http("GET", f"{base_url}/config.json")).json()
    id_token = await asyncio.to_thread(client.sign_in, base_url, config["user_pool_client_id"], username, password)
    question_set = demo_question_set()
    correct_by_text = {question["text"]: question["correct"] for question in question_set["questions"]}
    upload = await asyncio.to_thread(
        client.upload_question_set, base_url, id_token, "demo.json", json.dumps(question_set).encode()
    )
    if upload.status != 201:
        raise RuntimeError(f"upload refused: HTTP {upload.status} {upload.body[:300]!r}")
    opened = await _http(
        "POST",
        f"{config['api_url']}/signon/speedruns",
        json_body={
            "question_set_id": upload.json()["id"],
            "name": f"Demo run with {participants} bots",
            "question_duration_s": QUESTION_DURATION_S,
            "duration_s": RUN_DURATION_S,
            "max_participants": max(participants, 1),
        },
        headers=client.bearer(id_token),
    )
    if opened.status != 201:
        raise RuntimeError(f"run not opened: HTTP {opened.status} {opened.body[:300]!r}")
    run = opened.json()
    report(f"run {run['speedrun_id']} open, join code {run['join_code']}")
    host = await RunSocket.connect(run["ws_url"], run["host_token"], "host")
    await host.request("sync")

    bots = Bot.crowd(participants)
    players: dict[str, RunSocket] = {}
    for bot in bots:
        joined = await _http(
            "POST",
            f"{config['api_url']}/signon/join",
            json_body={"join_code": run["join_code"], "name": bot.name},
        )
        if joined.status != 201:
            raise RuntimeError(f"{bot.name} could not join: HTTP {joined.status} {joined.body[:300]!r}")
        socket = await RunSocket.connect(joined.json()["ws_url"], joined.json()["participant_token"], bot.name)
        await socket.request("sync")
        players[bot.name] = socket
    report(f"{len(players)} participants joined")

    started = await host.request("start")
    question_count = int(started.get("question_count") or len(question_set["questions"]))
    progress = Progress(participants, question_count)
    report(f"started: {question_count} questions, {QUESTION_DURATION_S} s each")
    games = [asyncio.create_task(play(bot, players[bot.name], correct_by_text, progress)) for bot in bots]
    waiting_for_completion = asyncio.create_task(host.wait_for("completed", COMPLETION_TIMEOUT_S))
    shown = ""
    while not waiting_for_completion.done():
        await asyncio.wait([waiting_for_completion], timeout=1.0)
        if progress.line() != shown:
            shown = progress.line()
            report(shown)
    answer_results = dict(zip(players, await asyncio.gather(*games), strict=True))
    completed = waiting_for_completion.result()

    results_url = f"{config['api_url']}/speedruns/{run['speedrun_id']}/results"
    results = await _poll_results(results_url, id_token)
    csv = await _http("GET", f"{results_url}?format=csv", headers=client.bearer(id_token))
    return RunOutcome(
        run_id=run["speedrun_id"],
        join_code=run["join_code"],
        host=host,
        players=players,
        answer_results=answer_results,
        completed=completed,
        results_url=results_url,
        results=results,
        csv=csv,
    )


async def _poll_results(url: str, id_token: str) -> client.HttpReply:
    """The reporter persists a completed run asynchronously (completion queue): poll until it has."""
    deadline = time.monotonic() + RESULTS_TIMEOUT_S
    while True:
        reply = await _http("GET", url, headers=client.bearer(id_token))
        if reply.status != 404 or time.monotonic() > deadline:
            return reply
        await asyncio.sleep(0.5)


def print_leaderboard(completed: dict[str, Any], out: TextIO) -> None:
    entries = completed.get("leaderboard") or []
    if isinstance(entries, dict):
        entries = entries.get("entries", [])
    print(f"\ncompleted ({completed.get('reason')}): final leaderboard", file=out)
    print(f"{'rank':>4}  {'name':<16} {'score':>6} {'answered':>8} {'elapsed':>9}", file=out)
    for entry in entries:
        elapsed = f"{entry.get('elapsed_ms', 0) / 1000:.1f} s"
        print(
            f"{entry.get('rank', ''):>4}  {entry.get('name', ''):<16} {entry.get('score', 0):>6} "
            f"{entry.get('answered', ''):>8} {elapsed:>9}",
            file=out,
        )


async def _demo(base_url: str, username: str, password: str, participants: int, out: TextIO) -> int:
    def report(line: str) -> None:
        print(line, file=out, flush=True)

    outcome = await play_run(base_url, username, password, participants=participants, report=report)
    print_leaderboard(outcome.completed, out)
    if outcome.results.status == 200:
        report(f"\nresults (JSON, host sign-in): {outcome.results_url}")
        report(f"results (CSV):                {outcome.results_url}?format=csv")
    else:
        report(f"\nresults not available yet: HTTP {outcome.results.status} from {outcome.results_url}")
    report(f"web client: {base_url}/  (host user {username!r}, password {password!r})")
    for socket in [outcome.host, *outcome.players.values()]:
        await socket.close()
    return 0 if outcome.results.status == 200 else 1


def run_demo(stack: Any, *, participants: int, out: TextIO = sys.stdout) -> int:
    """Play one run on a started LocalStack; returns the process exit code."""
    print(stack.banner(), file=out, flush=True)
    try:
        return asyncio.run(_demo(stack.base_url, stack.host_username, stack.host_password, participants, out))
    except RuntimeError as error:
        print(f"demo failed: {error}", file=out)
        return 1

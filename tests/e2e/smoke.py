"""`make smoke`: one whole speed-run against any deployment, step by step, through the public contracts.

    python -m tests.e2e.smoke --base-url URL --user U --password P

URL is the site's origin: what `make run` prints for the local stack, or the `SiteUrl` that
`cdk deploy` prints (https://<id>.cloudfront.net). The client reads `URL/config.json`, signs in with
Cognito (InitiateAuth, USER_PASSWORD_AUTH) over plain HTTPS, uploads the small question set it
carries, opens a run, joins five bot participants, connects the host and the bots over WebSockets,
plays the run (every bot answers every question, right or wrong as scripted in PLAN), waits for the
`completed` broadcast and the socket `results`, then reads the durable results and the CSV export
over HTTP and checks they agree with what the bots did.

Every step prints `PASS <step> (<ms> ms)` or `FAIL <step>: <reason>`; after a failure the remaining
steps print `SKIP <step>` and the exit code is 1 (2 for bad arguments, 130 when interrupted). Every
wait is bounded (see the `--*-timeout` options). It needs no AWS credentials: InitiateAuth is a
public call of the user pool's app client.

The server may speak protocol revision 1 or 2: replies are matched by `request_id`, unknown message
types (e.g. revision 2's `lobby`) are kept and ignored.

What it leaves behind on the deployment: one question set and one completed run (named
`smoke <time>`); neither has a delete route.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import http.client
import io
import json
import os
import re
import secrets
import sys
import time
import urllib.error
import urllib.parse
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import websockets
import websockets.exceptions

from local_stack import client

STEPS: tuple[str, ...] = ("config", "sign-in", "upload", "open", "join", "play", "complete", "results", "csv")
USER_AGENT = "speedrun-smoke/1"
CONFIG_KEYS = ("api_url", "ws_url", "region", "user_pool_id", "user_pool_client_id")
REGION_PATTERN = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
PASSWORD_ENV = "SMOKE_PASSWORD"
"""Read when `--password` is not given (the Makefile passes it this way, so it is not on a command line)."""

QUESTION_DURATION_S = 30
"""Long enough for a cold Lambda behind CloudFront; the bots answer within a fraction of a second."""
RUN_DURATION_S = 300
"""A smoke run that fails midway still ends by itself at its deadline."""

QUESTION_SET: dict[str, Any] = {
    "name": "Smoke test",
    "questions": [
        {
            "category": "arithmetic",
            "text": "Smoke test: how much is 6 x 7?",
            "options": ["36", "42", "48", "54"],
            "correct": [1],
        },
        {
            "category": "numbers",
            "text": "Smoke test: which two of these are prime numbers?",
            "options": ["4", "7", "9", "11"],
            "correct": [1, 3],
        },
        {
            "category": "science",
            "text": "Smoke test: which planet is closest to the sun?",
            "options": ["Mercury", "Venus", "Earth", "Mars"],
            "correct": [0],
        },
    ],
}
QUESTION_COUNT = len(QUESTION_SET["questions"])

PLAN: tuple[tuple[str, ...], ...] = (
    ("correct", "correct", "correct"),
    ("correct", "incorrect", "correct"),
    ("incorrect", "correct", "incorrect"),
    ("incorrect", "incorrect", "incorrect"),
    ("correct", "correct", "incorrect"),
)
"""What each bot answers to each question (by index): right for some, wrong for others."""
PARTICIPANTS = len(PLAN)


class StepFailed(Exception):
    """A check failed: the message is the reason printed after `FAIL <step>:`."""


@dataclass(frozen=True)
class Options:
    base_url: str
    user: str
    password: str
    http_timeout_s: float = 30.0
    ws_timeout_s: float = 30.0
    completion_timeout_s: float = 60.0
    results_timeout_s: float = 60.0


# --- HTTP -------------------------------------------------------------------------------------------


def describe_reply(reply: client.HttpReply) -> str:
    """The interesting part of an error reply: the contract's `{"error": {code, message}}` or the body's start."""
    try:
        body = reply.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            return f"{error.get('code', '?')}: {error.get('message', '')}".strip()
        if "__type" in body or "message" in body:
            kind = str(body.get("__type", "")).rsplit("#", 1)[-1]
            return f"{kind}: {body.get('message', body.get('Message', ''))}".strip(": ")
    text = " ".join(reply.body[:300].decode("utf-8", errors="replace").split())
    content_type = reply.headers.get("content-type", "no content-type")
    return f"{content_type} body {text!r}" if text else f"empty {content_type} body"


async def call(
    options: Options,
    method: str,
    url: str,
    *,
    what: str,
    expect: Sequence[int] = (200,),
    **kwargs: Any,
) -> client.HttpReply:
    """One HTTP call with a bounded wait; StepFailed naming `what` for a transport error or an unexpected status."""
    headers = {"user-agent": USER_AGENT, "accept": "application/json, text/csv;q=0.9, */*;q=0.1"}
    headers.update(kwargs.pop("headers", None) or {})
    try:
        reply = await asyncio.to_thread(
            client.http_request, method, url, headers=headers, timeout_s=options.http_timeout_s, **kwargs
        )
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, TimeoutError):
            raise StepFailed(f"{what}: no answer from {url} within {options.http_timeout_s:g} s") from None
        raise StepFailed(f"{what}: cannot reach {url}: {reason}") from None
    except TimeoutError:
        raise StepFailed(f"{what}: no reply from {url} within {options.http_timeout_s:g} s") from None
    except (OSError, http.client.HTTPException) as error:
        raise StepFailed(f"{what}: {method} {url} failed: {type(error).__name__}: {error}") from None
    except ValueError as error:  # urllib: "unknown url type"
        raise StepFailed(f"{what}: bad URL {url!r}: {error}") from None
    if reply.status not in expect:
        raise StepFailed(f"{what}: HTTP {reply.status} from {method} {url}: {describe_reply(reply)}")
    return reply


def json_of(reply: client.HttpReply, what: str) -> Any:
    try:
        return reply.json()
    except ValueError:
        raise StepFailed(f"{what}: the reply is not JSON ({describe_reply(reply)})") from None


def require(condition: object, reason: str) -> None:
    if not condition:
        raise StepFailed(reason)


# --- WebSocket --------------------------------------------------------------------------------------


class Socket:
    """One protocol session: direct replies matched by `request_id`, every other frame kept in `pushes`.

    Unlike local_stack.client.RunSocket every wait is bounded and fails at once (with the close code)
    when the server closes the socket, and a non-JSON frame is kept rather than ending the reader.
    """

    _ids = 0

    def __init__(self, connection: Any, label: str) -> None:
        self._connection = connection
        self.label = label
        self.pushes: list[dict[str, Any]] = []
        self.closed: str | None = None
        self._waiting: dict[str, tuple[str, asyncio.Future[dict[str, Any]]]] = {}
        self._arrived = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def open(cls, ws_url: str, token: str, label: str, timeout_s: float) -> Socket:
        separator = "&" if "?" in ws_url else "?"
        url = f"{ws_url}{separator}token={urllib.parse.quote(token, safe='')}"
        where = f"{label}: WebSocket {ws_url}"
        try:
            connection = await websockets.connect(
                url, open_timeout=timeout_s, close_timeout=5, max_size=4 * 1024 * 1024, user_agent_header=USER_AGENT
            )
        except websockets.exceptions.InvalidStatus as error:
            status = error.response.status_code
            raise StepFailed(f"{where}: handshake refused with HTTP {status}") from None
        except websockets.exceptions.InvalidURI:
            raise StepFailed(f"{where}: not a ws:// or wss:// URL") from None
        except TimeoutError:
            raise StepFailed(f"{where}: no handshake within {timeout_s:g} s") from None
        except (OSError, websockets.exceptions.WebSocketException) as error:
            raise StepFailed(f"{where}: cannot connect: {type(error).__name__}: {error}") from None
        return cls(connection, label)

    async def _read(self) -> None:
        try:
            async for frame in self._connection:
                try:
                    message = json.loads(frame)
                except ValueError:
                    message = {"type": "(not JSON)", "frame": str(frame)[:200]}
                if not isinstance(message, dict):
                    message = {"type": "(not an object)", "frame": str(frame)[:200]}
                waiting = self._waiting.pop(str(message.get("request_id")), None)
                if waiting is not None and not waiting[1].done():
                    waiting[1].set_result(message)
                    continue
                async with self._arrived:
                    self.pushes.append(message)
                    self._arrived.notify_all()
            self.closed = self._close_reason()
        except websockets.exceptions.ConnectionClosed:
            self.closed = self._close_reason()
        except Exception as error:  # reported to whoever waits
            self.closed = f"reader failed: {type(error).__name__}: {error}"
        finally:
            self.closed = self.closed or "closed"
            for action, future in self._waiting.values():
                if not future.done():
                    future.set_exception(
                        StepFailed(f"{self.label}: socket {self.closed} before the reply to {action!r}")
                    )
            self._waiting.clear()
            async with self._arrived:
                self._arrived.notify_all()

    def _close_reason(self) -> str:
        code = getattr(self._connection, "close_code", None)
        reason = getattr(self._connection, "close_reason", None)
        return f"closed by the server (code {code}{f', {reason}' if reason else ''})"

    async def request(self, action: str, timeout_s: float, **fields: Any) -> dict[str, Any]:
        """Send `action` with a fresh request_id; the reply carrying it (StepFailed on timeout or close)."""
        if self.closed:
            raise StepFailed(f"{self.label}: socket {self.closed}; cannot send {action!r}")
        Socket._ids += 1
        request_id = f"smoke-{Socket._ids}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = (action, future)
        try:
            await self._connection.send(json.dumps({"action": action, "request_id": request_id, **fields}))
            async with asyncio.timeout(timeout_s):
                return await future
        except TimeoutError:
            raise StepFailed(f"{self.label}: no reply to {action!r} within {timeout_s:g} s") from None
        except websockets.exceptions.ConnectionClosed:
            raise StepFailed(f"{self.label}: socket {self._close_reason()} while sending {action!r}") from None
        finally:
            self._waiting.pop(request_id, None)

    async def expect(self, action: str, reply_type: str, timeout_s: float, **fields: Any) -> dict[str, Any]:
        """`request()`, and the reply must be of `reply_type` (an `error` reply is reported with its code)."""
        reply = await self.request(action, timeout_s, **fields)
        if reply.get("type") == "error":
            raise StepFailed(f"{self.label}: {action!r} refused: {reply.get('code')}: {reply.get('message')}")
        if reply.get("type") != reply_type:
            raise StepFailed(f"{self.label}: {action!r} got {reply.get('type')!r}, expected {reply_type!r}")
        return reply

    def received(self, message_type: str) -> list[dict[str, Any]]:
        return [message for message in self.pushes if message.get("type") == message_type]

    def notifications(self, message_type: str) -> list[dict[str, Any]]:
        """Every item of the host's notifications of `message_type`: a revision-2 message listing
        several (`joined`, `answered`, `finished`) stands for all of them, a revision-1 one for itself."""
        list_field = client.COALESCED_LISTS[message_type]
        items: list[dict[str, Any]] = []
        for message in self.received(message_type):
            listed = message.get(list_field)
            items += [entry for entry in listed if isinstance(entry, dict)] if isinstance(listed, list) else [message]
        return items

    async def wait_until(self, what: str, done: Callable[[], bool], timeout_s: float) -> None:
        """Wait until `done()` holds over the pushes so far; StepFailed on timeout or when the socket closes."""
        try:
            async with asyncio.timeout(timeout_s), self._arrived:
                while not done():
                    if self.closed:
                        raise StepFailed(f"{self.label}: socket {self.closed} while waiting for {what}")
                    await self._arrived.wait()
        except TimeoutError:
            raise StepFailed(f"{self.label}: no {what} within {timeout_s:g} s") from None

    async def wait_for(self, message_type: str, timeout_s: float) -> dict[str, Any]:
        await self.wait_until(message_type, lambda: bool(self.received(message_type)), timeout_s)
        return self.received(message_type)[0]

    async def close(self) -> None:
        try:
            async with asyncio.timeout(6):
                await self._connection.close()
        except (TimeoutError, OSError, websockets.exceptions.WebSocketException):
            pass
        self._reader.cancel()


# --- the scenario -----------------------------------------------------------------------------------


@dataclass
class Bot:
    number: int
    name: str
    plan: tuple[str, ...]
    participant_id: str = ""
    token: str = ""
    ws_url: str = ""
    socket: Socket | None = None
    results: list[dict[str, Any]] = field(default_factory=list)
    """Its `answer_result` replies, by question index."""

    @property
    def score(self) -> int:
        return int(self.results[-1]["score"]) if self.results else 0


def leaderboard_entries(message: dict[str, Any]) -> list[dict[str, Any]]:
    board = message.get("leaderboard")
    if isinstance(board, dict):  # a `leaderboard` message's shape
        board = board.get("entries")
    return [entry for entry in board or [] if isinstance(entry, dict)]


def correct_texts() -> dict[str, set[str]]:
    """Question text -> its correct options as text (the server may order the options as it likes)."""
    return {
        question["text"]: {question["options"][index] for index in question["correct"]}
        for question in QUESTION_SET["questions"]
    }


class Smoke:
    def __init__(self, options: Options, out: TextIO) -> None:
        self.options = options
        self.out = out
        self.base_url = options.base_url.rstrip("/")
        self.config: dict[str, Any] = {}
        self.id_token = ""
        self.question_set_id = ""
        self.run: dict[str, Any] = {}
        self.host: Socket | None = None
        suffix = secrets.token_hex(2)
        self.bots = [Bot(number, f"smoke-{number}-{suffix}", plan) for number, plan in enumerate(PLAN, start=1)]
        self.completed: dict[str, Any] = {}

    def steps(self) -> list[tuple[str, Callable[[], Awaitable[str]]]]:
        actions = [
            self.read_config,
            self.sign_in,
            self.upload,
            self.open_run,
            self.join,
            self.play,
            self.complete,
            self.http_results,
            self.csv_export,
        ]
        return list(zip(STEPS, actions, strict=True))

    @property
    def api_url(self) -> str:
        return str(self.config["api_url"]).rstrip("/")

    def _bearer(self) -> dict[str, str]:
        return client.bearer(self.id_token)

    def _host(self) -> Socket:
        assert self.host is not None
        return self.host

    def expected(self, index: int, outcome: str) -> set[str]:
        return {bot.name for bot in self.bots if bot.plan[index] == outcome}

    # 1. config
    async def read_config(self) -> str:
        parsed = urllib.parse.urlsplit(self.base_url)
        require(
            parsed.scheme in ("http", "https") and parsed.netloc,
            f"BASE_URL must be the site's origin, like https://d1234.cloudfront.net or http://127.0.0.1:8000; "
            f"got {self.options.base_url!r}",
        )
        url = f"{self.base_url}/config.json"
        hint = "is BASE_URL the site URL that `make run` or `cdk deploy` (SiteUrl) printed?"
        try:
            reply = await call(self.options, "GET", url, what="client configuration")
            config = json_of(reply, f"{url}")
        except StepFailed as error:
            raise StepFailed(f"{error} ({hint})") from None
        require(isinstance(config, dict), f"{url} is not a JSON object ({hint})")
        missing = [key for key in CONFIG_KEYS if not isinstance(config.get(key), str) or not config[key]]
        require(not missing, f"{url} lacks {', '.join(missing)} (has {', '.join(sorted(config)) or 'nothing'})")
        require(
            urllib.parse.urlsplit(config["api_url"]).scheme in ("http", "https"),
            f"api_url is not an http(s) URL: {config['api_url']!r}",
        )
        require(
            urllib.parse.urlsplit(config["ws_url"]).scheme in ("ws", "wss"),
            f"ws_url is not a ws(s) URL: {config['ws_url']!r}",
        )
        endpoint = config.get("cognito_endpoint")
        require(endpoint is None or isinstance(endpoint, str), f"cognito_endpoint is not a string: {endpoint!r}")
        if not endpoint:
            require(REGION_PATTERN.match(config["region"]), f"region is not an AWS region: {config['region']!r}")
        self.config = config
        return f"api {config['api_url']}, ws {config['ws_url']}"

    # 2. sign-in
    async def sign_in(self) -> str:
        endpoint = self.config.get("cognito_endpoint") or f"https://cognito-idp.{self.config['region']}.amazonaws.com/"
        what = f"Cognito InitiateAuth at {endpoint}"
        reply = await call(
            self.options,
            "POST",
            endpoint,
            what=what,
            expect=(200, 400),
            data=json.dumps(
                {
                    "AuthFlow": "USER_PASSWORD_AUTH",
                    "ClientId": self.config["user_pool_client_id"],
                    "AuthParameters": {"USERNAME": self.options.user, "PASSWORD": self.options.password},
                }
            ).encode(),
            headers={
                "x-amz-target": "AWSCognitoIdentityProviderService.InitiateAuth",
                "content-type": "application/x-amz-json-1.1",
            },
        )
        body = json_of(reply, what)
        if reply.status == 400:
            kind = str(body.get("__type", "error") if isinstance(body, dict) else "error").rsplit("#", 1)[-1]
            message = (body.get("message") or body.get("Message")) if isinstance(body, dict) else ""
            if kind in ("NotAuthorizedException", "UserNotFoundException"):
                raise StepFailed(
                    f"Cognito refused user {self.options.user!r}: {kind}: {message} (check USER and PASSWORD)"
                )
            raise StepFailed(f"Cognito refused the sign-in of {self.options.user!r}: {kind}: {message}")
        require(isinstance(body, dict), f"{what}: the reply is not a JSON object")
        challenge = body.get("ChallengeName")
        if challenge:
            fix = (
                "give the user a permanent password first (aws cognito-idp admin-set-user-password --permanent)"
                if challenge == "NEW_PASSWORD_REQUIRED"
                else "the smoke test signs in with a password only: use a host account without MFA"
            )
            raise StepFailed(f"Cognito asks {self.options.user!r} for the challenge {challenge}, not tokens: {fix}")
        token = (body.get("AuthenticationResult") or {}).get("IdToken")
        require(isinstance(token, str) and token.count(".") == 2, f"{what}: no ID token in the reply")
        self.id_token = str(token)
        return f"ID token for {self.options.user!r} from {endpoint}"

    # 3. upload
    async def upload(self) -> str:
        name = f"smoke {time.strftime('%Y-%m-%d %H:%M:%S')}"
        content, content_type = client.multipart_body({"name": name}, "smoke.json", json.dumps(QUESTION_SET).encode())
        url = f"{self.api_url}/question-sets"
        reply = await call(
            self.options,
            "POST",
            url,
            what="upload",
            expect=(201,),
            data=content,
            headers={**self._bearer(), "content-type": content_type},
        )
        uploaded = json_of(reply, "upload")
        require(isinstance(uploaded, dict) and uploaded.get("id"), f"upload: no id in {uploaded!r}")
        require(
            uploaded.get("question_count") == QUESTION_COUNT,
            f"upload: question_count {uploaded.get('question_count')!r}, expected {QUESTION_COUNT}",
        )
        self.question_set_id = str(uploaded["id"])
        return f"question set {self.question_set_id} ({QUESTION_COUNT} questions)"

    # 4. open
    async def open_run(self) -> str:
        reply = await call(
            self.options,
            "POST",
            f"{self.api_url}/signon/speedruns",
            what="sign-on",
            expect=(201,),
            json_body={
                "question_set_id": self.question_set_id,
                "name": f"smoke {time.strftime('%Y-%m-%d %H:%M:%S')}",
                "question_duration_s": QUESTION_DURATION_S,
                "duration_s": RUN_DURATION_S,
                "max_participants": PARTICIPANTS,
            },
            headers=self._bearer(),
        )
        run = json_of(reply, "sign-on")
        require(isinstance(run, dict), f"sign-on: not a JSON object: {run!r}")
        missing = [key for key in ("speedrun_id", "join_code", "host_token") if not run.get(key)]
        require(not missing, f"sign-on: the reply lacks {', '.join(missing)}")
        require(
            re.fullmatch(r"[A-Z2-9]{6}", str(run["join_code"])) and not set(str(run["join_code"])) & set("0O1I"),
            f"sign-on: join code {run['join_code']!r} is not 6 easy-to-read characters",
        )
        self.run = run
        return f"run {run['speedrun_id']}, join code {run['join_code']}"

    # 5. join
    async def join(self) -> str:
        timeout_s = self.options.ws_timeout_s
        ws_url = str(self.run.get("ws_url") or self.config["ws_url"])
        self.host = await Socket.open(ws_url, str(self.run["host_token"]), "host", timeout_s)
        state = await self.host.expect("sync", "state", timeout_s)
        require(state.get("role") == "host", f"host: sync says role {state.get('role')!r}")
        require(state.get("status") == "lobby", f"host: the new run is {state.get('status')!r}, not 'lobby'")
        for bot in self.bots:
            what = f"join of {bot.name}"
            reply = await call(
                self.options,
                "POST",
                f"{self.api_url}/signon/join",
                what=what,
                expect=(201,),
                json_body={"join_code": self.run["join_code"], "name": bot.name},
            )
            joined = json_of(reply, what)
            require(isinstance(joined, dict), f"{what}: not a JSON object")
            require(joined.get("speedrun_id") == self.run["speedrun_id"], f"{what}: joined another run: {joined!r}")
            require(joined.get("participant_id") and joined.get("participant_token"), f"{what}: no participant token")
            bot.participant_id = str(joined["participant_id"])
            bot.token = str(joined["participant_token"])
            bot.ws_url = str(joined.get("ws_url") or ws_url)
        for bot in self.bots:
            bot.socket = await Socket.open(bot.ws_url, bot.token, bot.name, timeout_s)
            state = await bot.socket.expect("sync", "state", timeout_s)
            require(
                state.get("role") == "participant" and state.get("participant_id") == bot.participant_id,
                f"{bot.name}: sync says role {state.get('role')!r}, participant {state.get('participant_id')!r}",
            )
        names = {bot.name for bot in self.bots}

        def host_saw_every_join() -> bool:
            return names <= {item.get("name") for item in self._host().notifications("participant_joined")}

        await self._host().wait_until("participant_joined for every participant", host_saw_every_join, timeout_s)
        state = await self._host().expect("sync", "state", timeout_s)
        listed = {entry.get("name") for entry in state.get("participants") or [] if isinstance(entry, dict)}
        require(listed == names, f"host: the lobby lists {sorted(map(str, listed))}, expected {sorted(names)}")
        return f"{PARTICIPANTS} participants joined; host + {PARTICIPANTS} sockets connected"

    # 6. play
    async def play(self) -> str:
        timeout_s = self.options.ws_timeout_s
        started = await self._host().expect("start", "started", timeout_s)
        require(
            started.get("question_count") in (None, QUESTION_COUNT),
            f"start: question_count {started.get('question_count')!r}, expected {QUESTION_COUNT}",
        )
        await asyncio.gather(*(self._play(bot) for bot in self.bots))
        for bot in self.bots:
            assert bot.socket is not None
            await bot.socket.wait_for("started", timeout_s)
        answered = PARTICIPANTS * QUESTION_COUNT
        await self._host().wait_until(
            f"{answered} participant_answered and {PARTICIPANTS} participant_finished",
            lambda: (
                len(self._host().notifications("participant_answered")) >= answered
                and len(self._host().notifications("participant_finished")) >= PARTICIPANTS
            ),
            timeout_s,
        )
        tally = Counter(result["outcome"] for bot in self.bots for result in bot.results)
        return f"{answered} answers ({tally['correct']} correct, {tally['incorrect']} incorrect)"

    async def _play(self, bot: Bot) -> None:
        assert bot.socket is not None
        timeout_s = self.options.ws_timeout_s
        right = correct_texts()
        score = 0
        for index, planned in enumerate(bot.plan):
            question = await bot.socket.expect("question", "question", timeout_s, index=index)
            where = f"{bot.name}: question {index}"
            require(question.get("index") == index, f"{where}: got index {question.get('index')!r}")
            require(question.get("text") in right, f"{where}: unknown text {question.get('text')!r}")
            require(
                not {"correct", "correct_options", "answers"} & set(question),
                f"{where}: the correct options left the server before the answer",
            )
            options = [str(option) for option in question.get("options") or []]
            correct = sorted(options.index(option) for option in right[question["text"]] if option in options)
            require(len(correct) == question.get("select_count"), f"{where}: options or select_count not as uploaded")
            if planned == "correct":
                selected = correct
            else:
                selected = [number for number in range(len(options)) if number not in correct][: len(correct)]
            await asyncio.sleep(0.05 * bot.number)
            result = await bot.socket.expect("answer", "answer_result", timeout_s, index=index, selected=selected)
            require(result.get("index") == index, f"{where}: answer_result for index {result.get('index')!r}")
            require(result.get("outcome") == planned, f"{where}: outcome {result.get('outcome')!r}, sent {planned!r}")
            points = int(result.get("points", -1))
            if planned == "correct":
                require(500 <= points <= 1000, f"{where}: {points} points for a correct answer (500..1000)")
            else:
                require(points == 0, f"{where}: {points} points for a wrong answer")
            score += points
            require(result.get("score") == score, f"{where}: score {result.get('score')!r}, points add up to {score}")
            last = index == QUESTION_COUNT - 1
            require(result.get("finished") is last, f"{where}: finished is {result.get('finished')!r}")
            bot.results.append(result)

    # 7. complete
    async def complete(self) -> str:
        timeout_s = self.options.completion_timeout_s
        host = self._host()
        completed = await host.wait_for("completed", timeout_s)
        require(completed.get("reason") == "all_finished", f"completed: reason {completed.get('reason')!r}")
        self.check_leaderboard("completed (host)", leaderboard_entries(completed))
        for bot in self.bots:
            assert bot.socket is not None
            theirs = await bot.socket.wait_for("completed", timeout_s)
            board = {entry.get("name"): entry.get("score") for entry in leaderboard_entries(theirs)}
            require(board.get(bot.name) == bot.score, f"{bot.name}: completed shows {board.get(bot.name)!r}")
        self.completed = completed
        results = await host.expect("results", "results", self.options.ws_timeout_s)
        self.check_host_results("results (host socket)", results)
        for bot in self.bots:
            assert bot.socket is not None
            own = await bot.socket.expect("results", "results", self.options.ws_timeout_s)
            outcomes = [question.get("outcome") for question in own.get("questions") or []]
            require(outcomes == list(bot.plan), f"{bot.name}: results show {outcomes}, played {list(bot.plan)}")
            require(own.get("score") == bot.score, f"{bot.name}: results score {own.get('score')!r} != {bot.score}")
        winner = leaderboard_entries(completed)[0]
        return f"all_finished; winner {winner.get('name')} with {winner.get('score')}"

    def check_leaderboard(self, where: str, entries: list[dict[str, Any]]) -> None:
        scores = {bot.name: bot.score for bot in self.bots}
        board = {str(entry.get("name")): entry for entry in entries}
        require(set(board) == set(scores), f"{where}: the leaderboard has {sorted(board)}, expected {sorted(scores)}")
        for name, score in scores.items():
            require(board[name].get("score") == score, f"{where}: {name} has {board[name].get('score')!r}, not {score}")
            answered = board[name].get("answered")
            require(answered in (None, QUESTION_COUNT), f"{where}: {name} answered {answered!r}")
        ranks = [entry.get("rank") for entry in entries]
        require(ranks == list(range(1, len(entries) + 1)), f"{where}: ranks {ranks}")
        ranked = [int(entry.get("score", 0)) for entry in entries]
        require(ranked == sorted(ranked, reverse=True), f"{where}: scores {ranked} are not best first")

    def check_host_results(self, where: str, results: dict[str, Any]) -> None:
        require(
            results.get("speedrun_id") == self.run["speedrun_id"], f"{where}: for run {results.get('speedrun_id')!r}"
        )
        questions = results.get("questions") or []
        require(len(questions) == QUESTION_COUNT, f"{where}: {len(questions)} questions, expected {QUESTION_COUNT}")
        for index, question in enumerate(questions):
            for outcome in ("correct", "incorrect", "timeout"):
                names = {str(person.get("name")) for person in question.get(f"{outcome}_answerers") or []}
                expected = self.expected(index, outcome)
                require(
                    names == expected,
                    f"{where}: question {index} {outcome} answerers {sorted(names)}, expected {sorted(expected)}",
                )

    # 8. results
    async def http_results(self) -> str:
        url = f"{self.api_url}/speedruns/{self.run['speedrun_id']}/results"
        deadline = time.monotonic() + self.options.results_timeout_s
        polls = 0
        while True:
            polls += 1
            reply = await call(self.options, "GET", url, what="results", expect=(200, 404), headers=self._bearer())
            if reply.status == 200:
                break
            if time.monotonic() > deadline:
                raise StepFailed(
                    f"results: still 404 after {self.options.results_timeout_s:g} s ({polls} polls): "
                    "the completed run was not persisted"
                )
            await asyncio.sleep(1.0)
        results = json_of(reply, "results")
        require(isinstance(results, dict), "results: not a JSON object")
        self.check_host_results("results (HTTP)", results)
        if "leaderboard" in results:
            entries = leaderboard_entries(results)
            self.check_leaderboard("results (HTTP)", entries)
            order = [entry.get("name") for entry in entries]
            live = [entry.get("name") for entry in leaderboard_entries(self.completed)]
            require(order == live, f"results (HTTP): ranking {order} differs from the live one {live}")
        board = ", ".join(f"{bot.name} {bot.score}" for bot in sorted(self.bots, key=lambda bot: -bot.score))
        return f"persisted after {polls} poll(s); {board}"

    # 9. csv
    async def csv_export(self) -> str:
        url = f"{self.api_url}/speedruns/{self.run['speedrun_id']}/results?format=csv"
        reply = await call(self.options, "GET", url, what="CSV export", headers=self._bearer())
        content_type = reply.headers.get("content-type", "")
        require(content_type.startswith("text/csv"), f"CSV export: content-type {content_type!r}")
        try:
            reader = csv.DictReader(io.StringIO(reply.body.decode("utf-8-sig"), newline=""))
            rows = list(reader)
        except (UnicodeDecodeError, csv.Error) as error:
            raise StepFailed(f"CSV export: does not parse: {error}") from None
        columns = reader.fieldnames or []
        require("name" in columns, f"CSV export: no name column in {columns}")
        by_name: dict[str, list[dict[str, str]]] = {}
        for row in rows:
            by_name.setdefault(row["name"], []).append(row)
        names = {bot.name for bot in self.bots}
        require(set(by_name) == names, f"CSV export: rows for {sorted(by_name)}, expected {sorted(names)}")
        per_question = "question_index" in columns
        for bot in self.bots:
            mine = by_name[bot.name]
            if not per_question:
                require(len(mine) == 1, f"CSV export: {len(mine)} rows for {bot.name}, expected 1")
            else:
                indexes = sorted(int(row["question_index"]) for row in mine)
                require(indexes == list(range(QUESTION_COUNT)), f"CSV export: {bot.name} has questions {indexes}")
                if "outcome" in columns:
                    outcomes = [row["outcome"] for row in sorted(mine, key=lambda row: int(row["question_index"]))]
                    require(outcomes == list(bot.plan), f"CSV export: {bot.name} outcomes {outcomes}")
            if "total_score" in columns:
                totals = {row["total_score"] for row in mine}
                require(totals == {str(bot.score)}, f"CSV export: {bot.name} total_score {sorted(totals)}")
        shape = f"{QUESTION_COUNT} per participant (one per question)" if per_question else "one per participant"
        return f"{len(rows)} rows, {shape}, {len(columns)} columns"

    async def close(self) -> None:
        sockets = [socket for socket in [self.host, *(bot.socket for bot in self.bots)] if socket is not None]
        await asyncio.gather(*(socket.close() for socket in sockets))


async def run_smoke(options: Options, out: TextIO = sys.stdout) -> int:
    """Every step in order; 0 when all passed, 1 at the first failure (the rest are skipped)."""

    def say(line: str) -> None:
        print(line, file=out, flush=True)

    smoke = Smoke(options, out)
    say(f"smoke test of {options.base_url} as {options.user!r}")
    began = time.monotonic()
    failed: str | None = None
    passed = 0
    try:
        for name, step in smoke.steps():
            if failed is not None:
                say(f"SKIP {name}")
                continue
            started = time.monotonic()
            try:
                detail = await step()
            except StepFailed as error:
                failed = name
                say(f"FAIL {name}: {error}")
                continue
            except Exception as error:  # a bug or an unforeseen reply: still one FAIL line
                failed = name
                say(f"FAIL {name}: unexpected {type(error).__name__}: {error}")
                continue
            passed += 1
            say(f"PASS {name} ({round((time.monotonic() - started) * 1000)} ms)  {detail}")
    finally:
        await smoke.close()
    total = f"{time.monotonic() - began:.1f} s"
    if failed is not None:
        say(f"smoke: FAILED at {failed} ({passed} of {len(STEPS)} steps passed, {total})")
        return 1
    say(f"smoke: all {len(STEPS)} steps passed in {total}")
    return 0


def parse_args(argv: Sequence[str]) -> Options:
    parser = argparse.ArgumentParser(
        prog="python -m tests.e2e.smoke",
        description="Play one whole speed-run against a deployment and report each step.",
    )
    parser.add_argument("--base-url", required=True, help="the site's origin, e.g. https://d1234.cloudfront.net")
    parser.add_argument("--user", required=True, help="a host account of the deployment's user pool")
    parser.add_argument("--password", help=f"its password (default: the {PASSWORD_ENV} environment variable)")
    parser.add_argument("--http-timeout", type=float, default=30.0, help="seconds per HTTP request (30)")
    parser.add_argument("--ws-timeout", type=float, default=30.0, help="seconds per WebSocket handshake/reply (30)")
    parser.add_argument("--completion-timeout", type=float, default=60.0, help="seconds to wait for `completed` (60)")
    parser.add_argument("--results-timeout", type=float, default=60.0, help="seconds to wait for persisted results")
    args = parser.parse_args(list(argv))
    password = args.password if args.password is not None else os.environ.get(PASSWORD_ENV)
    if not password:
        parser.error(f"no password: pass --password or set {PASSWORD_ENV}")
    for name in ("http_timeout", "ws_timeout", "completion_timeout", "results_timeout"):
        if not 0 < getattr(args, name) <= 600:
            parser.error(f"--{name.replace('_', '-')} must be in (0, 600] seconds")
    return Options(
        base_url=args.base_url,
        user=args.user,
        password=password,
        http_timeout_s=args.http_timeout,
        ws_timeout_s=args.ws_timeout,
        completion_timeout_s=args.completion_timeout,
        results_timeout_s=args.results_timeout,
    )


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        return asyncio.run(run_smoke(options))
    except KeyboardInterrupt:
        print("smoke: interrupted", flush=True)
        return 130


if __name__ == "__main__":
    sys.exit(main())

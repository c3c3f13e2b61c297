"""One live connection per token, attacked on the local stack over real sockets (issue 17 item 3):
150 concurrent handshakes with one `participant_token`. Exactly one socket may act; every other one
is closed, or answers its frame with an `error` and is then closed; the host's `kick` closes the
participant's last socket and none of them can act again. Everything goes through the public
contracts (sign-in, upload, sign-on over HTTP, the WebSocket protocol)."""

from __future__ import annotations

import asyncio
import contextlib
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from local_stack import client
from local_stack.client import RunSocket
from local_stack.demo import demo_question_set
from local_stack.process import RunningStack

HANDSHAKES = 150
SETTLE_S = 3.0
"""Closes still on their way when the last handshake returned (each `$connect` closes the one it
replaced, trying again while that one's own `$connect` is still running)."""
REPLY_TIMEOUT_S = 20.0
CLOSE_TIMEOUT_S = 20.0
SCENARIO_TIMEOUT_S = 240


@dataclass
class Outcome:
    handshakes_refused: list[str] = field(default_factory=list)
    closed_before_any_frame: int = 0
    sync_replies: dict[int, str] = field(default_factory=dict)
    """socket index -> `state`, `error:<code>` or `closed` (no reply before the socket closed)."""
    open_after_syncs: list[int] = field(default_factory=list)
    kick_reply: dict[str, Any] = field(default_factory=dict)
    open_after_kick: list[int] = field(default_factory=list)
    after_kick: dict[int, str] = field(default_factory=dict)
    reconnect_after_kick: str = ""


def is_open(socket: Any) -> bool:
    return socket.state is websockets.protocol.State.OPEN


async def ask(socket: Any, frame: dict[str, Any]) -> str:
    """Send a frame and wait for its direct reply (pushes before it are skipped)."""
    try:
        await socket.send(json.dumps(frame))
        while True:
            message = json.loads(await asyncio.wait_for(socket.recv(), REPLY_TIMEOUT_S))
            if message.get("request_id") == frame["request_id"]:
                kind = str(message.get("type"))
                return f"error:{message.get('code')}" if kind == "error" else kind
    except ConnectionClosed:
        return "closed"


async def closed_within(sockets: list[Any], timeout_s: float) -> list[int]:
    """Waits (bounded) for the sockets to close; the indexes of those still open."""

    async def wait(socket: Any) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(socket.wait_closed(), timeout_s)

    await asyncio.gather(*(wait(socket) for socket in sockets))
    return [index for index, socket in enumerate(sockets) if is_open(socket)]


async def open_run(stack: RunningStack) -> tuple[dict[str, Any], dict[str, Any]]:
    config = (await asyncio.to_thread(client.http_request, "GET", f"{stack.base_url}/config.json")).json()
    id_token = await asyncio.to_thread(
        client.sign_in, stack.base_url, config["user_pool_client_id"], stack.host_username, stack.host_password
    )
    upload = await asyncio.to_thread(
        client.upload_question_set,
        stack.base_url,
        id_token,
        "one-socket.json",
        json.dumps(demo_question_set()).encode(),
    )
    assert upload.status == 201, upload.body[:300]
    opened = await asyncio.to_thread(
        client.http_request,
        "POST",
        f"{config['api_url']}/signon/speedruns",
        json_body={"question_set_id": upload.json()["id"], "name": "One socket per token"},
        headers=client.bearer(id_token),
    )
    assert opened.status == 201, opened.body[:300]
    run = opened.json()
    joined = await asyncio.to_thread(
        client.http_request,
        "POST",
        f"{config['api_url']}/signon/join",
        json_body={"join_code": run["join_code"], "name": "Many Sockets"},
    )
    assert joined.status == 201, joined.body[:300]
    return run, joined.json()


async def attack(stack: RunningStack) -> Outcome:
    outcome = Outcome()
    run, joined = await open_run(stack)
    host = await RunSocket.connect(run["ws_url"], run["host_token"], "host")
    assert (await host.request("sync"))["type"] == "state"
    url = f"{joined['ws_url']}?token={joined['participant_token']}"

    async def handshake() -> Any:
        return await websockets.connect(url, max_size=None, open_timeout=120, ping_interval=None)

    opened = await asyncio.gather(*(handshake() for _ in range(HANDSHAKES)), return_exceptions=True)
    sockets = [socket for socket in opened if not isinstance(socket, BaseException)]
    outcome.handshakes_refused = [repr(error) for error in opened if isinstance(error, BaseException)]
    try:
        await asyncio.sleep(SETTLE_S)
        outcome.closed_before_any_frame = sum(1 for socket in sockets if not is_open(socket))
        # every socket asks for the state at once: only the token's connection may have it
        replies = await asyncio.gather(
            *(ask(socket, {"action": "sync", "request_id": f"s{index}"}) for index, socket in enumerate(sockets))
        )
        outcome.sync_replies = dict(enumerate(replies))
        outcome.open_after_syncs = await closed_within(
            [socket for index, socket in enumerate(sockets) if replies[index] != "state"], CLOSE_TIMEOUT_S
        )

        outcome.kick_reply = await host.request("kick", participant_id=joined["participant_id"])
        outcome.open_after_kick = await closed_within(sockets, CLOSE_TIMEOUT_S)
        for index in outcome.open_after_kick:  # none, if all went well: then nothing may act either
            outcome.after_kick[index] = await ask(sockets[index], {"action": "sync", "request_id": f"k{index}"})
        try:
            late = await websockets.connect(url, open_timeout=30)
            outcome.reconnect_after_kick = "opened"
            await late.close()
        except InvalidStatus as refused:
            outcome.reconnect_after_kick = str(refused.response.status_code)
    finally:
        await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
        await host.close()
    return outcome


@pytest.fixture(scope="module")
def outcome(local_stack: RunningStack) -> Outcome:
    try:
        return asyncio.run(asyncio.wait_for(attack(local_stack), SCENARIO_TIMEOUT_S))
    except Exception as error:
        raise AssertionError(
            f"the attack did not play out: {error!r}\n--- local stack ---\n{local_stack.log()[-6000:]}"
        ) from error


@pytest.mark.e2e
def test_every_handshake_with_the_token_is_admitted(outcome: Outcome) -> None:
    assert outcome.handshakes_refused == []


@pytest.mark.e2e
def test_exactly_one_socket_of_the_token_can_sync_and_every_other_one_is_closed(outcome: Outcome) -> None:
    kinds = list(outcome.sync_replies.values())
    assert kinds.count("state") == 1, sorted(set(kinds))
    assert set(kinds) <= {"state", "closed", "error:unauthorized"}, sorted(set(kinds))
    assert outcome.open_after_syncs == []  # an error reply is followed by the close


@pytest.mark.e2e
def test_after_the_kick_no_socket_of_the_participant_is_open_or_can_act(outcome: Outcome) -> None:
    assert outcome.kick_reply["type"] == "participant_left"
    assert outcome.open_after_kick == []
    assert outcome.after_kick == {}
    assert outcome.reconnect_after_kick == "403"

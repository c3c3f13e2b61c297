"""Client of the public contracts (http-api.md, protocol.md: /api/openapi.json, docs/engine.md): Cognito sign-in
through the gateway's `/cognito/` proxy, JSON and multipart HTTP calls, and a WebSocket session
that pairs direct replies with requests by `request_id`. The start-up sample loader, `make demo`
and the end-to-end test all talk to the stack through these, as any third-party client would."""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import websockets

from speedrun.question_sets.models import XLSX_MEDIA_TYPE


@dataclass(frozen=True)
class HttpReply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http_request(
    method: str,
    url: str,
    *,
    json_body: Any = None,
    data: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    timeout_s: float = 30,
) -> HttpReply:
    all_headers = dict(headers or {})
    if json_body is not None:
        data = json.dumps(json_body).encode()
        all_headers.setdefault("content-type", "application/json")
    request = urllib.request.Request(url, data=data, headers=all_headers, method=method)  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as reply:  # noqa: S310 (the local stack)
            return HttpReply(reply.status, {k.lower(): v for k, v in reply.headers.items()}, reply.read())
    except urllib.error.HTTPError as error:
        return HttpReply(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def sign_in(base_url: str, client_id: str, username: str, password: str) -> str:
    """Cognito InitiateAuth (USER_PASSWORD_AUTH) through `<base>/cognito/`, as the browser does; the ID token."""
    reply = http_request(
        "POST",
        f"{base_url}/cognito/",
        data=json.dumps(
            {
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": client_id,
                "AuthParameters": {"USERNAME": username, "PASSWORD": password},
            }
        ).encode(),
        headers={
            "x-amz-target": "AWSCognitoIdentityProviderService.InitiateAuth",
            "content-type": "application/x-amz-json-1.1",
        },
    )
    if reply.status != 200:
        raise RuntimeError(f"sign-in failed ({reply.status}): {reply.body[:200]!r}")
    return str(reply.json()["AuthenticationResult"]["IdToken"])


def multipart_body(fields: Mapping[str, str], filename: str, content: bytes) -> tuple[bytes, str]:
    """A multipart/form-data body with the text `fields` and one `file` part."""
    boundary = f"----speedrun{secrets.token_hex(12)}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    # Informative only: the platform tells a question set's format by its content.
    content_type = {".csv": "text/csv", ".xlsx": XLSX_MEDIA_TYPE}.get(Path(filename).suffix, "application/json")
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: {content_type}\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def upload_question_set(base_url: str, id_token: str, filename: str, content: bytes) -> HttpReply:
    body, content_type = multipart_body({}, filename, content)
    return http_request(
        "POST",
        f"{base_url}/api/question-sets",
        data=body,
        headers={**bearer(id_token), "content-type": content_type},
    )


COALESCED_LISTS = {
    "participant_joined": "joined",
    "participant_answered": "answered",
    "participant_finished": "finished",
}
"""The host's notifications and the field that lists their items when several are coalesced."""


class RunSocket:
    """One WebSocket session of the speed-run protocol.

    `request()` sends an action with a fresh `request_id` and returns the direct reply carrying it;
    every other frame (pushes) is kept in `pushes`, and `wait_for(type)` waits for one.
    """

    _ids = itertools.count(1)

    def __init__(self, connection: Any, label: str) -> None:
        self._connection = connection
        self.label = label
        self.pushes: list[dict[str, Any]] = []
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._arrived = asyncio.Condition()
        self._reader = asyncio.create_task(self._read())

    @classmethod
    async def connect(cls, ws_url: str, token: str, label: str = "") -> RunSocket:
        connection = await websockets.connect(f"{ws_url}?token={token}", max_size=None)
        return cls(connection, label)

    async def _read(self) -> None:
        async for frame in self._connection:
            message = json.loads(frame)
            future = self._waiting.pop(str(message.get("request_id")), None) if isinstance(message, dict) else None
            if future is not None and not future.done():
                future.set_result(message)
                continue
            async with self._arrived:
                self.pushes.append(message)
                self._arrived.notify_all()

    async def request(self, action: str, timeout_s: float = 30, **fields: Any) -> dict[str, Any]:
        request_id = f"{self.label or 'r'}-{next(self._ids)}"
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = future
        await self._connection.send(json.dumps({"action": action, "request_id": request_id, **fields}))
        return await asyncio.wait_for(future, timeout_s)

    async def wait_for(self, message_type: str, timeout_s: float = 60) -> dict[str, Any]:
        async def arrived() -> dict[str, Any]:
            async with self._arrived:
                while True:
                    for message in self.pushes:
                        if message.get("type") == message_type:
                            return message
                    await self._arrived.wait()

        return await asyncio.wait_for(arrived(), timeout_s)

    def received(self, message_type: str) -> list[dict[str, Any]]:
        return [message for message in self.pushes if message.get("type") == message_type]

    def notifications(self, message_type: str) -> list[dict[str, Any]]:
        """Every item of the host's coalesced notifications of `message_type` (protocol revision 2:
        a message listing several items in its list field stands for all of them)."""
        list_field = COALESCED_LISTS[message_type]
        return [item for message in self.received(message_type) for item in message.get(list_field) or [message]]

    async def close(self) -> None:
        await self._connection.close()
        self._reader.cancel()

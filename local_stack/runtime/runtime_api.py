"""The Lambda Runtime API (2018-06-01) one execution environment's runtime client talks to.

Lambda serves each sandbox its own endpoint (`AWS_LAMBDA_RUNTIME_API`, a `host:port`); here each
environment gets its own loopback port, so a request's port says which environment sent it. HTTP/1.1
is parsed by h11 (the runtime client keeps its connection alive between `next` and `response`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass
from typing import Protocol

import h11

logger = logging.getLogger("local_stack.runtime")

API_PREFIX = "/2018-06-01/runtime"
ERROR_TYPE_HEADER = "lambda-runtime-function-error-type"
MAX_REQUEST_BYTES = 7 * 1024 * 1024
"""A response may be up to 6 MB; a larger body is refused before it is read whole."""
_INVOCATION_ROUTE = re.compile(rf"^{API_PREFIX}/invocation/(?P<request_id>[^/]+)/(?P<kind>response|error)$")


@dataclass(frozen=True)
class NextInvocation:
    request_id: str
    body: bytes
    headers: list[tuple[str, str]]


class RuntimeApiHandler(Protocol):
    """What one environment does with its runtime client's requests."""

    async def next_invocation(self) -> NextInvocation: ...

    def invocation_response(self, request_id: str, body: bytes) -> bool: ...

    def invocation_error(self, request_id: str, body: bytes, error_type: str | None) -> bool: ...

    def init_error(self, body: bytes, error_type: str | None) -> None: ...


class RuntimeApiServer:
    def __init__(self, handler: RuntimeApiHandler) -> None:
        self._handler = handler
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self.address = ""

    async def start(self) -> str:
        """Listen on a free loopback port; returns `host:port` for `AWS_LAMBDA_RUNTIME_API`."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        host, port = self._server.sockets[0].getsockname()[:2]
        self.address = f"{host}:{port}"
        return self.address

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            for task in list(self._connections):
                task.cancel()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()
            self._server = None

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._connections.add(task)
        connection = h11.Connection(h11.SERVER)
        try:
            while True:
                request = await self._read_request(connection, reader)
                if request is None:
                    return
                method, target, headers, body = request
                status, reply_headers, reply = await self._dispatch(method, target, headers, body)
                for event in (
                    h11.Response(
                        status_code=status,
                        headers=[("content-length", str(len(reply))), *reply_headers],
                    ),
                    h11.Data(data=reply),
                    h11.EndOfMessage(),
                ):
                    data = connection.send(event)
                    if data:
                        writer.write(data)
                await writer.drain()
                if connection.our_state is h11.MUST_CLOSE or connection.their_state is h11.MUST_CLOSE:
                    return
                connection.start_next_cycle()
        except (ConnectionError, h11.RemoteProtocolError, asyncio.IncompleteReadError, asyncio.CancelledError):
            # CancelledError: the environment is closing while its runtime client waits in `next`.
            return
        finally:
            if task is not None:
                self._connections.discard(task)
            writer.close()

    @staticmethod
    async def _read_request(
        connection: h11.Connection, reader: asyncio.StreamReader
    ) -> tuple[str, str, dict[str, str], bytes] | None:
        request: h11.Request | None = None
        body = bytearray()
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(65536)
                connection.receive_data(data)
                if not data and request is None:
                    return None
                continue
            if isinstance(event, h11.Request):
                request = event
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > MAX_REQUEST_BYTES:
                    raise h11.RemoteProtocolError("request body too large")
            elif isinstance(event, h11.EndOfMessage) and request is not None:
                headers = {name.decode().lower(): value.decode("latin-1") for name, value in request.headers}
                return request.method.decode(), request.target.decode(), headers, bytes(body)
            elif isinstance(event, h11.ConnectionClosed):
                return None

    async def _dispatch(
        self, method: str, target: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        accepted = (202, [("content-type", "application/json")], b'{"status":"OK"}')
        if method == "GET" and target == f"{API_PREFIX}/invocation/next":
            invocation = await self._handler.next_invocation()
            return 200, [("content-type", "application/json"), *invocation.headers], invocation.body
        if method == "POST" and target == f"{API_PREFIX}/init/error":
            self._handler.init_error(body, headers.get(ERROR_TYPE_HEADER))
            return accepted
        found = _INVOCATION_ROUTE.match(target)
        if method == "POST" and found is not None:
            request_id = found.group("request_id")
            if found.group("kind") == "response":
                known = self._handler.invocation_response(request_id, body)
            else:
                known = self._handler.invocation_error(request_id, body, headers.get(ERROR_TYPE_HEADER))
            if known:
                return accepted
            return 400, [("content-type", "application/json")], b'{"errorType":"InvalidRequestID"}'
        logger.warning("runtime API: unknown request %s %s", method, target)
        return 404, [("content-type", "application/json")], b'{"errorType":"NotFound"}'

"""The local API Gateway: one Starlette app serving the web client, the question images, the HTTP
API, the WebSocket API, its `@connections` management endpoint and a same-origin proxy for the
browser's Cognito calls.

Requests become the events API Gateway would build (local_stack.events) and invoke the manifest's
functions through the local Lambda service (local_stack.runtime), each in its own processes.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketState

from infra.security_headers import content_security_policy, response_headers
from local_stack import events
from local_stack.runtime.service import FunctionError, LambdaService
from speedrun.adapters.identity import CognitoVerifier
from speedrun.adapters.image_store import CACHE_CONTROL, FolderImageStore, media_type_of
from speedrun.clock import iso_from_ms
from speedrun.errors import NotFound
from speedrun.manifest import IMAGE_PATH_PREFIX, Auth, FunctionSpec, HttpRoute

logger = logging.getLogger("local_stack.gateway")

LAMBDA_PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024
WEBSOCKET_MESSAGE_LIMIT_BYTES = 128 * 1024
"""API Gateway's WebSocket message limit; a larger message closes the connection (1009)."""
COGNITO_BROWSER_TARGETS = frozenset(
    f"AWSCognitoIdentityProviderService.{operation}"
    for operation in (
        "InitiateAuth",
        "RespondToAuthChallenge",
        "GetUser",
        "GlobalSignOut",
        "RevokeToken",
        "ChangePassword",
        "ForgotPassword",
        "ConfirmForgotPassword",
    )
)
"""The Cognito calls a browser makes with its own tokens (the public API of a user pool client). The
admin API (`Admin*`, `ListUsers`, `DescribeUserPool`, ...) needs AWS credentials on AWS; moto checks
none, so the proxy must never forward it."""
IDLE_TIMEOUT_S = 600.0
MAX_CONNECTION_S = 7200.0
HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


async def _read_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it is known to exceed `limit` (by its Content-Length or
    while streaming), so an oversized body is never held in memory or turned into an event."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


def _api_error(status: int, message: str, error_type: str | None = None) -> JSONResponse:
    """API Gateway's own error bodies (`{"message": ...}`), as opposed to a function's replies."""
    headers = {"x-amzn-ErrorType": error_type} if error_type else None
    return JSONResponse({"message": message}, status_code=status, headers=headers)


class SecurityHeaders:
    """Adds the site's security headers (infra.security_headers, CloudFront's policy) to every HTTP
    response the gateway sends, as the response headers policy does with `override`."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = [(name.lower().encode(), value.encode()) for name, value in headers.items()]
        self.names = {name for name, _ in self.headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(name, value) for name, value in message.get("headers", []) if name.lower() not in self.names]
                message = {**message, "headers": [*kept, *self.headers]}
            await send(message)

        await self.app(scope, receive, with_headers)


@dataclass(frozen=True)
class CompiledRoute:
    route: HttpRoute
    function: FunctionSpec
    pattern: re.Pattern[str]


class AnyPathConvertor(Convertor[str]):
    """The rest of the path, line breaks included: Starlette's `path` stops at one (`.*`), while API
    Gateway routes `/api/x%0Ay` like any other path (and answers JSON, not Starlette's text 404)."""

    regex = r"[\s\S]*"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("anypath", AnyPathConvertor())


def compile_route(route: HttpRoute, function: FunctionSpec) -> CompiledRoute:
    """`/api/speedruns/{run_id}` -> a regex with one named group per path parameter (`{proxy+}` is greedy)."""
    regex = ""
    for literal, name in re.findall(r"([^{]*)(?:\{([^}]+)\})?", route.path):
        regex += re.escape(literal)
        if name.endswith("+"):
            regex += f"(?P<{name[:-1]}>.+)"
        elif name:
            regex += f"(?P<{name}>[^/]+)"
    return CompiledRoute(route, function, re.compile(f"^{regex}$"))


def lambda_http_response(result: Any) -> Response:
    """A payload format 2.0 function result as the HTTP response API Gateway would send."""
    if not isinstance(result, dict) or "statusCode" not in result:
        # Format 2.0 infers a 200 JSON response from any result without a statusCode.
        return Response(json.dumps(result), status_code=200, media_type="application/json")
    body = result.get("body") or ""
    content = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
    response = Response(content=content, status_code=int(result["statusCode"]))
    for name, value in (result.get("headers") or {}).items():
        response.headers.append(name, str(value))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        for value in values:
            response.headers.append(name, str(value))
    for cookie in result.get("cookies") or ():
        response.headers.append("set-cookie", cookie)
    return response


@dataclass
class Connection:
    client: events.WebSocketClient
    websocket: WebSocket
    opened_at: float = field(default_factory=time.monotonic)
    last_active_at: float = field(default_factory=time.monotonic)
    last_active_ms: int = field(default_factory=events.now_ms)
    closed_by_gateway: tuple[int, str] | None = None
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def touch(self) -> None:
        self.last_active_at = time.monotonic()
        self.last_active_ms = events.now_ms()

    async def send(self, text: str) -> bool:
        async with self.send_lock:
            if self.websocket.application_state is not WebSocketState.CONNECTED:
                return False
            try:
                await self.websocket.send_text(text)
            except (RuntimeError, OSError):
                return False
            return True

    async def close(self, code: int, reason: str) -> None:
        if self.closed_by_gateway is None:
            self.closed_by_gateway = (code, reason)
        async with self.send_lock:
            if self.websocket.application_state is WebSocketState.CONNECTED:
                try:
                    await self.websocket.close(code=code, reason=reason)
                except (RuntimeError, OSError):
                    logger.debug("connection %s was already gone", self.client.connection_id)


class Gateway:
    def __init__(
        self,
        specs: Sequence[FunctionSpec],
        lambdas: LambdaService,
        *,
        region: str,
        jwt_authorizer: CognitoVerifier | None,
        cognito_endpoint: str,
        client_config: Callable[[], dict[str, Any]],
        web_dir: Path | None,
        image_dir: Path | None = None,
        idle_timeout_s: float = IDLE_TIMEOUT_S,
        max_connection_s: float = MAX_CONNECTION_S,
    ) -> None:
        self.lambdas = lambdas
        self.region = region
        self.jwt_authorizer = jwt_authorizer
        self.cognito_endpoint = cognito_endpoint
        self.client_config = client_config
        self.idle_timeout_s = idle_timeout_s
        self.max_connection_s = max_connection_s
        self.connections: dict[str, Connection] = {}
        self.http_routes = [compile_route(route, spec) for spec in specs for route in spec.http_routes]
        self.ws_routes = {key: spec for spec in specs for key in spec.ws_route_keys}
        self.ws_authorizer = next((spec for spec in specs if spec.ws_authorizer), None)
        routes: list[Any] = [
            Route("/config.json", self._config, methods=["GET"]),
            Route("/api/{path:anypath}", self._api, methods=HTTP_METHODS),
            WebSocketRoute("/ws", self._websocket),
            Route("/@connections/{connection_id}", self._connections, methods=["GET", "POST", "DELETE"]),
            Route("/cognito/", self._cognito, methods=["POST"]),
            Route("/cognito", self._cognito, methods=["POST"]),
        ]
        self.images = FolderImageStore(image_dir) if image_dir is not None else None
        if self.images is not None:
            routes.append(Route(f"{IMAGE_PATH_PREFIX}{{key}}", self._image, methods=["GET", "HEAD"]))
        if web_dir is not None:
            routes.append(Mount("/", StaticFiles(directory=web_dir, html=True, check_dir=False)))
        # The local origin is plain HTTP with the sign-in on the same origin (/cognito/).
        self.security_headers = response_headers(content_security_policy("", websocket_scheme="ws:"))
        self.app = SecurityHeaders(Starlette(routes=routes), self.security_headers)

    async def _invoke(self, spec: FunctionSpec, event: dict[str, Any]) -> Any:
        """The function's result; FunctionError when it failed (as Lambda reports it to API Gateway)."""
        return await self.lambdas.invoke(spec.name, event)

    async def _config(self, _request: Request) -> JSONResponse:
        return JSONResponse(self.client_config())

    # --- question images (CloudFront's `/images/*` behaviour) ---

    async def _image(self, request: Request) -> Response:
        """A stored image with its type and the store's Cache-Control (the security headers, `nosniff`
        among them, come with every response). Only a content key names a file: anything else, and a
        key nothing is stored under, is a 404 (CloudFront answers S3's 403 for a missing object)."""
        assert self.images is not None
        key = request.path_params["key"]
        try:
            path = self.images.path_of(key)
        except NotFound:
            return Response("Not Found", status_code=404, media_type="text/plain")
        return FileResponse(path, media_type=media_type_of(key), headers={"Cache-Control": CACHE_CONTROL})

    # --- HTTP API ---

    def match(self, method: str, path: str) -> tuple[CompiledRoute, dict[str, str]] | None:
        for compiled in self.http_routes:
            if compiled.route.method != method:
                continue
            found = compiled.pattern.match(path)
            if found:
                return compiled, found.groupdict()
        return None

    async def _api(self, request: Request) -> Response:
        # The decoded path as the server read it: `request.url.path` is re-parsed by `urlsplit`, which
        # drops tabs and line breaks (`/api/players/a%0A` would be routed, or not, as `/api/players/a`).
        matched = self.match(request.method, request.scope["path"])
        if matched is None:
            return _api_error(404, "Not Found")
        compiled, path_parameters = matched
        route = compiled.route
        claims = None
        if route.auth is not Auth.PUBLIC and self.jwt_authorizer is not None:
            # Off the event loop: a JWKS cache miss is an HTTP call to moto.
            loop = asyncio.get_running_loop()
            authorization = request.headers.get("authorization")
            claims = await loop.run_in_executor(None, self.jwt_authorizer.claims, authorization)
        if route.auth is Auth.USER and claims is None:
            return _api_error(401, "Unauthorized")
        body = await _read_body(request, LAMBDA_PAYLOAD_LIMIT_BYTES)
        if body is None:
            return _api_error(413, "Request Entity Too Large")
        viewer_ip, viewer_port = (request.client.host, request.client.port) if request.client else ("127.0.0.1", 0)
        headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in request.scope["headers"]]
        event = events.http_api_event(
            route_key=route.route_key,
            method=request.method,
            raw_path=request.scope.get("raw_path", request.url.path.encode()).decode("latin-1"),
            raw_query_string=request.scope.get("query_string", b"").decode("latin-1"),
            headers=events.through_edge(headers, viewer_ip, viewer_port, viewer_address=True),
            query=parse_qsl(request.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True),
            path_parameters=path_parameters,
            body=body,
            source_ip=events.CLOUDFRONT_EDGE_IP,
            domain_name=request.headers.get("host", "localhost"),
            jwt_claims=claims,
        )
        try:
            result = await self._invoke(compiled.function, event)
        except FunctionError as exc:
            logger.warning("function %s failed: %s %s", compiled.function.name, exc.error_type, exc)
            return _api_error(500, "Internal Server Error")
        return lambda_http_response(result)

    # --- WebSocket API ---

    async def _websocket(self, websocket: WebSocket) -> None:
        viewer_ip, viewer_port = (
            (websocket.client.host, websocket.client.port) if websocket.client else ("127.0.0.1", 0)
        )
        handshake = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in websocket.scope["headers"]]
        # The /ws behaviour's origin request policy forwards no CloudFront-* header (infra/constructs/edge.py).
        headers = events.through_edge(handshake, viewer_ip, viewer_port, viewer_address=False)
        header_map = dict((name.lower(), value) for name, value in headers)
        client = events.WebSocketClient(
            connection_id=events.connection_id(),
            source_ip=events.CLOUDFRONT_EDGE_IP,
            user_agent=header_map.get("user-agent", ""),
            domain_name=header_map.get("host", "localhost"),
            headers=headers,
            query=parse_qsl(websocket.scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True),
        )
        refusal = await self._connect(client)
        if refusal is not None:
            await websocket.send_denial_response(refusal)
            return
        await websocket.accept()
        connection = Connection(client, websocket)
        self.connections[client.connection_id] = connection
        watchdog = asyncio.create_task(self._watch(connection))
        frames: set[asyncio.Task[None]] = set()
        status, reason = 1006, "Connection closed abnormally"
        try:
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    status = int(message.get("code") or 1005)
                    reason = (
                        f"Client-side close frame status code '{status}' - with reason '{message.get('reason') or ''}'"
                    )
                    break
                connection.touch()
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode("utf-8", errors="replace")
                task = asyncio.create_task(self._on_frame(connection, text))
                frames.add(task)
                task.add_done_callback(frames.discard)
        finally:
            watchdog.cancel()
            if connection.closed_by_gateway is not None:
                status, reason = connection.closed_by_gateway
            try:
                await self._disconnect(client, status, reason)
            finally:
                # Listed until its $disconnect ran (a push meanwhile still gets 410: the socket is
                # closed), so "no connections" means every $disconnect has been handled.
                self.connections.pop(client.connection_id, None)

    async def _connect(self, client: events.WebSocketClient) -> Response | None:
        """Authorizer, then the `$connect` route; a refusal is the HTTP response of the handshake."""
        refusal = await self._authorize(client)
        if refusal is not None:
            return refusal
        return await self._connect_route(client)

    async def _authorize(self, client: events.WebSocketClient) -> Response | None:
        """The REQUEST authorizer (when there is one): its refusal, or its context on the client."""
        if self.ws_authorizer is None:
            return None
        started = time.monotonic()
        try:
            decision = await self._invoke(self.ws_authorizer, events.websocket_authorizer_event(client, self.region))
        except FunctionError as exc:
            # API Gateway's contract for REQUEST authorizers: an error "Unauthorized" is a 401.
            if str(exc) == "Unauthorized":
                return _api_error(401, "Unauthorized")
            logger.warning("authorizer %s failed: %s %s", self.ws_authorizer.name, exc.error_type, exc)
            return _api_error(500, "Internal Server Error")
        if not _policy_allows(decision):
            return _api_error(403, "Forbidden")
        client.authorizer = {
            **(decision.get("context") or {}),
            "principalId": str(decision.get("principalId", "")),
            "integrationLatency": int((time.monotonic() - started) * 1000),
        }
        return None

    async def _connect_route(self, client: events.WebSocketClient) -> Response | None:
        """The `$connect` route (when there is one): a failure or a status of 300 and up refuses."""
        connect = self.ws_routes.get("$connect")
        if connect is None:
            return None
        try:
            result = await self._invoke(connect, events.websocket_connect_event(client))
        except FunctionError as exc:
            logger.warning("function %s failed on $connect: %s %s", connect.name, exc.error_type, exc)
            return _api_error(500, "Internal Server Error")
        status = int(result.get("statusCode", 200)) if isinstance(result, dict) else 200
        if status >= 300:
            return Response(content=str((result or {}).get("body") or ""), status_code=status)
        return None

    def select_route(self, frame: str) -> str:
        """Route selection `$request.body.action`: the action's route when there is one, else `$default`."""
        try:
            message = json.loads(frame)
        except ValueError:
            return "$default"
        action = message.get("action") if isinstance(message, dict) else None
        if isinstance(action, str) and not action.startswith("$") and action in self.ws_routes:
            return action
        return "$default"

    async def _on_frame(self, connection: Connection, frame: str) -> None:
        route_key = self.select_route(frame)
        spec = self.ws_routes.get(route_key)
        gateway_reply = {"connectionId": connection.client.connection_id, "requestId": events.request_id()}
        if spec is None:
            await connection.send(json.dumps({"message": "Forbidden", **gateway_reply}))
            return
        try:
            result = await self._invoke(spec, events.websocket_message_event(connection.client, route_key, frame))
        except FunctionError as exc:
            logger.warning("function %s failed on route %s: %s %s", spec.name, route_key, exc.error_type, exc)
            await connection.send(json.dumps({"message": "Internal server error", **gateway_reply}))
            return
        body = result.get("body") if isinstance(result, dict) else None
        if body is not None:
            await connection.send(body if isinstance(body, str) else json.dumps(body))

    async def _disconnect(self, client: events.WebSocketClient, status: int, reason: str) -> None:
        spec = self.ws_routes.get("$disconnect")
        if spec is None:
            return
        try:
            await self._invoke(spec, events.websocket_disconnect_event(client, status, reason))
        except FunctionError as exc:
            logger.warning("function %s failed on $disconnect: %s %s", spec.name, exc.error_type, exc)

    async def _watch(self, connection: Connection) -> None:
        """API Gateway closes a connection idle for 10 minutes, and any connection after 2 hours."""
        while True:
            now = time.monotonic()
            idle_deadline = connection.last_active_at + self.idle_timeout_s
            max_deadline = connection.opened_at + self.max_connection_s
            if now >= min(idle_deadline, max_deadline):
                await connection.close(1001, "Going away")
                return
            await asyncio.sleep(min(idle_deadline, max_deadline) - now)

    # --- @connections (the WebSocket API's management API) ---

    async def _connections(self, request: Request) -> Response:
        connection = self.connections.get(request.path_params["connection_id"])
        if connection is None:
            return _api_error(410, "Gone", "GoneException")
        if request.method == "GET":
            return JSONResponse(
                {
                    "connectedAt": iso_from_ms(connection.client.connected_at_ms),
                    "identity": {"sourceIp": connection.client.source_ip, "userAgent": connection.client.user_agent},
                    "lastActiveAt": iso_from_ms(connection.last_active_ms),
                }
            )
        if request.method == "DELETE":
            await connection.close(1000, "Connection closed by the backend")
            return Response(status_code=204)
        data = await request.body()
        if len(data) > WEBSOCKET_MESSAGE_LIMIT_BYTES:
            return _api_error(413, "Message too long", "PayloadTooLargeException")
        if not await connection.send(data.decode("utf-8", errors="replace")):
            return _api_error(410, "Gone", "GoneException")
        return Response(status_code=200)

    # --- Cognito, same origin for the browser ---

    async def _cognito(self, request: Request) -> Response:
        """Forward the browser's Cognito JSON calls (X-Amz-Target) to moto, so the page needs one origin.
        Only the calls a browser makes are forwarded; anything else is refused as AWS would refuse an
        unsigned request."""
        if request.headers.get("x-amz-target") not in COGNITO_BROWSER_TARGETS:
            return _api_error(403, "This operation is not available through the browser's Cognito endpoint.")
        body = await request.body()
        forwarded = {
            name: request.headers[name] for name in ("x-amz-target", "content-type") if name in request.headers
        }
        proxied = urllib.request.Request(f"{self.cognito_endpoint}/", data=body, headers=forwarded, method="POST")  # noqa: S310
        loop = asyncio.get_running_loop()
        status, content, content_type = await loop.run_in_executor(None, _forward, proxied)
        return Response(content=content, status_code=status, media_type=content_type)


def _forward(request: urllib.request.Request) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 (loopback moto server)
            return reply.status, reply.read(), reply.headers.get("content-type", "application/x-amz-json-1.1")
    except urllib.error.HTTPError as error:
        return error.code, error.read(), error.headers.get("content-type", "application/x-amz-json-1.1")


def _policy_allows(decision: Any) -> bool:
    """Allowed when some statement allows and none denies (IAM evaluation, resource checks aside)."""
    if not isinstance(decision, dict):
        return False
    statements = (decision.get("policyDocument") or {}).get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    effects = {str(statement.get("Effect", "")).lower() for statement in statements}
    return "allow" in effects and "deny" not in effects

"""A real HTTP endpoint shaped like API Gateway's `@connections` management API (moto never answers
410 Gone): POST and DELETE `/@connections/{id}`, each answered by the test's model of the API."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import unquote


class ConnectionsModel(Protocol):
    def answer(self, method: str, connection_id: str, body: bytes) -> tuple[int, str | None]:
        """(status, error type or None) for one call."""
        ...


@contextmanager
def connections_endpoint(model: ConnectionsModel, *, request_queue_size: int) -> Iterator[str]:
    """Serves `model` on a free loopback port; yields the endpoint URL (stage `test`).

    `request_queue_size`: the listen backlog, at least as many connections as the client opens at once."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as API Gateway: the client's pool is reused

        def _handle(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            connection_id = unquote(self.path.rsplit("/@connections/", 1)[1])
            status, error = model.answer(self.command, connection_id, body)
            payload = json.dumps({"message": error}).encode() if error else b""
            self.send_response(status)
            if error:
                self.send_header("x-amzn-ErrorType", error)
                self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_POST = _handle
        do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

    Server.request_queue_size = request_queue_size
    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/test"
    finally:
        server.shutdown()
        server.server_close()

"""The test fakes of what AWS hands a function: `@connections` (a pusher that records instead of
posting) and the Lambda context."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from speedrun.adapters.connections import Push, SendReport


class RecordingPusher:
    """`@connections`, recorded: every push in order, and per connection; the connections closed.
    Connections in `gone` answer 410 Gone (each attempt counted; a subclass decides otherwise in
    `_is_gone`). Thread-safe: the racing tests post from many threads at once."""

    def __init__(self) -> None:
        self.pushes: list[Push] = []
        """Every push delivered, in order (those to gone connections left out)."""
        self.inbox: dict[str, list[dict[str, Any]]] = {}
        """Connection id -> the frames delivered to it, in order (a harness adds the direct replies)."""
        self.gone: set[str] = set()
        """Connection ids that answer 410 Gone."""
        self.gone_attempts: Counter[str] = Counter()
        """Connection id -> the pushes tried on it while it was gone."""
        self.closed: list[str] = []
        self._lock = threading.Lock()

    def send(self, pushes: Sequence[Push]) -> SendReport:
        report = SendReport(sent=0, gone=[])
        with self._lock:
            for push in pushes:
                if self._is_gone(push.connection_id):
                    self.gone_attempts[push.connection_id] += 1
                    report.gone.append(push.connection_id)
                    continue
                # a JSON round trip, as on the wire: later changes to the sender's dict cannot leak in
                delivered = replace(push, message=json.loads(json.dumps(push.message)))
                self.pushes.append(delivered)
                self.inbox.setdefault(push.connection_id, []).append(delivered.message)
                report.sent += 1
        return report

    def _is_gone(self, connection_id: str) -> bool:
        """Whether a push to the connection answers 410 Gone (called holding the lock)."""
        return connection_id in self.gone

    def close(self, connection_id: str) -> bool | None:
        """Every close is recorded; None: this fake cannot tell whether the connection was open."""
        with self._lock:
            self.closed.append(connection_id)
        return None

    @property
    def push_count(self) -> int:
        """Pushes tried, those to gone connections included."""
        return len(self.pushes) + self.gone_attempts.total()

    def frames_to(self, connection_id: str, kind: str) -> list[dict[str, Any]]:
        """The frames of type `kind` in the connection's inbox, in order."""
        return [frame for frame in self.inbox.get(connection_id, []) if frame["type"] == kind]


class FakeLambdaContext:
    """The fields of Lambda's context object that Powertools reads (and the time left)."""

    function_name = "test"
    memory_limit_in_mb = 128
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    log_group_name = "/aws/lambda/test"
    log_stream_name = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000

"""A manifest-shaped spec for the local stack's own tests: test functions (modules in
tests/integration/local_stack_handlers) on HTTP routes, WebSocket routes and queues."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from local_stack.stack import LocalStack, StackOptions
from speedrun.manifest import Auth, FunctionSpec, HttpRoute, QueueSpec

HANDLER_PACKAGE = "tests.integration.local_stack_handlers"
JOBS_QUEUE = "jobs"
ORDERED_QUEUE = "ordered"
MAX_RECEIVE_COUNT = 2

FUNCTIONS = (
    FunctionSpec(
        name="http_echo",
        description="echo",
        http_routes=(
            HttpRoute("GET", "/api/items/{item_id}"),
            HttpRoute("POST", "/api/items"),
            HttpRoute("POST", "/api/question-sets"),
            HttpRoute("GET", "/api/public", auth=Auth.PUBLIC),
            HttpRoute("GET", "/api/either", auth=Auth.IN_FUNCTION),
            HttpRoute("GET", "/api/files/{path+}", auth=Auth.PUBLIC),
        ),
    ),
    FunctionSpec(
        name="not_written_yet",
        description="a function whose module does not exist",
        http_routes=(HttpRoute("GET", "/api/later", auth=Auth.PUBLIC),),
    ),
    FunctionSpec(name="ws_auth", description="authorizer", ws_authorizer=True),
    FunctionSpec(
        name="ws_echo",
        description="websocket routes",
        ws_route_keys=("$connect", "$disconnect", "$default", "echo", "push", "boom", "silent"),
    ),
    FunctionSpec(name="flaky_consumer", description="standard queue consumer", queue_trigger=JOBS_QUEUE, timeout_s=5),
    FunctionSpec(name="fifo_recorder", description="FIFO queue consumer", queue_trigger=ORDERED_QUEUE, timeout_s=5),
)
QUEUES = (
    QueueSpec(name=JOBS_QUEUE, fifo=False, max_receive_count=MAX_RECEIVE_COUNT, batch_size=5),
    QueueSpec(name=ORDERED_QUEUE, fifo=True, max_receive_count=MAX_RECEIVE_COUNT, batch_size=10),
)


@contextmanager
def spec_stack(redis_url: str, web_dir: Path) -> Iterator[LocalStack]:
    options = StackOptions(
        port=0,
        functions=FUNCTIONS,
        queues=QUEUES,
        handler_package=HANDLER_PACKAGE,
        redis_url=redis_url,
        web_dir=web_dir,
        examples_dir=None,
        queue_visibility_timeout_s=1,
    )
    with LocalStack(options) as stack:
        yield stack

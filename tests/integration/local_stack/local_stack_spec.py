"""A manifest-shaped spec for the local stack's own tests: test functions (modules in
tests/integration/local_stack/local_stack_handlers) on HTTP routes, WebSocket routes and queues.

They run like the real functions: each in its own execution environments, with the synthesized
template's layers; their task root is the handlers folder (handler `<name>.handler`)."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from local_stack.runtime.definitions import FunctionDefinition, TemplateValue
from local_stack.stack import LocalStack, LocalStackOptions
from speedrun import manifest
from speedrun.manifest import Auth, FunctionSpec, HttpRoute, QueueSpec
from tests.integration.local_stack.local_stack_handlers.recorder import RECORDER_FILE_ENV

HANDLERS_DIR = Path(__file__).resolve().parent / "local_stack_handlers"
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
        name="imports_missing",
        description="a function whose module imports a package its layers do not provide",
        http_routes=(HttpRoute("GET", "/api/import-fails", auth=Auth.PUBLIC),),
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


def spec_definitions(
    template: Mapping[str, FunctionDefinition], recorder_file: Path, specs: tuple[FunctionSpec, ...] = FUNCTIONS
) -> dict[str, FunctionDefinition]:
    """Each test function on the layers of a real function; its variables include a deployed
    reference (the `@connections` URL), resolved by the local stack like the real ones'."""
    layers = template["api_docs"].layer_dirs
    environment: dict[str, TemplateValue] = {
        RECORDER_FILE_ENV: str(recorder_file),
        manifest.CONNECTIONS_URL_ENV: {"Fn::Join": ["", ["https://", {"Ref": "WebSocketApi"}, "/local"]]},
    }
    return {
        spec.name: FunctionDefinition(
            name=spec.name,
            handler=f"{spec.name}.handler",
            code_dir=HANDLERS_DIR,
            layer_dirs=layers,
            environment=environment,
            memory_mb=spec.memory_mb,
            timeout_s=spec.timeout_s,
        )
        for spec in specs
    }


@contextmanager
def recorder_file() -> Iterator[Path]:
    """The file the test functions record their events in (the test process reads it too)."""
    with tempfile.TemporaryDirectory(prefix="speedrun-recorder-") as scratch:
        path = Path(scratch) / "received.jsonl"
        path.touch()
        previous = os.environ.get(RECORDER_FILE_ENV)
        os.environ[RECORDER_FILE_ENV] = str(path)
        try:
            yield path
        finally:
            if previous is None:
                os.environ.pop(RECORDER_FILE_ENV, None)
            else:
                os.environ[RECORDER_FILE_ENV] = previous


@contextmanager
def spec_stack(redis_url: str, web_dir: Path) -> Iterator[LocalStack]:
    with recorder_file() as path, LocalStack(spec_options(redis_url, web_dir, path)) as stack:
        yield stack


def spec_options(redis_url: str, web_dir: Path | None, path: Path) -> LocalStackOptions:
    return LocalStackOptions(
        port=0,
        functions=FUNCTIONS,
        queues=QUEUES,
        definitions=lambda template: spec_definitions(template, path),
        redis_url=redis_url,
        web_dir=web_dir,
        examples_dir=None,
        queue_visibility_timeout_s=1,
    )

"""The one declaration of every function, route, queue and table grant of the system, and of the
deployment rules both places apply (queue timeouts and retention, the user pool's password policy).

Both the CDK app (`infra/`) and the local stack read this module; nothing else
lists functions, routes, triggers or those rules. A test proves the CDK template and the
local stack both match it, so cloud and laptop cannot drift apart silently.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

HANDLERS_DIR = "lambdas"
HANDLER_MODULE = "handler"
OPENAPI_FILE = "openapi.json"
"""The OpenAPI document's file name in the asset of the function that serves it."""


class Auth(StrEnum):
    """Who may call an HTTP route, and where that is checked."""

    PUBLIC = "public"
    """No credentials (join, the OpenAPI document)."""
    USER = "user"
    """A Cognito ID token, verified by the API Gateway JWT authorizer (deployed) or the local gateway."""
    IN_FUNCTION = "in_function"
    """A Cognito ID token *or* a run-scoped token; API Gateway lets it through and the function verifies it."""


class Access(StrEnum):
    READ = "read"
    WRITE = "write"
    """Write implies read."""


@dataclass(frozen=True)
class HttpRoute:
    method: str
    path: str
    auth: Auth = Auth.USER

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class QueueSpec:
    """An SQS queue with its dead-letter queue.

    `fifo` queues deduplicate by the producer's MessageDeduplicationId (completion jobs by run id,
    player commands by request id) and keep per-group order (per run, per player handle).
    The visibility timeout is derived from the consuming function's timeout (`visibility_timeout_s`).
    """

    name: str
    fifo: bool
    max_receive_count: int = 5
    batch_size: int = 10
    max_batching_window_s: int = 0
    max_concurrency: int | None = None
    """At most this many invocations of the consumer at once (the event source's maximum concurrency,
    2..1000; locally as many pollers); None: Lambda scales the consumer as it sees fit."""


@dataclass(frozen=True)
class Needs:
    """What a function touches; the CDK grants and the environment are derived from this alone."""

    redis: bool = False
    question_store: Access | None = None
    images: Access | None = None
    """The image store (`speedrun.adapters.image_store`): its bucket's `images/*` objects, read (GetObject)
    or written too (PutObject); locally a folder the gateway serves."""
    tables: dict[str, Access] = field(default_factory=dict)
    send_to_queues: tuple[str, ...] = ()
    token_secret: bool = False
    """Read the run-token signing keys from Secrets Manager."""
    push_to_connections: bool = False
    """Call the WebSocket API's @connections endpoint (POST, DELETE)."""
    ws_url: bool = False
    """Tell clients the WebSocket API's URL (sign-on's replies)."""
    cognito_tokens: bool = False
    """Verify Cognito ID tokens in the function (speedrun.adapters.identity), on routes API Gateway lets through
    unverified: the function gets the pool's issuer and client id."""


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    """Logical name: also the folder of the function's code, `lambdas/<name>/`, which is its whole code asset
    (Lambda's task root). It holds the handler module `handler.py` (entry point `handler`): a name no layer
    uses, so the task root, first on Lambda's `sys.path`, can never shadow a layer package."""
    description: str
    http_routes: tuple[HttpRoute, ...] = ()
    ws_route_keys: tuple[str, ...] = ()
    ws_authorizer: bool = False
    """This function is the WebSocket API's REQUEST authorizer on `$connect`."""
    queue_trigger: str | None = None
    needs: Needs = field(default_factory=Needs)
    memory_mb: int = 256
    timeout_s: int = 10
    openapi_document: bool = False
    """The function's asset also carries `openapi.json`, the document of every HTTP route, built at synth
    from the HTTP handlers' resolvers (`infra.openapi`): the other handlers are not in this function's asset."""

    @property
    def code_dir(self) -> str:
        """The function's code folder, relative to the project root."""
        return f"{HANDLERS_DIR}/{self.name}"

    @property
    def module(self) -> str:
        """The handler module's importable name from the project root (tests, the OpenAPI build)."""
        return f"{HANDLERS_DIR}.{self.name}.{HANDLER_MODULE}"

    @property
    def handler(self) -> str:
        """Lambda's handler string: the module at the task root, then the function."""
        return f"{HANDLER_MODULE}.handler"

    @property
    def in_vpc(self) -> bool:
        return self.needs.redis or self.needs.question_store is not None


# --- tables (logical names; the key schemas live on the pynamodb models in speedrun.adapters.tables) ---
QUESTION_SETS = "question_sets"
EVENTS = "events"
RUNS = "runs"
RESULTS = "results"
PLAYER_GAMES = "player_games"
PLAYERS = "players"
PLAYER_PROGRESS = "player_progress"
IDEMPOTENCY = "idempotency"

# --- queues ---
COMPLETION_QUEUE = "completion"
PLAYERS_QUEUE = "players"
DEADLINES_QUEUE = "deadlines"
PUSHES_QUEUE = "pushes"

QUEUES: tuple[QueueSpec, ...] = (
    # One job per completed run, deduplicated by run id.
    QueueSpec(name=COMPLETION_QUEUE, fifo=True, max_receive_count=5, batch_size=1),
    # Player commands, ordered per handle, deduplicated by request id.
    QueueSpec(name=PLAYERS_QUEUE, fifo=True, max_receive_count=5, batch_size=10),
    # Run deadlines: a delayed message per run (second precision; re-delayed in <= 15 min hops),
    # so an idle run still completes. Standard queue: FIFO queues have no per-message delay.
    QueueSpec(name=DEADLINES_QUEUE, fifo=False, max_receive_count=5, batch_size=10),
    # Broadcasts and flushes for the fan-out function (architecture rule 9). Standard queue: deliveries
    # of one broadcast go out in parallel, and flushes are delayed messages. Two deliveries of at most
    # 500 recipients an invocation, at most 4 invocations at once: the fan-out's pace is capped at
    # 4 x speedrun.fanout.service.PUSHES_PER_SECOND, 40 % of API Gateway's account throttle.
    QueueSpec(name=PUSHES_QUEUE, fifo=False, max_receive_count=3, batch_size=2, max_concurrency=4),
)

VISIBILITY_TIMEOUT_FACTOR = 6
"""AWS's advice for a queue that triggers a Lambda function: a visibility timeout of at least six times
the function's timeout, so a message is not handed out again while an invocation may still be working on it."""
DLQ_RETENTION_S = 14 * 24 * 60 * 60
"""Dead letters are kept 14 days (SQS's longest retention): time to inspect them and redrive."""


class WsAction(StrEnum):
    """The actions a client may send over the WebSocket (a frame's `action`): each is a route key of the
    WebSocket API and a handler of `speedrun.engine.service.SpeedRunService`."""

    SYNC = "sync"
    PING = "ping"
    START = "start"
    END = "end"
    KICK = "kick"
    EXTRA_TIME = "extra_time"
    QUESTION = "question"
    ANSWER = "answer"
    TIMEOUT = "timeout"
    RESULTS = "results"
    MESSAGE = "message"


WS_ROUTE_KEYS: tuple[str, ...] = ("$connect", "$disconnect", "$default", *(action.value for action in WsAction))

QUESTION_SET_UPLOAD = HttpRoute("POST", "/api/question-sets")
"""Refused on its envelope before the resolver parses a body (`speedrun.question_sets.upload_guard`)."""
QUESTION_SET_REPLACE = HttpRoute("PUT", "/api/question-sets/{set_id}")
"""An upload of a set's next version: refused on its envelope as the upload is."""
IMAGE_UPLOAD = HttpRoute("POST", "/api/images")
"""One image: refused on its envelope (`speedrun.question_sets.upload_guard.image_upload_refusal`)."""

FUNCTIONS: tuple[FunctionSpec, ...] = (
    FunctionSpec(
        name="question_sets",
        description=(
            "Upload, list, read, replace (versioned), copy and delete question sets (validates, stores on EFS, "
            "metadata in DynamoDB); checks and stores their images (S3)."
        ),
        http_routes=(
            QUESTION_SET_UPLOAD,
            HttpRoute("GET", "/api/question-sets"),
            HttpRoute("GET", "/api/question-sets/{set_id}"),
            HttpRoute("GET", "/api/question-sets/{set_id}/content"),
            QUESTION_SET_REPLACE,
            HttpRoute("DELETE", "/api/question-sets/{set_id}"),
            HttpRoute("POST", "/api/question-sets/{set_id}/copy"),
            IMAGE_UPLOAD,
        ),
        needs=Needs(question_store=Access.WRITE, images=Access.WRITE, tables={QUESTION_SETS: Access.WRITE}),
        memory_mb=512,
        timeout_s=15,
    ),
    FunctionSpec(
        name="api_docs",
        description="Serves the OpenAPI document generated from every HTTP function's resolver.",
        http_routes=(HttpRoute("GET", "/api/openapi.json", auth=Auth.PUBLIC),),
        openapi_document=True,
        memory_mb=256,
        timeout_s=10,
    ),
    FunctionSpec(
        name="signon",
        description="Opens speed-runs (freezes the chosen questions into Redis) and joins participants.",
        http_routes=(
            HttpRoute("POST", "/api/signon/speedruns"),
            HttpRoute("POST", "/api/signon/join", auth=Auth.PUBLIC),
        ),
        needs=Needs(
            redis=True,
            question_store=Access.READ,
            # Players: a join naming a claimed player handle must come from the handle's account.
            tables={QUESTION_SETS: Access.READ, PLAYERS: Access.READ},
            token_secret=True,
            # A join's pushes (the host's notification, the lobby update) are coalesced and sent by the fan-out.
            send_to_queues=(PUSHES_QUEUE,),
            ws_url=True,
            cognito_tokens=True,
        ),
        memory_mb=1024,  # docs/performance.md, Memory sizing
        timeout_s=10,
    ),
    FunctionSpec(
        name="ws_authorizer",
        description="WebSocket $connect REQUEST authorizer: verifies the run-scoped token.",
        ws_authorizer=True,
        needs=Needs(redis=True, token_secret=True),
        memory_mb=1024,  # docs/performance.md, Memory sizing
        timeout_s=5,
    ),
    FunctionSpec(
        name="speedrun",
        description=(
            "Every WebSocket route of a speed-run: one atomic Redis script per action; broadcasts go to the fan-out."
        ),
        ws_route_keys=WS_ROUTE_KEYS,
        needs=Needs(
            redis=True,
            tables={RUNS: Access.READ, RESULTS: Access.READ},
            send_to_queues=(COMPLETION_QUEUE, DEADLINES_QUEUE, PUSHES_QUEUE),
            # Closing a token's replaced connections, and telling a refused one why: no broadcasts.
            push_to_connections=True,
        ),
        memory_mb=1536,  # docs/performance.md, Memory sizing
        timeout_s=10,
    ),
    FunctionSpec(
        name="finalizer",
        description="Fires at a run's deadline: completes an idle run and enqueues its completion job.",
        queue_trigger=DEADLINES_QUEUE,
        needs=Needs(
            redis=True,
            send_to_queues=(COMPLETION_QUEUE, DEADLINES_QUEUE, PUSHES_QUEUE),
        ),
        memory_mb=256,
        timeout_s=30,
    ),
    FunctionSpec(
        name="fanout",
        description="Posts queued broadcasts to @connections in paced parallel batches; sends runs' coalesced pushes.",
        queue_trigger=PUSHES_QUEUE,
        needs=Needs(
            redis=True,  # flushes read what a run coalesced; 410 Gone connections are forgotten
            send_to_queues=(PUSHES_QUEUE,),  # the next flush, and pushes tried again after throttling
            push_to_connections=True,
        ),
        memory_mb=1536,  # docs/performance.md, Memory sizing
        timeout_s=30,
    ),
    FunctionSpec(
        name="reporter",
        description="Makes a completed run durable (event store, summary, results, games), then drops live state.",
        queue_trigger=COMPLETION_QUEUE,
        needs=Needs(
            redis=True,
            tables={
                EVENTS: Access.WRITE,
                RUNS: Access.WRITE,
                RESULTS: Access.WRITE,
                PLAYER_GAMES: Access.WRITE,
            },
        ),
        memory_mb=1024,
        timeout_s=120,
    ),
    FunctionSpec(
        name="results",
        description="A host's runs (live and persisted), results (JSON and CSV), player game history and profiles.",
        http_routes=(
            HttpRoute("GET", "/api/speedruns"),
            HttpRoute("GET", "/api/speedruns/{run_id}"),
            HttpRoute("GET", "/api/speedruns/{run_id}/results", auth=Auth.IN_FUNCTION),
            HttpRoute("GET", "/api/players/{handle}/games"),
            HttpRoute("GET", "/api/players/{handle}"),
        ),
        needs=Needs(
            # Redis (read-only but for pruning the per-host index): runs in the lobby or running are
            # served from the live state until the reporter has made them durable.
            redis=True,
            tables={
                RUNS: Access.READ,
                RESULTS: Access.READ,
                PLAYER_GAMES: Access.READ,
                PLAYERS: Access.READ,
            },
            token_secret=True,
            cognito_tokens=True,
        ),
        memory_mb=512,
        timeout_s=15,
    ),
    FunctionSpec(
        name="players_command",
        description="Validates player commands (profile upsert, progress record) and queues them.",
        http_routes=(
            HttpRoute("PUT", "/api/players/{handle}"),
            HttpRoute("POST", "/api/players/{handle}/progress"),
        ),
        needs=Needs(tables={PLAYERS: Access.READ}, send_to_queues=(PLAYERS_QUEUE,)),
        memory_mb=256,
        timeout_s=10,
    ),
    FunctionSpec(
        name="players_worker",
        description="Applies queued player commands once each (idempotent by request id) and records them as events.",
        queue_trigger=PLAYERS_QUEUE,
        needs=Needs(
            tables={
                PLAYERS: Access.WRITE,
                PLAYER_PROGRESS: Access.WRITE,
                EVENTS: Access.WRITE,
                IDEMPOTENCY: Access.WRITE,
            },
        ),
        memory_mb=256,
        timeout_s=30,
    ),
)


def function(name: str) -> FunctionSpec:
    for spec in FUNCTIONS:
        if spec.name == name:
            return spec
    raise KeyError(name)


def queue(name: str) -> QueueSpec:
    for spec in QUEUES:
        if spec.name == name:
            return spec
    raise KeyError(name)


def queue_consumers(
    queues: Sequence[QueueSpec] = QUEUES, functions: Sequence[FunctionSpec] = FUNCTIONS
) -> dict[str, FunctionSpec]:
    """Queue name -> the function its event source mapping invokes (queues nobody consumes are left out).
    The local stack passes its own specs: its tests declare their own queues and functions."""
    consumers: dict[str, FunctionSpec] = {}
    for spec in functions:
        if spec.queue_trigger is not None:
            consumers.setdefault(spec.queue_trigger, spec)
    return {queue_spec.name: consumers[queue_spec.name] for queue_spec in queues if queue_spec.name in consumers}


def queue_consumer(queue_name: str) -> FunctionSpec:
    return queue_consumers()[queue_name]


def visibility_timeout_s(consumer: FunctionSpec) -> int:
    """The visibility timeout of the queue that triggers `consumer`."""
    return VISIBILITY_TIMEOUT_FACTOR * consumer.timeout_s


def http_routes() -> list[tuple[HttpRoute, FunctionSpec]]:
    return [(route, spec) for spec in FUNCTIONS for route in spec.http_routes]


def ws_routes() -> list[tuple[str, FunctionSpec]]:
    return [(key, spec) for spec in FUNCTIONS for key in spec.ws_route_keys]


def ws_authorizer() -> FunctionSpec:
    return next(spec for spec in FUNCTIONS if spec.ws_authorizer)


# --- the user pool ---
@dataclass(frozen=True)
class PasswordPolicy:
    """The user pool's password rules (deployed and local)."""

    min_length: int
    require_lowercase: bool
    require_uppercase: bool
    require_digits: bool
    require_symbols: bool
    temporary_password_validity_days: int
    """How long an administrator-set temporary password may be used for the first sign-in."""

    def as_cognito(self) -> dict[str, int | bool]:
        """The policy as Cognito's API and CloudFormation spell it (`Policies.PasswordPolicy`)."""
        return {
            "MinimumLength": self.min_length,
            "RequireLowercase": self.require_lowercase,
            "RequireUppercase": self.require_uppercase,
            "RequireNumbers": self.require_digits,
            "RequireSymbols": self.require_symbols,
            "TemporaryPasswordValidityDays": self.temporary_password_validity_days,
        }


PASSWORD_POLICY = PasswordPolicy(
    min_length=12,
    require_lowercase=True,
    require_uppercase=True,
    require_digits=True,
    require_symbols=True,
    temporary_password_validity_days=3,
)


# --- environment variable names: the CDK app sets them, the local stack sets them, settings read them ---
def table_env(table: str) -> str:
    return f"TABLE_{table.upper()}"


def queue_env(queue_name: str) -> str:
    return f"QUEUE_URL_{queue_name.upper()}"


QUESTION_STORE_ENV = "QUESTION_STORE_PATH"
QUESTION_STORE_MOUNT = "/mnt/question-sets"
IMAGE_PATH_PREFIX = "/images/"
"""Where the web origin serves question images (CloudFront's behaviour, the local gateway's route); an
image's URL is this prefix and its content-hash key, the same locally and deployed."""


def image_url(key: str) -> str:
    return IMAGE_PATH_PREFIX + key


IMAGE_STORE_ENV = "IMAGE_STORE_URL"
"""`s3://<bucket>` (deployed: the image bucket) or `file://<folder>` (the local stack's image folder)."""

REDIS_URL_ENV = "REDIS_URL"
"""redis:// (local, plain) or rediss:// (deployed, TLS); REDIS_CLUSTER=1 makes the client cluster-aware."""
REDIS_CLUSTER_ENV = "REDIS_CLUSTER"
REDIS_AUTH_SECRET_ENV = "REDIS_AUTH_SECRET_ID"  # noqa: S105 - the name of an environment variable
"""Deployed only: the Secrets Manager secret `{"username", "password"}` of the cache's RBAC user (AUTH)."""
TOKEN_SECRET_ENV = "TOKEN_SECRET_ID"  # noqa: S105 - the name of an environment variable, not a secret
CONNECTIONS_URL_ENV = "CONNECTIONS_URL"
"""https://{api-id}.execute-api.{region}.amazonaws.com/{stage} (deployed) or the local gateway's URL."""
WS_URL_ENV = "WS_URL"
"""The URL clients connect to (returned by sign-on)."""
USER_POOL_CLIENT_ID_ENV = "USER_POOL_CLIENT_ID"
"""The web client's app client id: the `aud` of the ID tokens functions verify themselves."""
COGNITO_ISSUER_ENV = "COGNITO_ISSUER"
"""https://cognito-idp.{region}.amazonaws.com/{user pool id}: the `iss` of those ID tokens."""
COGNITO_JWKS_URL_ENV = "COGNITO_JWKS_URL"
"""Only where the pool's keys are not at `{issuer}/.well-known/jwks.json` (the local stack's moto)."""
JOIN_UNKNOWN_CODES_PER_VIEWER_ENV = "JOIN_UNKNOWN_CODES_PER_VIEWER_PER_MINUTE"
"""Sign-on's join-flood limit on code guessing: unknown join codes one viewer address may try a minute
before every join from it is refused until the minute ends; unset: the default in speedrun.settings
(the other join limits follow each run's `max_participants`, speedrun.signon.join_limit)."""

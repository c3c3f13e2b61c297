"""Starts and stops the whole local platform: Redis, moto (AWS), the functions from their synthesized
assets (the local Lambda service), the gateway on one port, queue pollers."""

from __future__ import annotations

import json
import logging
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import uvicorn

from local_stack import aws, client, events
from local_stack.gateway import IDLE_TIMEOUT_S, MAX_CONNECTION_S, WEBSOCKET_MESSAGE_LIMIT_BYTES, Gateway
from local_stack.persistence import DataDir, restore_user_sub, user_sub
from local_stack.queues import DEFAULT_WAIT_S, QueuePoller
from local_stack.redis_backend import LocalRedis, free_port, spawn_redis_cluster_tls, start_redis
from local_stack.runtime import artifacts
from local_stack.runtime.definitions import FunctionDefinition, read_functions, resolve_environment
from local_stack.runtime.environment import Launch
from local_stack.runtime.service import DEFAULT_MAX_ENVIRONMENTS, LambdaService
from speedrun import manifest
from speedrun.adapters.identity import cognito_verifier_from_settings
from speedrun.adapters.tables import MODELS, create_all
from speedrun.adapters.tokens import ensure_token_secret
from speedrun.manifest import FunctionSpec, QueueSpec
from speedrun.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]
logger = logging.getLogger("local_stack")


PROCESS_CACHE_PACKAGES = ("speedrun.",)
Definitions = Callable[[Mapping[str, FunctionDefinition]], Mapping[str, FunctionDefinition]]


@dataclass
class LocalStackOptions:
    host: str = "127.0.0.1"
    port: int = 8000
    """0 picks a free port."""
    data_dir: Path | None = None
    """Keep the question store, the images (and Redis's append-only file) here; None keeps everything in
    memory/temp."""
    web_dir: Path | None = ROOT / "web"
    examples_dir: Path | None = ROOT / "examples"
    functions: Sequence[FunctionSpec] = manifest.FUNCTIONS
    """Routes and triggers (the manifest); what runs is each function's synthesized definition."""
    queues: Sequence[QueueSpec] = manifest.QUEUES
    definitions: Definitions | None = None
    """None: the functions of the synthesized template. The local stack's own tests derive test
    functions from the template's (its layers, so they run the way the real ones do)."""
    max_environments: int = DEFAULT_MAX_ENVIRONMENTS
    """Execution environments (processes) per function at most, where the template reserves none."""
    redis_url: str | None = None
    """None: `REDIS_URL` from the environment, else a private redis-server, else embedded fakeredis."""
    redis_cluster_tls: bool = False
    """Run the cache as deployed: a three-node Redis Cluster, TLS only, one ACL user (needs redis-server)."""
    region: str = "us-east-1"
    idle_timeout_s: float = IDLE_TIMEOUT_S
    max_connection_s: float = MAX_CONNECTION_S
    queue_visibility_timeout_s: int | None = None
    """None: derived from the consumer's timeout (`manifest.visibility_timeout_s`), as deployed. Tests
    shorten it to see redeliveries quickly."""
    poll_wait_s: int = DEFAULT_WAIT_S
    log_level: str = "warning"


@dataclass
class LocalStack:
    options: LocalStackOptions = field(default_factory=LocalStackOptions)
    base_url: str = ""
    ws_url: str = ""
    user_pool: aws.LocalUserPool | None = None
    redis: LocalRedis | None = None
    gateway: Gateway | None = None
    queues: dict[str, aws.LocalQueue] = field(default_factory=dict)
    pollers: dict[str, QueuePoller] = field(default_factory=dict)
    environment: dict[str, str] = field(default_factory=dict)
    question_store: Path | None = None
    image_store: Path | None = None
    """The image folder: the question-set function writes it, the gateway serves it at `/images/`."""
    lambdas: LambdaService | None = None
    init_durations: dict[str, float | Exception] = field(default_factory=dict)
    """Each function's first cold start at start-up: init duration (ms), or why its init failed."""
    sample_sets: list[str] = field(default_factory=list)
    """What happened to each sample question set at start (loaded, or the HTTP status it was refused with)."""
    restored_items: int = 0
    """DynamoDB items written back from the data folder at start."""
    _data: DataDir | None = None
    _moto: aws.MotoServer | None = None
    _server: uvicorn.Server | None = None
    _server_thread: threading.Thread | None = None
    _saved_environment: dict[str, str] = field(default_factory=dict)
    _scratch: tempfile.TemporaryDirectory[str] | None = None

    @property
    def host_username(self) -> str:
        return self._user_pool().host_username

    @property
    def host_password(self) -> str:
        return self._user_pool().host_password

    def _user_pool(self) -> aws.LocalUserPool:
        if self.user_pool is None:
            raise RuntimeError("the local stack is not started")
        return self.user_pool

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def start(self) -> LocalStack:
        options = self.options
        try:
            self._start(options)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, options: LocalStackOptions) -> None:
        port = options.port or free_port(options.host)
        public_host = "127.0.0.1" if options.host in ("0.0.0.0", "::", "127.0.0.1") else options.host  # noqa: S104
        self.base_url = f"http://{public_host}:{port}"
        self.ws_url = f"ws://{public_host}:{port}/ws"
        self._saved_environment = dict(os.environ)

        question_store, image_store, redis_dir = self._prepare_storage(options)
        redis = self.redis = (
            spawn_redis_cluster_tls(data_dir=redis_dir)
            if options.redis_cluster_tls
            else start_redis(options.redis_url or os.environ.get(manifest.REDIS_URL_ENV), redis_dir)
        )
        endpoint = self._start_moto(options)
        values, extras = self._enter_local_environment(options, endpoint, question_store, image_store, redis)
        self._prepare_tables_and_token_secret(options, endpoint)
        lambdas = self._start_functions(options, values, extras)
        self._start_gateway(options, lambdas, endpoint, port, image_store)
        self._start_pollers(options, lambdas, endpoint)
        if options.examples_dir is not None:
            self.sample_sets = self.load_samples(options.examples_dir)

    def _prepare_storage(self, options: LocalStackOptions) -> tuple[Path, Path, Path | None]:
        """The question store's folder, the image folder and Redis's (None: Redis keeps nothing on
        disk): in the data folder if there is one, else the first two go in a scratch folder removed
        at stop."""
        if options.data_dir is not None:
            options.data_dir.mkdir(parents=True, exist_ok=True)
            storage = options.data_dir
            redis_dir: Path | None = options.data_dir / "redis"
            (options.data_dir / "redis").mkdir(exist_ok=True)
        else:
            self._scratch = tempfile.TemporaryDirectory(prefix="speedrun-local-")
            storage = Path(self._scratch.name)
            redis_dir = None
        question_store, image_store = storage / "question-sets", storage / "images"
        question_store.mkdir(parents=True, exist_ok=True)
        image_store.mkdir(parents=True, exist_ok=True)
        self.question_store, self.image_store = question_store, image_store
        return question_store, image_store, redis_dir

    def _start_moto(self, options: LocalStackOptions) -> str:
        """Starts moto with the queues and the host account; returns its endpoint."""
        self._moto = aws.MotoServer()
        endpoint = self._moto.start()
        sqs = aws.client("sqs", endpoint, options.region)
        self.queues = aws.create_queues(
            sqs, options.queues, options.functions, visibility_override_s=options.queue_visibility_timeout_s
        )
        self._data = DataDir(options.data_dir) if options.data_dir is not None else None
        self.user_pool = self._create_host_account(aws.client("cognito-idp", endpoint, options.region), self._data)
        return endpoint

    def _enter_local_environment(
        self, options: LocalStackOptions, endpoint: str, question_store: Path, image_store: Path, redis: LocalRedis
    ) -> tuple[dict[str, str], dict[str, str]]:
        """Sets this process's environment to the local values of the deployed resources and the
        extras (see `aws.local_values`, `aws.local_extras`); returns both, which the functions'
        environments are resolved from."""
        user_pool = self._user_pool()
        redis_secret = self._redis_secret(aws.client("secretsmanager", endpoint, options.region))
        values = aws.local_values(
            queues=self.queues,
            question_store=str(question_store),
            image_store=str(image_store),
            redis_url=redis.url,
            redis_cluster=redis.cluster,
            redis_auth_secret_id=redis_secret,
            connections_url=self.base_url,
            ws_url=self.ws_url,
            user_pool=user_pool,
            region=options.region,
        )
        ca_file = str(redis.ca_file) if redis.ca_file else None
        extras = aws.local_extras(endpoint_url=endpoint, user_pool=user_pool, ssl_cert_file=ca_file)
        # The stack's own emulation (the JWT authorizer, table creation) reads the same settings.
        self.environment = {**values, **extras, "AWS_REGION": options.region, "AWS_DEFAULT_REGION": options.region}
        os.environ.update(self.environment)
        _forget_process_caches()
        return values, extras

    def _prepare_tables_and_token_secret(self, options: LocalStackOptions, endpoint: str) -> None:
        """Creates the tables and the token secret, both restored from the data folder if there is one."""
        create_all()
        self._ensure_token_secret(aws.client("secretsmanager", endpoint, options.region), self._data)
        if self._data is not None:
            dynamodb = aws.client("dynamodb", endpoint, options.region)
            self.restored_items = self._data.load_tables(dynamodb, _table_names())

    def _start_functions(
        self, options: LocalStackOptions, values: dict[str, str], extras: dict[str, str]
    ) -> LambdaService:
        """Starts the local Lambda service with the synthesized definitions of the routed functions,
        and cold-starts each once."""
        template = read_functions(artifacts.synthesize(), artifacts.host_dependencies_layer())
        definitions = dict(options.definitions(template) if options.definitions else template)
        routed = {spec.name for spec in options.functions}
        if routed - set(definitions):
            raise RuntimeError(f"no synthesized definition for {', '.join(sorted(routed - set(definitions)))}")
        definitions = {name: definitions[name] for name in sorted(routed)}
        lambdas = self.lambdas = LambdaService(
            definitions,
            {name: resolve_environment(definition, values, extras) for name, definition in definitions.items()},
            launch=Launch(
                runtime_dir=artifacts.runtime_dir(),
                region=options.region,
                function_name_prefix=aws.NAME_PREFIX,
                account_id=events.ACCOUNT_ID,
            ),
            max_environments=options.max_environments,
        )
        lambdas.start()
        self.init_durations = lambdas.warm_all()
        return lambdas

    def _start_gateway(
        self, options: LocalStackOptions, lambdas: LambdaService, endpoint: str, port: int, image_store: Path
    ) -> None:
        """Serves the gateway on `port` from a thread; returns once it listens."""
        self.gateway = Gateway(
            options.functions,
            lambdas,
            region=options.region,
            jwt_authorizer=cognito_verifier_from_settings(),
            cognito_endpoint=endpoint,
            client_config=self.client_config,
            web_dir=options.web_dir,
            image_dir=image_store,
            idle_timeout_s=options.idle_timeout_s,
            max_connection_s=options.max_connection_s,
        )
        config = uvicorn.Config(
            self.gateway.app,
            host=options.host,
            port=port,
            log_level=options.log_level,
            lifespan="off",
            ws_max_size=WEBSOCKET_MESSAGE_LIMIT_BYTES,
            ws_ping_interval=None,  # API Gateway sends no pings: clients keep connections alive themselves
        )
        self._server = uvicorn.Server(config)
        self._server_thread = threading.Thread(target=self._server.run, name="gateway", daemon=True)
        self._server_thread.start()
        while not self._server.started:
            if not self._server_thread.is_alive():
                raise RuntimeError(f"the gateway could not listen on {options.host}:{port}")
            time.sleep(0.02)

    def _start_pollers(self, options: LocalStackOptions, lambdas: LambdaService, endpoint: str) -> None:
        """One poller per consumed queue, delivering its messages to the consumer function."""
        for queue_name, consumer in manifest.queue_consumers(options.queues, options.functions).items():
            poller = QueuePoller(
                self.queues[queue_name],
                consumer,
                lambdas,
                aws.client("sqs", endpoint, options.region),
                region=options.region,
                wait_s=options.poll_wait_s,
            )
            poller.start()
            self.pollers[queue_name] = poller

    def _create_host_account(self, cognito: Any, data: DataDir | None) -> aws.LocalUserPool:
        saved = data.host_account() if data is not None else None
        user_pool = aws.create_local_user_pool(cognito, password=saved[0] if saved else None)
        if data is not None and saved is not None:
            restore_user_sub(self.options.region, user_pool.user_pool_id, user_pool.host_username, saved[1])
        elif data is not None:
            sub = user_sub(cognito, user_pool.user_pool_id, user_pool.host_username)
            data.save_host_account(user_pool.host_password, sub)
        return user_pool

    def _redis_secret(self, secrets_manager: Any) -> str:
        """The cache user's secret, as deployed (`{"username", "password"}`); empty where the local
        Redis has no user of its own (an embedded or external one), so the functions send no AUTH."""
        if self.redis is None or self.redis.username is None:
            return ""
        secret = {"username": self.redis.username, "password": self.redis.password or ""}
        secrets_manager.create_secret(Name=aws.REDIS_AUTH_SECRET_ID, SecretString=json.dumps(secret))
        return aws.REDIS_AUTH_SECRET_ID

    @staticmethod
    def _ensure_token_secret(secrets_manager: Any, data: DataDir | None) -> None:
        saved = data.token_secret() if data is not None else None
        if saved is not None:
            secrets_manager.create_secret(Name=aws.TOKEN_SECRET_ID, SecretString=saved)
        ensure_token_secret(aws.TOKEN_SECRET_ID)
        if data is not None and saved is None:
            data.save_token_secret(secrets_manager.get_secret_value(SecretId=aws.TOKEN_SECRET_ID)["SecretString"])

    def client_config(self) -> dict[str, Any]:
        user_pool = self._user_pool()
        return {
            "api_url": f"{self.base_url}/api",
            "ws_url": self.ws_url,
            "region": self.options.region,
            "user_pool_id": user_pool.user_pool_id,
            "user_pool_client_id": user_pool.client_id,
            "cognito_endpoint": f"{self.base_url}/cognito/",
        }

    def sign_in_host(self) -> str:
        user_pool = self._user_pool()
        return client.sign_in(self.base_url, user_pool.client_id, user_pool.host_username, user_pool.host_password)

    def load_samples(self, examples_dir: Path) -> list[str]:
        """Upload every sample set through the real upload route, as the host."""
        files = sorted(path for path in examples_dir.glob("*") if path.suffix in (".json", ".csv", ".xlsx"))
        if not files:
            return []
        token = self.sign_in_host()
        outcomes = []
        for path in files:
            upload = client.upload_question_set(self.base_url, token, path.name, path.read_bytes())
            if upload.status == 201:
                outcomes.append(f"{path.name}: loaded as {upload.json().get('id')}")
            else:
                outcomes.append(f"{path.name}: HTTP {upload.status} {upload.body[:120].decode(errors='replace')}")
        return outcomes

    def banner(self) -> str:
        user_pool = self._user_pool()
        lines = [
            "speed-run local stack",
            f"  web client   {self.base_url}/",
            f"  HTTP API     {self.base_url}/api",
            f"  WebSocket    {self.ws_url}",
            f"  host login   user {user_pool.host_username!r}  password {user_pool.host_password!r}",
            f"  Redis        {self.redis.description if self.redis else '-'}",
            f"  AWS (moto)   {self.environment.get('AWS_ENDPOINT_URL')}  (DynamoDB, SQS, Secrets Manager, Cognito)",
            f"  questions    {self.question_store}",
            f"  images       {self.image_store} (served at {self.base_url}{manifest.IMAGE_PATH_PREFIX})",
            f"  kept data    {self._data.root} ({self.restored_items} DynamoDB items restored)"
            if self._data
            else "  kept data    none: everything lives in memory until Ctrl-C (use --data DIR to keep it)",
        ]
        for name, init in self.init_durations.items():
            shown = f"init {init:.0f} ms" if isinstance(init, float) else f"INIT FAILED: {init}"
            lines.append(f"  function     {name:<16} {shown}")
        lines += [f"  sample set   {outcome}" for outcome in self.sample_sets]
        lines.append("  Ctrl-C stops everything")
        return "\n".join(lines)

    def stop(self) -> None:
        for poller in self.pollers.values():
            poller.stop()
        self.pollers.clear()
        if self._server is not None:
            self._server.should_exit = True
            if self._server_thread is not None:
                self._server_thread.join(timeout=15)
            self._server = None
        self.gateway = None
        if self.lambdas is not None:
            self.lambdas.stop()
            self.lambdas = None
        if self._moto is not None:
            if self._data is not None and self.user_pool is not None:
                dynamodb = aws.client("dynamodb", self._moto.endpoint_url, self.options.region)
                saved = self._data.save_tables(dynamodb, _table_names())
                logger.warning("kept %d DynamoDB items in %s", saved, self._data.tables_dir)
            self._moto.stop()
            self._moto = None
        if self.redis is not None:
            self.redis.stop()
            self.redis = None
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None
        if self._saved_environment:
            os.environ.clear()
            os.environ.update(self._saved_environment)
            self._saved_environment = {}
            _forget_process_caches()


def _table_names() -> list[str]:
    return [model.Meta.table_name for model in MODELS.values()]


def _forget_process_caches() -> None:
    """Settings are read once per process, handler modules and the shared package keep what they
    built from them in `functools.cache`s (clients, services, verifiers), and pynamodb keeps one
    connection per model (with the endpoint of its first use); the stack changes the environment
    all of them come from, and a second stack in the same process must not inherit the first's."""
    get_settings.cache_clear()
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(PROCESS_CACHE_PACKAGES):
            continue
        for value in list(vars(module).values()):
            if callable(getattr(value, "cache_clear", None)) and getattr(value, "__module__", None) == name:
                value.cache_clear()
    for model in MODELS.values():
        model._connection = None

"""The one way every function reaches Redis (live run state).

`REDIS_URL` is `redis://` (plain, local stack and tests) or `rediss://` (TLS, ElastiCache when
deployed); `REDIS_CLUSTER=1` makes the client cluster-aware, which ElastiCache Serverless requires.
Every key of one run shares the hash tag `{<run id>}`, so a run's scripts stay on one slot either way.

Deployed, the cache only accepts its RBAC user: `REDIS_AUTH_SECRET_ID` names the Secrets Manager
secret `{"username": ..., "password": ...}`, read once per process and sent as AUTH on every new
connection. Locally the variable is unset and no AUTH is sent.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING

import boto3
import redis
from botocore.exceptions import BotoCoreError, ClientError
from redis.backoff import ExponentialWithJitterBackoff
from redis.cluster import RedisCluster
from redis.credentials import CredentialProvider
from redis.retry import Retry

from speedrun.settings import Settings, get_settings

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

RedisClient = redis.Redis | RedisCluster

_clients: dict[tuple[str, bool, str | None], RedisClient] = {}
_lock = threading.Lock()

# Short timeouts: a Lambda answering a WebSocket frame must report `unavailable` quickly, not hang.
_CONNECT_TIMEOUT_S = 2.0
_SOCKET_TIMEOUT_S = 5.0
_POOL_CONNECTIONS = 64
"""Each script call holds a connection for well under a millisecond, so 64 serve thousands of calls a second."""


def _retry() -> Retry:
    """Two quick retries: redis-py's default backoff (up to 10 s) outlasts a 10 s Lambda."""
    return Retry(ExponentialWithJitterBackoff(cap=0.5, base=0.05), retries=2)


def redis_from_settings(settings: Settings | None = None) -> RedisClient:
    """The process-wide client for the configured Redis (created on first use, then reused)."""
    settings = settings or get_settings()
    url = settings.require("redis_url")
    secret_id = settings.redis_auth_secret_id or None
    key = (url, settings.redis_cluster, secret_id)
    with _lock:
        client = _clients.get(key)
        if client is None:
            credentials = SecretCredentialProvider(secret_id) if secret_id else None
            client = _connect(url, cluster=settings.redis_cluster, credentials=credentials)
            _clients[key] = client
        return client


class SecretCredentialProvider(CredentialProvider):
    """The cache user's name and password from a Secrets Manager secret, read on the first connection
    and then kept: every later connection (cluster nodes, reconnects) reuses them without a call."""

    def __init__(self, secret_id: str, *, client: SecretsManagerClient | None = None) -> None:
        self._secret_id = secret_id
        self._client = client
        self._credentials: tuple[str, str] | None = None
        self._lock = threading.Lock()
        self.fetches = 0
        """How many times the secret was read (tests count it to prove the cache)."""

    def get_credentials(self) -> tuple[str, str]:
        with self._lock:
            if self._credentials is None:
                client = self._client or boto3.client("secretsmanager")
                self.fetches += 1
                try:
                    secret = json.loads(client.get_secret_value(SecretId=self._secret_id)["SecretString"])
                except (BotoCoreError, ClientError) as exc:
                    # A connection error, so callers answer `unavailable` as for an unreachable cache.
                    raise redis.ConnectionError(f"cache credentials unreadable from {self._secret_id}") from exc
                self._credentials = (str(secret["username"]), str(secret["password"]))
            return self._credentials


def _connect(url: str, *, cluster: bool, credentials: CredentialProvider | None = None) -> RedisClient:
    if cluster:
        return RedisCluster.from_url(
            url,
            decode_responses=True,
            socket_connect_timeout=_CONNECT_TIMEOUT_S,
            socket_timeout=_SOCKET_TIMEOUT_S,
            retry=_retry(),
            credential_provider=credentials,
        )
    # A Lambda container serves one event at a time, but the local stack runs every handler in one
    # process on many threads: callers beyond the pool's size wait for a free connection (bounded by
    # the socket timeout) instead of failing with MaxConnectionsError, as redis-py's default pool does.
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=_POOL_CONNECTIONS,
        timeout=_SOCKET_TIMEOUT_S,
        decode_responses=True,
        socket_connect_timeout=_CONNECT_TIMEOUT_S,
        socket_timeout=_SOCKET_TIMEOUT_S,
        retry=_retry(),
        health_check_interval=30,
        credential_provider=credentials,
    )
    return redis.Redis(connection_pool=pool)

"""A private Redis shaped like the deployed cache, for tests: a three-node Redis Cluster, TLS only,
one ACL user (see `local_stack.redis_backend.spawn_redis_cluster_tls`), and what a function is given
to reach it: the variables the CDK app sets, the user's secret in Secrets Manager, and the CA's trust."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import redis

from local_stack.redis_backend import LocalRedis, node_client, spawn_redis_cluster_tls
from speedrun import manifest

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

__all__ = ["deployed_environment", "primaries", "redis_cluster_tls", "store_cache_secret"]


@contextmanager
def redis_cluster_tls(*, data_dir: Path | None = None) -> Iterator[LocalRedis]:
    """The cluster for as long as the context (a module fixture: it takes about two seconds to start)."""
    server = spawn_redis_cluster_tls(data_dir=data_dir)
    try:
        yield server
    finally:
        server.stop()


def store_cache_secret(secrets: SecretsManagerClient, server: LocalRedis, name: str) -> str:
    """The cache user's secret as the CDK app generates it (`{"username", "password"}`); its ARN."""
    secret = json.dumps({"username": server.username, "password": server.password})
    return secrets.create_secret(Name=name, SecretString=secret)["ARN"]


def deployed_environment(server: LocalRedis, secret_id: str) -> dict[str, str]:
    """What infra/constructs/functions.py gives a function that uses Redis, plus `SSL_CERT_FILE`: the
    standard variable that makes Python's default TLS context trust the cluster's throwaway CA."""
    return {
        manifest.REDIS_URL_ENV: server.url,
        manifest.REDIS_CLUSTER_ENV: "1",
        manifest.REDIS_AUTH_SECRET_ENV: secret_id,
        "SSL_CERT_FILE": str(server.ca_file),
    }


def primaries(server: LocalRedis) -> dict[tuple[int, int], redis.Redis]:
    """Each primary on its own (not cluster-aware, as the cache user), by the slot range it serves, as
    the cluster itself reports them (CLUSTER SLOTS): for looking at where keys really live."""

    with node_client(server, int(server.url.rsplit(":", 1)[1])) as entry:
        slots = entry.cluster("SLOTS")
    return {(int(first), int(last)): node_client(server, int(primary[1])) for first, last, primary, *_replicas in slots}

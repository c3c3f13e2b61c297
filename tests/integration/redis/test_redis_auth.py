"""Redis AUTH as deployed: the client reads the cache user's credentials from Secrets Manager (moto)
and authenticates against a private redis-server whose only enabled user is that RBAC user."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
import redis
from moto import mock_aws

from speedrun import manifest
from speedrun.adapters.redis_client import SecretCredentialProvider, redis_from_settings
from speedrun.settings import Settings
from tests.support.redis_server import private_redis

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

CACHE_USER = "speedrun-app"
CACHE_PASSWORD = "correct-horse-battery-staple-42"


@pytest.fixture(scope="module")
def auth_redis_url() -> Iterator[str]:
    """A private Redis like the deployed cache: the default user off, one user with a password."""
    with private_redis() as url:
        admin = redis.Redis.from_url(url)
        admin.acl_setuser(CACHE_USER, enabled=True, passwords=[f"+{CACHE_PASSWORD}"], keys=["~*"], commands=["+@all"])
        admin.acl_setuser("default", enabled=False)
        admin.close()
        yield url


@pytest.fixture
def secrets() -> Iterator[SecretsManagerClient]:
    with mock_aws():
        yield boto3.client("secretsmanager")


def cache_secret(secrets: SecretsManagerClient, name: str, password: str = CACHE_PASSWORD) -> str:
    return secrets.create_secret(Name=name, SecretString=json.dumps({"username": CACHE_USER, "password": password}))[
        "ARN"
    ]


def settings_for(url: str, secret_id: str | None, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv(manifest.REDIS_URL_ENV, url)
    if secret_id is None:
        monkeypatch.delenv(manifest.REDIS_AUTH_SECRET_ENV, raising=False)
    else:
        monkeypatch.setenv(manifest.REDIS_AUTH_SECRET_ENV, secret_id)
    return Settings()


def test_the_server_refuses_a_client_without_auth(auth_redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    client = redis_from_settings(settings_for(auth_redis_url, None, monkeypatch))
    with pytest.raises(redis.AuthenticationError):
        client.set("k", "v")


def test_the_client_authenticates_as_the_user_of_the_secret(
    auth_redis_url: str, secrets: SecretsManagerClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_arn = cache_secret(secrets, "cache-user-ok")
    client = redis_from_settings(settings_for(auth_redis_url, secret_arn, monkeypatch))
    assert isinstance(client, redis.Redis)
    client.set("run:{r1}:state", "open")
    assert client.acl_whoami() == CACHE_USER
    assert client.get("run:{r1}:state") == "open"


def test_the_secret_is_read_once_for_every_later_connection(
    auth_redis_url: str, secrets: SecretsManagerClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_arn = cache_secret(secrets, "cache-user-cached")
    client = redis_from_settings(settings_for(auth_redis_url, secret_arn, monkeypatch))
    assert isinstance(client, redis.Redis)
    provider = client.get_connection_kwargs()["credential_provider"]
    assert isinstance(provider, SecretCredentialProvider)
    client.ping()
    for _ in range(3):
        client.connection_pool.disconnect()  # the next command opens (and authenticates) a new connection
        assert client.acl_whoami() == CACHE_USER
    assert provider.fetches == 1


def test_a_wrong_password_in_the_secret_is_refused(
    auth_redis_url: str, secrets: SecretsManagerClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_arn = cache_secret(secrets, "cache-user-wrong", password="not-the-password-at-all")
    client = redis_from_settings(settings_for(auth_redis_url, secret_arn, monkeypatch))
    with pytest.raises(redis.AuthenticationError):
        client.ping()


def test_an_unreadable_secret_is_a_connection_error(auth_redis_url: str, secrets: SecretsManagerClient) -> None:
    """Handlers map connection errors to `unavailable`, as for an unreachable cache."""
    provider = SecretCredentialProvider("no-such-secret", client=secrets)
    client = redis.Redis.from_url(auth_redis_url, credential_provider=provider)
    with pytest.raises(redis.ConnectionError, match="cache credentials unreadable"):
        client.ping()
    assert provider.fetches == 1


def test_without_the_secret_variable_no_auth_is_sent(redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Locally (and in every other test) the cache has no users: the client connects as before."""
    client = redis_from_settings(settings_for(redis_url, None, monkeypatch))
    assert isinstance(client, redis.Redis)
    assert client.get_connection_kwargs().get("credential_provider") is None
    assert client.ping() is True

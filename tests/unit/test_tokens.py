"""Run-scoped tokens: issue, verify, rotation, and every way a token is refused."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import boto3
import jwt
import pytest
from moto import mock_aws

from speedrun.adapters.tokens import (
    AUDIENCE,
    ISSUER,
    Keyring,
    RunTokens,
    SecretsManagerKeys,
    TokenKeyError,
    decode_key,
    ensure_token_secret,
    new_key_value,
)
from speedrun.clock import now_ms
from speedrun.errors import Forbidden, Unauthorized, Unavailable

SECRET_ID = "speedrun/test/token-keys"
DAY_MS = 24 * 3600 * 1000
IN_AN_HOUR = now_ms() + 3600 * 1000


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def put_secret(client: Any, document: dict[str, Any]) -> None:
    client.put_secret_value(SecretId=SECRET_ID, SecretString=json.dumps(document))


@pytest.fixture(scope="module")
def boto_secrets_client() -> Any:
    # One client for the module: creating one costs ~1 s, and moto intercepts it in every test's mock.
    return boto3.client("secretsmanager", region_name="us-east-1")


@pytest.fixture
def secrets_client(boto_secrets_client: Any) -> Iterator[Any]:
    with mock_aws():
        ensure_token_secret(SECRET_ID, client=boto_secrets_client)
        yield boto_secrets_client


@pytest.fixture
def tokens(secrets_client: Any) -> RunTokens:
    return RunTokens(SecretsManagerKeys(SECRET_ID, client=secrets_client))


def current_key(client: Any) -> tuple[str, bytes]:
    keyring = Keyring.from_secret(client.get_secret_value(SecretId=SECRET_ID)["SecretString"])
    return keyring.current_kid, keyring.keys[keyring.current_kid]


def test_participant_token_round_trip(tokens: RunTokens) -> None:
    issued = tokens.issue("RUNABC234567", "participant", "p1", expires_at_ms=IN_AN_HOUR)
    claims = tokens.verify(issued.token)
    assert claims.run_id == "RUNABC234567"
    assert claims.role == "participant"
    assert claims.participant_id == "p1"
    assert claims.token_id == issued.token_id
    assert claims.subject == "RUNABC234567:p1"
    assert claims.expires_at_ms == issued.expires_at_ms


def test_host_token_claims_follow_the_contract(tokens: RunTokens, secrets_client: Any) -> None:
    issued = tokens.issue("RUNABC234567", "host", None, expires_at_ms=now_ms() + DAY_MS)
    kid, key = current_key(secrets_client)
    assert jwt.get_unverified_header(issued.token)["kid"] == kid
    raw = jwt.decode(issued.token, key, algorithms=["HS256"], audience=AUDIENCE)
    assert raw["iss"] == ISSUER
    assert raw["sub"] == "RUNABC234567:host"
    assert raw["role"] == "host"
    assert raw["run"] == "RUNABC234567"
    assert "pid" not in raw
    assert raw["exp"] * 1000 == issued.expires_at_ms
    claims = tokens.verify(issued.token)
    assert claims.role == "host"
    assert claims.participant_id is None


def test_expired_token_is_forbidden(secrets_client: Any) -> None:
    keys = SecretsManagerKeys(SECRET_ID, client=secrets_client)
    two_days_ago = now_ms() - 2 * DAY_MS
    issued = RunTokens(keys, clock=lambda: two_days_ago).issue(
        "RUNABC234567", "participant", "p1", expires_at_ms=two_days_ago + DAY_MS
    )
    with pytest.raises(Forbidden, match="expired"):
        RunTokens(keys).verify(issued.token)


def test_wrong_signature_is_forbidden(tokens: RunTokens, secrets_client: Any) -> None:
    kid, _ = current_key(secrets_client)
    forged = jwt.encode(
        {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": "R:host",
            "role": "host",
            "run": "R",
            "jti": "j",
            "iat": now_ms() // 1000,
            "exp": now_ms() // 1000 + 60,
        },
        b"x" * 32,
        algorithm="HS256",
        headers={"kid": kid},
    )
    with pytest.raises(Forbidden):
        tokens.verify(forged)


def test_tampered_payload_is_forbidden(tokens: RunTokens) -> None:
    header, _payload, signature = tokens.issue(
        "RUNABC234567", "participant", "p1", expires_at_ms=IN_AN_HOUR
    ).token.split(".")
    other = tokens.issue("RUNOTHER2345", "host", None, expires_at_ms=IN_AN_HOUR).token.split(".")[1]
    with pytest.raises(Forbidden):
        tokens.verify(f"{header}.{other}.{signature}")


def test_unknown_kid_is_forbidden(tokens: RunTokens, secrets_client: Any) -> None:
    _, key = current_key(secrets_client)
    token = jwt.encode(
        {"iss": ISSUER, "aud": AUDIENCE, "sub": "R:host", "role": "host", "run": "R", "jti": "j", "iat": 1},
        key,
        algorithm="HS256",
        headers={"kid": "no-such-kid"},
    )
    with pytest.raises(Forbidden, match="unknown key"):
        tokens.verify(token)


def test_token_of_old_kid_verifies_after_rotation_and_new_tokens_use_new_kid(secrets_client: Any) -> None:
    clock = FakeClock()
    keys = SecretsManagerKeys(SECRET_ID, client=secrets_client, monotonic=clock)
    tokens = RunTokens(keys)
    old_kid, old_key = current_key(secrets_client)
    old_token = tokens.issue("RUNABC234567", "participant", "p1", expires_at_ms=IN_AN_HOUR).token

    put_secret(
        secrets_client,
        {"current": "k-new", "keys": {old_kid: old_key.hex(), "k-new": new_key_value()}},
    )
    clock.now += 301  # past the cache age: the container re-reads the secret

    assert tokens.verify(old_token).participant_id == "p1"
    new_token = tokens.issue("RUNABC234567", "participant", "p2", expires_at_ms=IN_AN_HOUR).token
    assert jwt.get_unverified_header(new_token)["kid"] == "k-new"
    assert tokens.verify(new_token).participant_id == "p2"


def test_token_of_a_kid_added_elsewhere_verifies_before_the_cache_expires(secrets_client: Any) -> None:
    clock = FakeClock()
    old_kid, old_key = current_key(secrets_client)
    verifier_keys = SecretsManagerKeys(SECRET_ID, client=secrets_client, monotonic=clock)
    verifier = RunTokens(verifier_keys)
    verifier.verify(verifier.issue("R2345", "host", None, expires_at_ms=IN_AN_HOUR).token)  # warms the verifier's cache

    put_secret(secrets_client, {"current": "k-new", "keys": {old_kid: old_key.hex(), "k-new": new_key_value()}})
    signer = RunTokens(SecretsManagerKeys(SECRET_ID, client=secrets_client))
    token = signer.issue("R2345", "participant", "p9", expires_at_ms=IN_AN_HOUR).token

    clock.now += 31  # within the 5 min cache age, past the forced-refresh floor
    assert verifier.verify(token).participant_id == "p9"
    assert verifier_keys.fetches == 2


def test_unknown_kids_do_not_hammer_secrets_manager(secrets_client: Any) -> None:
    clock = FakeClock()
    keys = SecretsManagerKeys(SECRET_ID, client=secrets_client, monotonic=clock)
    verifier = RunTokens(keys)
    _, key = current_key(secrets_client)
    for attempt in range(20):
        token = jwt.encode({"run": "R"}, key, algorithm="HS256", headers={"kid": f"made-up-{attempt}"})
        with pytest.raises(Forbidden):
            verifier.verify(token)
    assert keys.fetches == 1


def test_a_kid_removed_from_the_secret_no_longer_verifies(secrets_client: Any) -> None:
    clock = FakeClock()
    tokens = RunTokens(SecretsManagerKeys(SECRET_ID, client=secrets_client, monotonic=clock))
    token = tokens.issue("RUNABC234567", "host", None, expires_at_ms=IN_AN_HOUR).token
    put_secret(secrets_client, {"current": "k-new", "keys": {"k-new": new_key_value()}})
    clock.now += 301
    with pytest.raises(Forbidden, match="unknown key"):
        tokens.verify(token)


@pytest.mark.parametrize("missing", ["iss", "aud", "sub", "role", "run", "jti", "iat", "exp"])
def test_missing_claim_is_forbidden(tokens: RunTokens, secrets_client: Any, missing: str) -> None:
    kid, key = current_key(secrets_client)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "R:p1",
        "role": "participant",
        "run": "R",
        "pid": "p1",
        "jti": "j",
        "iat": now_ms() // 1000,
        "exp": now_ms() // 1000 + 600,
    }
    assert tokens.verify(jwt.encode(claims, key, algorithm="HS256", headers={"kid": kid})).run_id == "R"
    del claims[missing]
    with pytest.raises(Forbidden):
        tokens.verify(jwt.encode(claims, key, algorithm="HS256", headers={"kid": kid}))


@pytest.mark.parametrize(
    "changes",
    [
        {"aud": "someone-else"},
        {"iss": "not-speedrun"},
        {"role": "admin"},
        {"role": "participant", "sub": "R:host"},  # participant without pid
        {"pid": "p1"},  # host with a pid, sub still says host
        {"sub": "OTHER:host"},  # sub of another run
    ],
)
def test_inconsistent_or_foreign_claims_are_forbidden(
    tokens: RunTokens, secrets_client: Any, changes: dict[str, str]
) -> None:
    kid, key = current_key(secrets_client)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "R:host",
        "role": "host",
        "run": "R",
        "jti": "j",
        "iat": now_ms() // 1000,
        "exp": now_ms() // 1000 + 600,
    }
    claims.update(changes)
    with pytest.raises(Forbidden):
        tokens.verify(jwt.encode(claims, key, algorithm="HS256", headers={"kid": kid}))


def test_alg_none_is_refused(tokens: RunTokens, secrets_client: Any) -> None:
    kid, _ = current_key(secrets_client)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "R:host",
        "role": "host",
        "run": "R",
        "jti": "j",
        "iat": now_ms() // 1000,
        "exp": now_ms() // 1000 + 600,
    }
    unsigned = jwt.encode(claims, "", algorithm="none", headers={"kid": kid})
    with pytest.raises(Forbidden):
        tokens.verify(unsigned)
    with pytest.raises(Forbidden):
        tokens.verify(unsigned.rstrip(".") + ".")


@pytest.mark.parametrize("token", [None, "", "not-a-jwt", "a.b.c", "....."])
def test_missing_or_malformed_token_is_unauthorized(tokens: RunTokens, token: str | None) -> None:
    with pytest.raises(Unauthorized):
        tokens.verify(token)


def test_keys_are_read_once_per_cache_age(secrets_client: Any) -> None:
    clock = FakeClock()
    keys = SecretsManagerKeys(SECRET_ID, client=secrets_client, monotonic=clock)
    tokens = RunTokens(keys)
    for _ in range(10):
        tokens.verify(tokens.issue("R", "host", None, expires_at_ms=IN_AN_HOUR).token)
    assert keys.fetches == 1
    clock.now += 300
    tokens.issue("R", "host", None, expires_at_ms=IN_AN_HOUR)
    assert keys.fetches == 2


def test_ensure_token_secret_keeps_an_existing_secret(secrets_client: Any) -> None:
    before = secrets_client.get_secret_value(SecretId=SECRET_ID)["SecretString"]
    ensure_token_secret(SECRET_ID, client=secrets_client)
    assert secrets_client.get_secret_value(SecretId=SECRET_ID)["SecretString"] == before


def test_keys_may_be_hex_or_base64() -> None:
    raw = bytes(range(32))
    assert decode_key("k", raw.hex()) == raw
    assert decode_key("k", base64.b64encode(raw).decode()) == raw
    assert decode_key("k", base64.urlsafe_b64encode(raw).decode().rstrip("=")) == raw


@pytest.mark.parametrize(
    "secret",
    [
        "not json",
        "[]",
        json.dumps({"current": "a", "keys": {}}),
        json.dumps({"current": "a", "keys": {"b": "00" * 32}}),
        json.dumps({"current": "a", "keys": {"a": "00" * 8}}),  # too short for HS256
        json.dumps({"current": "a", "keys": {"a": "%%% not a key %%%"}}),
    ],
)
def test_malformed_secret_is_a_configuration_error(secret: str) -> None:
    with pytest.raises(TokenKeyError):
        Keyring.from_secret(secret)


def test_unreadable_secret_is_unavailable_and_retried_on_next_use(boto_secrets_client: Any) -> None:
    with mock_aws():
        keys = SecretsManagerKeys("speedrun/test/missing", client=boto_secrets_client)
        with pytest.raises(Unavailable):
            keys.current()
        ensure_token_secret("speedrun/test/missing", client=boto_secrets_client)
        assert keys.current()[0].startswith("k")
        assert keys.fetches == 2

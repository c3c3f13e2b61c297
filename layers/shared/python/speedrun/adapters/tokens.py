"""Run-scoped tokens: the host and participant credentials sign-on issues and the $connect
authorizer (and the results route) verifies.

HMAC-SHA256 JWTs. The signing keys live in one Secrets Manager secret,
`{"current": "<kid>", "keys": {"<kid>": "<hex or base64 key>", ...}}`: new tokens are signed with
`current`, and any kid still listed in `keys` verifies, so a key can be rotated (add a key, make it
current, drop the old one once every token it signed has expired) without breaking live runs.
See docs/signon-and-tokens.md.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import boto3
import jwt
from aws_lambda_powertools import Logger
from botocore.exceptions import BotoCoreError, ClientError

from speedrun.clock import now_ms
from speedrun.errors import Forbidden, Unauthorized, Unavailable
from speedrun.roles import HOST, PARTICIPANT, ROLES, Role
from speedrun.settings import Settings, get_settings

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient

logger = Logger(child=True)

ISSUER = "speedrun"
AUDIENCE = "speedrun-ws"
ALGORITHM = "HS256"
HOST_SUBJECT = "host"
MIN_KEY_BYTES = 32
"""RFC 7518 3.2: an HS256 key must be at least as long as the hash output."""
KEYS_MAX_AGE_S = 300.0
"""How long a container trusts its copy of the keys before reading the secret again."""
FORCED_REFRESH_FLOOR_S = 30.0
"""An unknown kid triggers an early re-read (a rotation may have happened), at most this often, so
tokens with made-up kids cannot hammer Secrets Manager."""

REQUIRED_CLAIMS = ("iss", "aud", "sub", "role", "run", "jti", "iat", "exp")
_HEX_KEY = re.compile(r"(?:[0-9a-fA-F]{2})+")


class TokenKeyError(RuntimeError):
    """The signing-key secret is missing, malformed or holds a key too short to be safe."""


@dataclass(frozen=True)
class RunClaims:
    """What a verified run token says about its bearer."""

    run_id: str
    role: Role
    participant_id: str | None
    token_id: str
    expires_at_ms: int

    @property
    def subject(self) -> str:
        return run_subject(self.run_id, self.participant_id)


@dataclass(frozen=True)
class IssuedToken:
    token: str
    token_id: str
    expires_at_ms: int


def run_subject(run_id: str, participant_id: str | None) -> str:
    """`<run_id>:<participant_id or host>`: the token's `sub` and the authorizer's principal id."""
    return f"{run_id}:{participant_id or HOST_SUBJECT}"


def decode_key(kid: str, value: str) -> bytes:
    """A key as stored in the secret: hex when it is hex (checked first), base64 otherwise."""
    text = value.strip()
    if _HEX_KEY.fullmatch(text):
        key = bytes.fromhex(text)
    else:
        standard = text.replace("-", "+").replace("_", "/")  # accept the url-safe alphabet too
        try:
            key = base64.b64decode(standard + "=" * (-len(standard) % 4), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise TokenKeyError(f"token key {kid!r} is neither hex nor base64") from exc
    if len(key) < MIN_KEY_BYTES:
        raise TokenKeyError(f"token key {kid!r} is shorter than {MIN_KEY_BYTES} bytes")
    return key


@dataclass(frozen=True)
class Keyring:
    current_kid: str
    keys: Mapping[str, bytes]

    @classmethod
    def from_secret(cls, secret: str) -> Keyring:
        try:
            document = json.loads(secret)
        except json.JSONDecodeError as exc:
            raise TokenKeyError("token secret is not JSON") from exc
        if not isinstance(document, dict):
            raise TokenKeyError("token secret must be a JSON object")
        current, raw_keys = document.get("current"), document.get("keys")
        if not isinstance(current, str) or not isinstance(raw_keys, dict) or not raw_keys:
            raise TokenKeyError('token secret must look like {"current": "<kid>", "keys": {"<kid>": "<key>"}}')
        if current not in raw_keys:
            raise TokenKeyError(f"token secret's current kid {current!r} is not in its keys")
        keys = {str(kid): decode_key(str(kid), str(value)) for kid, value in raw_keys.items()}
        return cls(current_kid=current, keys=keys)


class SigningKeys(Protocol):
    def current(self) -> tuple[str, bytes]:
        """The kid and key new tokens are signed with."""
        ...

    def get(self, kid: str) -> bytes | None:
        """The key of a kid tokens may be verified with, None when it is not (or no longer) known."""
        ...


class SecretsManagerKeys(SigningKeys):
    """The keyring from Secrets Manager, read once and cached per container for `max_age_s`."""

    def __init__(
        self,
        secret_id: str,
        *,
        client: SecretsManagerClient | None = None,
        max_age_s: float = KEYS_MAX_AGE_S,
        refresh_floor_s: float = FORCED_REFRESH_FLOOR_S,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._secret_id = secret_id
        self._client = client
        self._max_age_s = max_age_s
        self._refresh_floor_s = refresh_floor_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._keyring: Keyring | None = None
        self._loaded_at = 0.0
        self.fetches = 0
        """How many times the secret was read (tests count it to prove the cache)."""

    def current(self) -> tuple[str, bytes]:
        keyring = self._keyring_within(self._max_age_s)
        return keyring.current_kid, keyring.keys[keyring.current_kid]

    def get(self, kid: str) -> bytes | None:
        key = self._keyring_within(self._max_age_s).keys.get(kid)
        if key is None:
            # Another container may already sign with a key added by a rotation this one has not seen.
            key = self._keyring_within(self._refresh_floor_s).keys.get(kid)
        return key

    def _keyring_within(self, max_age_s: float) -> Keyring:
        with self._lock:
            now = self._monotonic()
            if self._keyring is None or now - self._loaded_at >= max_age_s:
                self._keyring = Keyring.from_secret(self._read_secret())
                self._loaded_at = now
            return self._keyring

    def _read_secret(self) -> str:
        if self._client is None:
            self._client = boto3.client("secretsmanager")
        self.fetches += 1
        try:
            return self._client.get_secret_value(SecretId=self._secret_id)["SecretString"]
        except (BotoCoreError, ClientError) as exc:
            logger.exception("token keys unreadable", extra={"secret_id": self._secret_id})
            raise Unavailable("token keys are unavailable, retry") from exc


class RunTokens:
    """Issues and verifies run-scoped tokens."""

    def __init__(self, keys: SigningKeys, *, clock: Callable[[], int] = now_ms) -> None:
        self._keys = keys
        self._clock = clock

    def issue(self, run_id: str, role: Role, participant_id: str | None, *, expires_at_ms: int) -> IssuedToken:
        """A token for the host (`participant_id` None) or a participant of a run, valid until
        `expires_at_ms` (rounded down to the second: JWT times are seconds)."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        if (role == PARTICIPANT) != bool(participant_id):
            raise ValueError("a participant token needs a participant id, a host token must not have one")
        now = self._clock()
        token_id = secrets.token_urlsafe(12)
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": run_subject(run_id, participant_id),
            "role": role,
            "run": run_id,
            "jti": token_id,
            "iat": now // 1000,
            "exp": expires_at_ms // 1000,
        }
        if participant_id:
            claims["pid"] = participant_id
        kid, key = self._keys.current()
        token = jwt.encode(claims, key, algorithm=ALGORITHM, headers={"kid": kid})
        return IssuedToken(token=token, token_id=token_id, expires_at_ms=(expires_at_ms // 1000) * 1000)

    def verify(self, token: str | None) -> RunClaims:
        """The claims of a valid token.

        Raises Unauthorized when there is no token or it is not a JWT at all, Forbidden when it is
        one but fails verification (signature, kid, algorithm, expiry, issuer, audience, claims).
        """
        if not token:
            raise Unauthorized("token required")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError as exc:
            raise Unauthorized("malformed token") from exc
        kid = header.get("kid")
        if header.get("alg") != ALGORITHM or not isinstance(kid, str):
            raise Forbidden("token refused")
        key = self._keys.get(kid)
        if key is None:
            raise Forbidden("token signed with an unknown key")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.ExpiredSignatureError as exc:
            raise Forbidden("token expired") from exc
        except jwt.InvalidTokenError as exc:
            raise Forbidden("token refused") from exc
        return _claims_of(claims)


def _claims_of(claims: Mapping[str, Any]) -> RunClaims:
    """The run claims, when they agree with each other (a signed token can still be mis-issued)."""
    role, run_id, participant_id, token_id = (claims.get(name) for name in ("role", "run", "pid", "jti"))
    if not (isinstance(run_id, str) and run_id and isinstance(token_id, str) and token_id):
        raise Forbidden("token refused")
    if role == HOST and participant_id is None:
        checked_role: Role = HOST
    elif role == PARTICIPANT and isinstance(participant_id, str) and participant_id:
        checked_role = PARTICIPANT
    else:
        raise Forbidden("token refused")
    if claims.get("sub") != run_subject(run_id, participant_id):
        raise Forbidden("token refused")
    return RunClaims(
        run_id=run_id,
        role=checked_role,
        participant_id=participant_id,
        token_id=token_id,
        expires_at_ms=int(claims["exp"]) * 1000,
    )


_default_tokens: RunTokens | None = None


def run_tokens_from_settings(settings: Settings | None = None) -> RunTokens:
    """The process's `RunTokens` over the secret named by `TOKEN_SECRET_ID` (cached per process
    when called without settings)."""
    global _default_tokens  # noqa: PLW0603 - one keyring cache per container is the point
    if settings is not None:
        return RunTokens(SecretsManagerKeys(settings.require("token_secret_id")))
    if _default_tokens is None:
        _default_tokens = RunTokens(SecretsManagerKeys(get_settings().require("token_secret_id")))
    return _default_tokens


def new_key_value() -> str:
    """A fresh random key, as stored in the secret (hex)."""
    return secrets.token_hex(MIN_KEY_BYTES)


def ensure_token_secret(secret_id: str, *, client: SecretsManagerClient | None = None) -> None:
    """Create the signing-key secret with one random key unless it exists (tests, the local stack)."""
    client = client or boto3.client("secretsmanager")
    try:
        client.describe_secret(SecretId=secret_id)
        return
    except client.exceptions.ResourceNotFoundException:
        pass
    kid = f"k{now_ms()}"
    client.create_secret(
        Name=secret_id,
        SecretString=json.dumps({"current": kid, "keys": {kid: new_key_value()}}),
        Description="Signing keys of the speed-run run tokens",
    )

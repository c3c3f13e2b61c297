"""speedrun.adapters.identity: the Cognito ID token checks (signature by kid, exp, iss, aud, token_use), the
JWKS cache, and the bearer/algorithm helpers. The JWKS is served from memory (no network)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from speedrun.adapters.identity import CognitoVerifier, bearer_token, stringify_claims, token_algorithm
from speedrun.errors import Unauthorized

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_pool"
CLIENT_ID = "web-client-id"
KID = "pool-key-1"
POOL_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
OTHER_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    public: dict[str, Any] = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    return {**public, "kid": kid, "alg": "RS256", "use": "sig"}


@pytest.fixture
def fetches(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts JWKS downloads; the pool's key set is served from memory."""
    calls: list[int] = []

    def fetch_data(_self: jwt.PyJWKClient) -> dict[str, Any]:
        calls.append(1)
        return {"keys": [_jwk(POOL_KEY, KID)]}

    monkeypatch.setattr(jwt.PyJWKClient, "fetch_data", fetch_data)
    return calls


@pytest.fixture
def verifier(fetches: list[int]) -> CognitoVerifier:
    return CognitoVerifier(jwks_url=f"{ISSUER}/.well-known/jwks.json", issuer=ISSUER, audience=CLIENT_ID)


def _token(key: Any = POOL_KEY, *, kid: str = KID, algorithm: str = "RS256", **overrides: Any) -> str:
    now = int(time.time())
    claims = {
        "sub": "user-1",
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "token_use": "id",
        "iat": now,
        "exp": now + 3600,
        "cognito:username": "ada",
        "email_verified": True,
        **overrides,
    }
    claims = {name: value for name, value in claims.items() if value is not None}
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})


def _hs256_with_public_key() -> str:
    """The classic algorithm confusion: an HMAC token keyed with the (public) RSA key."""
    pem = POOL_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": KID}).encode()).rstrip(b"=")
    payload = base64.urlsafe_b64encode(json.dumps({"sub": "x", "exp": int(time.time()) + 60}).encode()).rstrip(b"=")
    signature = base64.urlsafe_b64encode(hmac.new(pem, header + b"." + payload, hashlib.sha256).digest()).rstrip(b"=")
    return (header + b"." + payload + b"." + signature).decode()


def _unsigned() -> str:
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "kid": KID}).encode()).rstrip(b"=")
    claims = {"sub": "x", "iss": ISSUER, "aud": CLIENT_ID, "token_use": "id", "exp": int(time.time()) + 60}
    payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    return (header + b"." + payload + b".").decode()


def test_a_token_of_the_pool_for_the_client_verifies(verifier: CognitoVerifier) -> None:
    claims = verifier.verify(_token())
    assert (claims["sub"], claims["token_use"], claims["aud"]) == ("user-1", "id", CLIENT_ID)


@pytest.mark.parametrize(
    ("case", "token"),
    [
        ("no token", lambda: None),
        ("empty", lambda: ""),
        ("not a JWT", lambda: "not-a-jwt"),
        ("wrong signature", lambda: _token(OTHER_KEY)),
        ("unknown key id", lambda: _token(OTHER_KEY, kid="rotated-away")),
        ("expired", lambda: _token(exp=int(time.time()) - 10)),
        ("another pool", lambda: _token(iss="https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_other")),
        ("another client", lambda: _token(aud="another-client")),
        ("an access token", lambda: _token(token_use="access")),
        ("no token_use", lambda: _token(token_use=None)),
        ("no exp", lambda: _token(exp=None)),
        ("no sub", lambda: _token(sub=None)),
        ("HS256 with the public key as secret", _hs256_with_public_key),
        ("alg none", _unsigned),
    ],
)
def test_every_forgery_is_unauthorized(verifier: CognitoVerifier, case: str, token: Any) -> None:
    with pytest.raises(Unauthorized):
        verifier.verify(token())


def test_the_key_set_is_fetched_once_and_refreshed_for_unknown_kids_at_most_every_30_s(
    verifier: CognitoVerifier, fetches: list[int]
) -> None:
    for _ in range(5):
        verifier.verify(_token())
    assert len(fetches) == 1
    with pytest.raises(Unauthorized):
        verifier.verify(_token(OTHER_KEY, kid="new-key"))
    assert len(fetches) == 2  # one refresh in case the pool rotated its keys
    # Made-up kids cannot turn into a download each: PyJWKClient refreshes at most every 30 s.
    for kid in ("made-up-1", "made-up-2", "made-up-3"):
        with pytest.raises(Unauthorized):
            verifier.verify(_token(OTHER_KEY, kid=kid))
    assert len(fetches) == 2


def test_claims_for_the_gateway_are_strings_or_none(verifier: CognitoVerifier) -> None:
    claims = verifier.claims(f"Bearer {_token()}")
    assert claims is not None
    assert claims["email_verified"] == "true"
    assert claims["exp"].isdigit()
    assert verifier.claims(f"Bearer {_token(OTHER_KEY)}") is None
    assert verifier.claims(_token()) is None  # no Bearer scheme
    assert verifier.claims(None) is None


def test_stringify_claims_renders_lists_like_api_gateway() -> None:
    assert stringify_claims({"groups": ["a", "b"], "n": 3, "ok": False}) == {"groups": "[a b]", "n": "3", "ok": "false"}


@pytest.mark.parametrize(
    ("header", "token"),
    [("Bearer abc", "abc"), ("bearer  abc ", "abc"), ("Basic abc", None), ("Bearer", None), (None, None), ("", None)],
)
def test_bearer_token(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


def test_token_algorithm_tells_cognito_from_run_tokens() -> None:
    assert token_algorithm(_token()) == "RS256"
    assert token_algorithm(jwt.encode({"run": "r"}, "k" * 32, algorithm="HS256")) == "HS256"
    assert token_algorithm("garbage") is None

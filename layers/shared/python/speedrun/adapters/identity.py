"""Cognito ID token verification: the checks API Gateway's JWT authorizer makes, done in code.

Used by functions with `Auth.IN_FUNCTION` routes (API Gateway lets those through unverified) and
by the local gateway in place of the JWT authorizer, so both verify a token the same way:
signature (RS256, key from the pool's JWKS by `kid`), `exp`, `iss` = the pool, `aud` = the web
client id, `token_use` = `id`.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

import jwt
from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2

from speedrun.errors import Unauthorized
from speedrun.settings import Settings, get_settings

ALGORITHM = "RS256"
REQUIRED_CLAIMS = ("exp", "iat", "iss", "aud", "sub", "token_use")
JWKS_CACHE_S = 3600
"""Cognito's signing keys change rarely; a token with a kid not in the cached set re-reads it
(PyJWKClient allows that at most once per its 30 s cooldown, so made-up kids cost no downloads)."""


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, None when there is none."""
    scheme, _, token = (authorization or "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


def token_algorithm(token: str) -> str | None:
    """The `alg` of a JWT's (unverified) header, None when it is not a JWT at all. Tells a Cognito
    token (RS256) from a run token (HS256) before either is verified."""
    try:
        algorithm = jwt.get_unverified_header(token).get("alg")
    except jwt.InvalidTokenError:
        return None
    return algorithm if isinstance(algorithm, str) else None


class CognitoVerifier:
    def __init__(self, *, jwks_url: str, issuer: str, audience: str) -> None:
        self._jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=JWKS_CACHE_S)
        self.issuer = issuer
        self.audience = audience

    def verify(self, token: str | None) -> dict[str, Any]:
        """The verified claims; Unauthorized for a missing, malformed, forged, expired or foreign token."""
        if not token:
            raise Unauthorized("sign in required")
        if token_algorithm(token) != ALGORITHM:
            raise Unauthorized("not a Cognito ID token")
        try:
            key = self._jwks.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": list(REQUIRED_CLAIMS)},
            )
        except jwt.PyJWKClientError as exc:
            # Unknown kid (after one refresh of the key set) or the JWKS could not be read.
            raise Unauthorized("token signed with an unknown key") from exc
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("token expired") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("token refused") from exc
        if claims.get("token_use") != "id":
            raise Unauthorized("not an ID token")
        return claims

    def claims(self, authorization: str | None) -> dict[str, str] | None:
        """For the local gateway: the verified claims as API Gateway hands them on, or None."""
        try:
            return stringify_claims(self.verify(bearer_token(authorization)))
        except Unauthorized:
            return None


def stringify_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """API Gateway hands JWT claims to the function as strings (`"exp": "1700000000"`, arrays as `[a b]`)."""
    rendered: dict[str, str] = {}
    for name, value in claims.items():
        if isinstance(value, bool):
            rendered[name] = "true" if value else "false"
        elif isinstance(value, list):
            rendered[name] = "[" + " ".join(str(item) for item in value) + "]"
        else:
            rendered[name] = str(value)
    return rendered


def cognito_verifier_from_settings(settings: Settings | None = None) -> CognitoVerifier:
    settings = settings or get_settings()
    issuer = settings.require("cognito_issuer").rstrip("/")
    return CognitoVerifier(
        jwks_url=settings.cognito_jwks_url or f"{issuer}/.well-known/jwks.json",
        issuer=issuer,
        audience=settings.require("user_pool_client_id"),
    )


@cache
def default_verifier() -> CognitoVerifier:
    """The process's verifier (its JWKS cache lives as long as the Lambda container)."""
    return cognito_verifier_from_settings()


def signed_in_sub(event: APIGatewayProxyEventV2) -> str | None:
    """The Cognito `sub` of the caller of a route API Gateway lets through unverified, if they sent
    an ID token (rather than nothing or a run token): Unauthorized when that token does not verify.

    Claims an authorizer already verified (the local gateway passes them on where it can) are taken
    as they are: clients cannot set `requestContext`.
    """
    authorizer = event.request_context.authorizer
    verified = (authorizer.jwt_claim if authorizer else None) or {}
    if verified.get("sub"):
        return str(verified["sub"])
    token = bearer_token(event.headers.get("authorization"))
    if token is not None and token_algorithm(token) == ALGORITHM:
        return str(default_verifier().verify(token)["sub"])
    return None

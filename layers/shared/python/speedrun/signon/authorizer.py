"""The WebSocket $connect check, apart from sign-on: the authorizer function imports only what the
check needs (run tokens and the engine's Redis state), not the question sets, fan-out and players
that creating and joining runs use (docs/performance.md, cold start)."""

from __future__ import annotations

from speedrun.adapters.redis_client import redis_from_settings
from speedrun.adapters.tokens import RunClaims, RunTokens, run_tokens_from_settings
from speedrun.engine.store import RunEngine
from speedrun.errors import Forbidden
from speedrun.settings import Settings


class ConnectionAuthorizer:
    """The $connect check: a valid run token whose run is live and whose bearer was not kicked."""

    def __init__(self, tokens: RunTokens, engine: RunEngine) -> None:
        self.tokens = tokens
        self.engine = engine

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> ConnectionAuthorizer:
        return cls(run_tokens_from_settings(settings), RunEngine(redis_from_settings(settings)))

    def authorize(self, token: str | None) -> RunClaims:
        """The token's claims; Unauthorized (no or malformed token) or Forbidden (refused)."""
        claims = self.tokens.verify(token)
        if not self.engine.connection_allowed(claims.run_id, claims.role, claims.participant_id):
            raise Forbidden("run is over or participant was removed")
        return claims

"""Who may read what the results API serves, and the reads that check it first.

A run's results (JSON or CSV): its host only, either signed in (the persisted run's `host` is the
caller's Cognito `sub`; another host's run is a 404, as a run not yet persisted) or holding the run's
host token from sign-on (a participant token, or a host token of another run, is a 403).

A player's game history: the account that claimed the handle reads every game; any other account
only the games in runs it hosted, and a first page with none of those is a 404, as for a handle
without games, so the reply never tells whose a handle is or whether it has a history.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from speedrun.errors import Forbidden, NotFound, Unauthorized
from speedrun.reporting.csv_export import to_csv
from speedrun.reporting.read_models import (
    handle_owner,
    read_csv_rows,
    read_host_results,
    read_player_games,
    read_summary,
)
from speedrun.reporting.views import HostResults, PlayerGamePage
from speedrun.roles import HOST

if TYPE_CHECKING:
    from speedrun.adapters.tokens import RunClaims


class TokenVerifier(Protocol):
    """The part of `speedrun.adapters.tokens.RunTokens` the results read needs."""

    def verify(self, token: str | None) -> RunClaims: ...


@dataclass(frozen=True)
class ResultsReader:
    """Who asks for a run's results: a signed-in account, or the bearer of a run token."""

    signed_in_sub: str | None
    bearer_token: str | None


def authorize_results(run_id: str, reader: ResultsReader, tokens: TokenVerifier) -> None:
    if reader.signed_in_sub is not None:
        if read_summary(run_id)["host"] != reader.signed_in_sub:
            raise NotFound("no persisted speed-run with this id")
        return
    if reader.bearer_token is None:
        raise Unauthorized("a host token or a signed-in host is required")
    claims = tokens.verify(reader.bearer_token)
    if claims.role != HOST or claims.run_id != run_id:
        raise Forbidden("this token is not the host token of this speed-run")


def host_results(run_id: str, reader: ResultsReader, tokens: TokenVerifier) -> HostResults:
    """The host's `results` message of a persisted run, for a reader allowed to see it."""
    authorize_results(run_id, reader, tokens)
    return read_host_results(run_id)


def results_csv(run_id: str, reader: ResultsReader, tokens: TokenVerifier) -> str:
    """The results CSV of a persisted run, for a reader allowed to see it."""
    authorize_results(run_id, reader, tokens)
    return to_csv(read_csv_rows(run_id))


def player_games_for(reader_sub: str, handle: str, limit: int, cursor: str | None) -> PlayerGamePage:
    """One page of the player's games that `reader_sub` may read, newest first."""
    if handle_owner(handle) == reader_sub:
        return read_player_games(handle, limit, cursor)
    page = read_player_games(handle, limit, cursor, host=reader_sub)
    if cursor is None and not page.items:
        raise NotFound("no games of this player that you may read")
    return page

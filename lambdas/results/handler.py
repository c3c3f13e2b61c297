"""HTTP: a host's runs (live from Redis until persisted, then the read models), results (JSON and
CSV), player game history and profiles (read models)."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from speedrun.adapters.identity import bearer_token, signed_in_sub
from speedrun.adapters.redis_client import redis_from_settings
from speedrun.adapters.tokens import RunTokens, run_tokens_from_settings
from speedrun.http import caller_sub, error_responses, make_resolver
from speedrun.players.queries import read_profile
from speedrun.reporting.access import ResultsReader, host_results, player_games_for, results_csv
from speedrun.reporting.csv_export import csv_filename
from speedrun.reporting.host_runs import list_host_runs, read_run_summary
from speedrun.reporting.live_runs import LiveRunReader
from speedrun.reporting.views import HostResults, PlayerGamePage, SpeedRunPage, SpeedRunSummary
from speedrun.tracing import lambda_tracer

logger = Logger()
tracer = lambda_tracer()
metrics = Metrics()
app = make_resolver()

TAGS = ["results"]
DEFAULT_GAMES_PAGE = 20
MAX_GAMES_PAGE = 100
DEFAULT_RUNS_PAGE = 20
MAX_RUNS_PAGE = 100


@cache
def run_tokens() -> RunTokens:
    return run_tokens_from_settings()


@cache
def live_runs() -> LiveRunReader:
    return LiveRunReader(connect=redis_from_settings)


def _results_reader() -> ResultsReader:
    return ResultsReader(
        signed_in_sub=signed_in_sub(app.current_event),
        bearer_token=bearer_token(app.current_event.headers.get("authorization")),
    )


@app.get(
    "/api/speedruns",
    summary="The caller's speed-runs, live and past, newest first",
    description="Runs the caller opened: live ones (lobby, running, or completed and still being saved; "
    "`persisted: false`) and persisted ones (`persisted: true`: results served), ordered by creation, "
    "newest first. `503` (safe to retry) while the live state store cannot be reached.",
    tags=TAGS,
    responses={200: {"description": "One page of runs."}, **error_responses(400, 401, 503)},
)
def list_speedruns(
    limit: Annotated[int, Query(ge=1, le=MAX_RUNS_PAGE, description="Page size.")] = DEFAULT_RUNS_PAGE,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> SpeedRunPage:
    return SpeedRunPage.model_validate(list_host_runs(caller_sub(app), limit, cursor, live_runs()))


@app.get(
    "/api/speedruns/<run_id>",
    summary="A speed-run's summary, live or persisted (its host only)",
    description="Live (`persisted: false`) from the lobby until the run is durable: status, config, "
    "questions, participant counts and timestamps as they are now. Persisted (`persisted: true`): "
    "also the answer counts and the final leaderboard. Another host's run is a `404`, as an unknown id. "
    "`503` (safe to retry) when the run is not persisted and the live state store cannot be reached.",
    tags=TAGS,
    responses={
        200: {"description": "Status, config, counts, timestamps (and, once persisted, the final leaderboard)."},
        **error_responses(401, 404, 503),
    },
)
def get_speedrun(run_id: Annotated[str, Path(description="The speed-run id.")]) -> SpeedRunSummary:
    return SpeedRunSummary.model_validate(read_run_summary(run_id, caller_sub(app), live_runs()))


@app.get(
    "/api/speedruns/<run_id>/results",
    summary="Final results, as the host `results` message, or a CSV download",
    description="Authorization: `Bearer <host_token of this run>` or a signed-in host. `404` until persisted.",
    tags=TAGS,
    responses={
        200: {
            "description": "JSON results, or `text/csv` with one row per participant per question.",
            "content": {
                "application/json": {"model": HostResults},
                "text/csv": {"schema": {"type": "string", "title": "Results CSV"}},
            },
        },
        **error_responses(401, 403, 404),
    },
)
def get_results(
    run_id: Annotated[str, Path(description="The speed-run id.")],
    output_format: Annotated[
        Literal["json", "csv"], Query(alias="format", description="`csv` for a download.")
    ] = "json",
) -> Response[HostResults | str]:
    if output_format == "csv":
        return Response(
            status_code=200,
            content_type="text/csv; charset=utf-8",
            body=results_csv(run_id, _results_reader(), run_tokens()),
            headers={"Content-Disposition": f'attachment; filename="{csv_filename(run_id)}"'},
        )
    return Response(
        status_code=200, content_type="application/json", body=host_results(run_id, _results_reader(), run_tokens())
    )


@app.get(
    "/api/players/<handle>/games",
    summary="A player's speed-runs, newest first (the player; a host: their own runs only)",
    description="The account that claimed the handle (created its profile) reads every game. Any other "
    "account reads only the games in runs it hosted; when it hosted none with this player, `404`, as for "
    "a handle without games: the reply never tells whose a handle is or whether it has a history.",
    tags=TAGS,
    responses={200: {"description": "One page of games."}, **error_responses(400, 401, 404)},
)
def list_player_games(
    handle: Annotated[str, Path(description="The player handle.")],
    limit: Annotated[int, Query(ge=1, le=MAX_GAMES_PAGE, description="Page size.")] = DEFAULT_GAMES_PAGE,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> PlayerGamePage:
    return player_games_for(caller_sub(app), handle, limit, cursor)


@app.get(
    "/api/players/<handle>",
    summary="A player's profile (point read)",
    tags=TAGS,
    responses={200: {"description": "The profile."}, **error_responses(401, 404)},
)
def get_player(handle: Annotated[str, Path(description="The player handle.")]) -> dict[str, Any]:
    caller_sub(app)
    return read_profile(handle)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)

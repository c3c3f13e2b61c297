"""HTTP: run summaries, results (JSON and CSV), player game history and profiles (read models only)."""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from speedrun.errors import Forbidden, NotFound, Unauthorized
from speedrun.http import caller_sub, error_responses, make_resolver
from speedrun.identity import bearer_token, signed_in_sub
from speedrun.players import read_profile
from speedrun.reporting import read_csv_rows, read_player_games, read_results_view, read_summary
from speedrun.reporting.csv_export import csv_filename, to_csv
from speedrun.tokens import RunTokens, run_tokens_from_settings

logger = Logger()
tracer = Tracer()
metrics = Metrics()
app = make_resolver()

TAGS = ["results"]
DEFAULT_GAMES_PAGE = 20
MAX_GAMES_PAGE = 100


@cache
def run_tokens() -> RunTokens:
    return run_tokens_from_settings()


def _authorize_results(run_id: str) -> None:
    """A host token of this run, or the signed-in host of the run (checked once it is persisted)."""
    sub = signed_in_sub(app.current_event)
    if sub is not None:
        if read_summary(run_id)["host"] != sub:
            raise NotFound("no persisted speed-run with this id")
        return
    token = bearer_token(app.current_event.headers.get("authorization"))
    if token is None:
        raise Unauthorized("a host token or a signed-in host is required")
    claims = run_tokens().verify(token)
    if claims.role != "host" or claims.run_id != run_id:
        raise Forbidden("this token is not the host token of this speed-run")


@app.get(
    "/api/speedruns/<run_id>",
    summary="A persisted speed-run's summary (its host only)",
    tags=TAGS,
    responses={
        200: {"description": "Status, config, counts, timestamps, final leaderboard."},
        **error_responses(401, 404),
    },
)
def get_speedrun(run_id: Annotated[str, Path(description="The speed-run id.")]) -> dict[str, Any]:
    summary = read_summary(run_id)
    if summary["host"] != caller_sub(app):
        raise NotFound("no persisted speed-run with this id")
    return summary


@app.get(
    "/api/speedruns/<run_id>/results",
    summary="Final results, as the host `results` message, or a CSV download",
    description="Authorization: `Bearer <host_token of this run>` or a signed-in host. `404` until persisted.",
    tags=TAGS,
    responses={
        200: {"description": "JSON results, or `text/csv` with one row per participant per question."},
        **error_responses(401, 403, 404),
    },
)
def get_results(
    run_id: Annotated[str, Path(description="The speed-run id.")],
    output_format: Annotated[
        Literal["json", "csv"], Query(alias="format", description="`csv` for a download.")
    ] = "json",
) -> Response[Any]:
    _authorize_results(run_id)
    if output_format == "csv":
        return Response(
            status_code=200,
            content_type="text/csv; charset=utf-8",
            body=to_csv(read_csv_rows(run_id)),
            headers={"Content-Disposition": f'attachment; filename="{csv_filename(run_id)}"'},
        )
    return Response(status_code=200, content_type="application/json", body=read_results_view(run_id, None))


@app.get(
    "/api/players/<handle>/games",
    summary="A player's speed-runs, newest first",
    tags=TAGS,
    responses={200: {"description": "`{items, next_cursor}`."}, **error_responses(400, 401)},
)
def list_player_games(
    handle: Annotated[str, Path(description="The player handle.")],
    limit: Annotated[int, Query(ge=1, le=MAX_GAMES_PAGE, description="Page size.")] = DEFAULT_GAMES_PAGE,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> dict[str, Any]:
    caller_sub(app)
    return read_player_games(handle, limit, cursor)


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

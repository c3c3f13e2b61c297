"""A host's runs over HTTP, whichever side of its life a run is on: live (Redis) until the reporter
has made it durable, then persisted (DynamoDB). `GET /api/speedruns/{id}` and `GET /api/speedruns`."""

from __future__ import annotations

from typing import Any

from speedrun.cursors import decode_key_cursor, encode_key_cursor
from speedrun.errors import NotFound
from speedrun.reporting.live_runs import LiveRunReader
from speedrun.reporting.read_models import read_listing_page, read_summary

NOT_FOUND = "no speed-run of yours with this id"


def _persisted_summary(run_id: str, host: str) -> dict[str, Any] | None:
    try:
        summary = read_summary(run_id)
    except NotFound:
        return None
    if summary["host"] != host:
        raise NotFound(NOT_FOUND)
    return {**summary, "persisted": True, "expires_at": None}


def read_run_summary(run_id: str, host: str, live: LiveRunReader) -> dict[str, Any]:
    """The run's summary for its host: the persisted one once it exists (Redis is not needed for it),
    else the live one. NotFound for an unknown id and for another host's run alike."""
    persisted = _persisted_summary(run_id, host)
    if persisted is not None:
        return persisted
    current = live.summary(run_id)
    if current is not None:
        if current["host"] != host:
            raise NotFound(NOT_FOUND)
        return current
    # No live state either: the reporter may have persisted and dropped the run between the two
    # reads, so the read model is asked once more.
    persisted = _persisted_summary(run_id, host)
    if persisted is None:
        raise NotFound(NOT_FOUND)
    return persisted


def list_host_runs(host: str, limit: int, cursor: str | None, live: LiveRunReader) -> dict[str, Any]:
    """One page of the host's runs, live and persisted, newest first (by creation): `{items, next_cursor}`.

    Both sides sort by the same listing key, so a page is a merge: up to `limit + 1` entries below the
    cursor from each side, a run found on both (persisted, not yet dropped) counted once as persisted,
    the first `limit` served. When there are at most `limit` in all, both sides were exhausted: that
    is the last page. The cursor is the last served key (the shared cursor codec, bound to the host)."""
    before = None
    if cursor:
        before = decode_key_cursor(cursor, {"host": host}, ("created_key",), "your speed-runs")["created_key"]["S"]
    entries: dict[str, dict[str, Any]] = dict(read_listing_page(host, limit + 1, before))
    for key, entry in live.listing_page(host, limit + 1, before):
        entries.setdefault(key, entry)
    ordered = sorted(entries.items(), reverse=True)
    page = ordered[:limit]
    last_key = {"host": {"S": host}, "created_key": {"S": page[-1][0]}} if len(ordered) > limit else None
    next_cursor = encode_key_cursor(last_key)
    return {"items": [entry for _key, entry in page], "next_cursor": next_cursor}

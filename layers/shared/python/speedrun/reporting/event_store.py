"""The event store adapter (`EventModel`): run and player streams, written in batches or one by one,
read back in order for replay."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from speedrun.adapters.tables import EventModel
from speedrun.reporting.batch_writer import PutRequest


def event_model(aggregate_id: str, event: dict[str, Any]) -> EventModel:
    return EventModel(aggregate_id, int(event["seq"]), type=event["type"], at=int(event["at"]), data=event["data"])


def event_put(aggregate_id: str, event: dict[str, Any]) -> PutRequest:
    """A batch put of one event; its key (aggregate, seq) is deterministic, so a retry rewrites it."""
    return PutRequest(EventModel.Meta.table_name, event_model(aggregate_id, event).serialize())


def append(aggregate_id: str, event: dict[str, Any]) -> None:
    """Write one event (the players worker: one event per command)."""
    event_model(aggregate_id, event).save()


def read_stream(aggregate_id: str) -> list[dict[str, Any]]:
    """Every event of one aggregate, by seq, in the shape of docs/events.md."""
    return [
        {"seq": int(item.seq), "type": item.type, "at": int(item.at), "data": item.data}
        for item in EventModel.query(aggregate_id, consistent_read=True)
    ]


def aggregate_ids(prefix: str = "") -> Iterator[str]:
    """Every aggregate id in the store (optionally only `run#` or `player#` ones), each once."""
    seen: set[str] = set()
    for item in EventModel.scan(attributes_to_get=["aggregate_id"]):
        if item.aggregate_id.startswith(prefix) and item.aggregate_id not in seen:
            seen.add(item.aggregate_id)
            yield item.aggregate_id

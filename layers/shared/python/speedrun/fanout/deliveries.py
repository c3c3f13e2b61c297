"""The pushes queue's messages (its wire format, validated where the fan-out function reads them).

A `push` delivery carries frames and their recipients; a `flush` asks the fan-out function to send
what a run has coalesced (the engine's `flush` script). A broadcast is split into deliveries of at
most RECIPIENTS_PER_DELIVERY connections (and DELIVERY_MAX_BYTES), each connection with all of its
frames in one delivery, in order: the fan-out function posts a delivery's frames to a connection
one after the other, and different deliveries in parallel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, TypeAdapter

from speedrun.adapters.connections import Push, encode_message

RECIPIENTS_PER_DELIVERY = 500
"""With the event source's batch size (manifest), what one fan-out invocation posts at most: at its
pace (speedrun.fanout.service.PUSHES_PER_SECOND) about a second of work, far inside its timeout."""
DELIVERY_MAX_BYTES = 200 * 1024
"""Under SQS's 256 KiB per message (and per batch request: the publisher sends such batches one by one)."""
CONNECTION_ID_MAX_CHARS = 128


class PushGroup(BaseModel):
    message: dict[str, Any]
    to: list[Annotated[str, Field(min_length=1, max_length=CONNECTION_ID_MAX_CHARS)]]


class PushDelivery(BaseModel):
    kind: Literal["push"] = "push"
    run_id: str
    attempt: int = Field(default=0, ge=0)
    """How often these pushes were tried already (a throttled push is queued again, up to a limit)."""
    groups: list[PushGroup]

    def pushes(self) -> list[Push]:
        """The pushes in order (a connection's frames in the order of their groups); recipients of a
        group share one message object, encoded once."""
        return [Push(conn, group.message) for group in self.groups for conn in group.to]


class FlushDelivery(BaseModel):
    kind: Literal["flush"] = "flush"
    run_id: str


Delivery = Annotated[PushDelivery | FlushDelivery, Field(discriminator="kind")]
_DELIVERY: TypeAdapter[PushDelivery | FlushDelivery] = TypeAdapter(Delivery)


def parse_delivery(body: str | bytes) -> PushDelivery | FlushDelivery:
    """A message of the pushes queue; pydantic's ValidationError when it is not one."""
    return _DELIVERY.validate_json(body)


def push_deliveries(run_id: str, pushes: Sequence[Push], *, attempt: int = 0) -> list[PushDelivery]:
    """`pushes` as deliveries: every connection's frames together, in their order."""
    by_connection: dict[str, list[Push]] = {}
    for push in pushes:
        by_connection.setdefault(push.connection_id, []).append(push)
    deliveries: list[PushDelivery] = []
    sizes: dict[int, int] = {}
    current: list[list[Push]] = []
    current_bytes = 0
    seen_messages: set[int] = set()
    for connection_pushes in by_connection.values():
        added = 0
        for push in connection_pushes:
            key = id(push.message)
            if key not in sizes:
                sizes[key] = len(encode_message(push.message))
            added += len(push.connection_id) + 3 + (0 if key in seen_messages else sizes[key])
        if current and (len(current) >= RECIPIENTS_PER_DELIVERY or current_bytes + added > DELIVERY_MAX_BYTES):
            deliveries.append(_delivery(run_id, current, attempt))
            current, current_bytes, seen_messages = [], 0, set()
            added = sum(len(p.connection_id) + 3 + sizes[id(p.message)] for p in connection_pushes)
        current.append(connection_pushes)
        current_bytes += added
        seen_messages.update(id(p.message) for p in connection_pushes)
    if current:
        deliveries.append(_delivery(run_id, current, attempt))
    return deliveries


def _delivery(run_id: str, connections: list[list[Push]], attempt: int) -> PushDelivery:
    """Groups in the order frames first appear. A connection's frames keep their order: a frame whose
    group comes before one its connection already got gets a group of its own, after it."""
    groups: list[PushGroup] = []
    latest_group: dict[int, int] = {}
    """message id -> index of the newest group of that message"""
    for connection_pushes in connections:
        floor = -1
        for push in connection_pushes:
            index = latest_group.get(id(push.message), -1)
            if index <= floor:
                groups.append(PushGroup.model_construct(message=push.message, to=[]))
                index = latest_group[id(push.message)] = len(groups) - 1
            groups[index].to.append(push.connection_id)
            floor = index
    return PushDelivery.model_construct(kind="push", run_id=run_id, attempt=attempt, groups=groups)

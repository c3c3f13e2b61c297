"""Server -> client frames (protocol.md; docs/engine.md, Frames) built from the scripts' replies.

Times are epoch milliseconds, except fields named `*_at`, which are ISO-8601 (protocol envelope rule).
"""

from __future__ import annotations

import json
from typing import Any, TypeVar

from speedrun.adapters.connections import encode_message
from speedrun.clock import iso_from_ms
from speedrun.manifest import image_url

PARTICIPANT_BOARD_SIZE = 10
"""Participants see the top 10 (pushed boards, `top` on every `answer_result`); the host sees everyone
that fits in one WebSocket message."""
HOST_BOARD_MAX_ENTRIES = 600
"""A board built for a push or a snapshot reads at most this many entries from Redis: more never fit
the host's list budget (entries encode to 90..256 bytes)."""

MESSAGE_LIMIT_BYTES = 128 * 1024
"""API Gateway's WebSocket message limit: a larger frame is refused (pushed or as a route response)."""
HOST_LIST_BUDGET_BYTES = 56 * 1024
"""Room for one host list (the leaderboard, or the participants of `state`): two lists and the rest
of a frame stay under MESSAGE_LIMIT_BYTES. A list over its budget is cut to its longest prefix that
fits; `participant_count` in the same frame tells the client how many there are in all."""
_ENTRY_BYTES_AT_MOST = 256
"""No board entry, participant summary or image URL encodes larger (names are at most 24 characters)."""
IMAGE_LIST_BUDGET_BYTES = 24 * 1024
"""Room for a run's image list in `state` and `started` (about 300 URLs): a participant's `state` also
carries the top 10 and a question, well under MESSAGE_LIMIT_BYTES. The list is in order of first use,
so a run with more images prefetches its first ~300 and the rest load with their questions."""


def _iso(ms: int | None) -> str | None:
    return iso_from_ms(ms) if ms else None


_Item = TypeVar("_Item")


def within_budget(items: list[_Item], budget_bytes: int = HOST_LIST_BUDGET_BYTES) -> list[_Item]:
    """The longest prefix of `items` whose JSON array fits in `budget_bytes`."""
    if len(items) * _ENTRY_BYTES_AT_MOST <= budget_bytes:
        return items
    used = 2  # the brackets
    for count, item in enumerate(items):
        used += len(encode_message(item)) + 1
        if used > budget_bytes:
            return items[:count]
    return items


def board_for(entries: list[dict[str, Any]], *, host: bool) -> list[dict[str, Any]]:
    return within_budget(entries) if host else entries[:PARTICIPANT_BOARD_SIZE]


def state(run_id: str, reply: dict[str, Any], *, host: bool) -> dict[str, Any]:
    frame: dict[str, Any] = {
        "type": "state",
        "role": "host" if host else "participant",
        "speedrun_id": run_id,
        "status": reply["status"],
        "name": reply["name"],
        "question_count": reply["question_count"],
        "question_duration_s": reply.get("question_duration_s"),
        **reply["options"],
        "started_at": _iso(reply.get("started_at")),
        "ends_at": _iso(reply.get("ends_at")),
        "participant_count": reply["participant_count"],
        "chat": reply["chat"],
        "leaderboard": board_for(reply["leaderboard"], host=host),
    }
    if host:
        frame["participants"] = within_budget(reply["participants"])
        return frame
    current = reply.get("current_question")
    frame.update(
        images=run_images(reply),
        participant_id=reply["participant_id"],
        participant_name=reply["participant_name"],
        participants=reply["participant_count"],
        next_index=reply["next_index"],
        score=reply["score"],
        rank=reply["rank"],
        elapsed_ms=reply["elapsed_ms"],
        extra_time=reply["extra_time"],
        finished=reply["finished"],
        current_question=question(current) if current else None,
    )
    return frame


def question(reply: dict[str, Any]) -> dict[str, Any]:
    frame = {
        "type": "question",
        "index": reply["index"],
        "question_type": reply["question_type"],
        "category": reply["category"],
        "text": reply["text"],
        "options": reply["options"],
        "select_count": reply["select_count"],
        "served_at": iso_from_ms(reply["served_at"]),
        "deadline": reply["deadline"],
        "duration_ms": reply.get("duration_ms"),
    }
    # Only questions with images carry the fields: a set without images pushes the bytes it did before.
    if reply.get("image"):
        frame["image"] = image_url(reply["image"])
    if reply.get("option_images"):
        frame["option_images"] = [image_url(key) if key else None for key in reply["option_images"]]
    return frame


def image_list(questions: list[dict[str, Any]]) -> list[str]:
    """A run's image keys in order of first use (question, then its options), each once, cut to
    IMAGE_LIST_BUDGET_BYTES as URLs: frozen into the run at sign-on for `state` and `started`."""
    keys: dict[str, None] = {}
    for question in questions:
        for key in [question.get("image"), *(question.get("option_images") or [])]:
            if key:
                keys.setdefault(key)
    return within_budget([image_url(key) for key in keys], IMAGE_LIST_BUDGET_BYTES)


def run_images(reply: dict[str, Any]) -> list[str]:
    """The run's image URLs from a script's reply (`images`, the JSON list sign-on froze; absent on runs
    frozen before images existed)."""
    images = reply.get("images")
    return json.loads(images) if images else []


def answer_result(reply: dict[str, Any]) -> dict[str, Any]:
    return {"type": "answer_result", **reply}


def started(reply: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "started",
        "started_at": iso_from_ms(reply["started_at"]),
        "ends_at": iso_from_ms(reply["ends_at"]),
        "question_count": reply["question_count"],
        "question_duration_s": reply.get("question_duration_s"),
        **reply["options"],
        "images": run_images(reply),
    }


def extra_time(reply: dict[str, Any]) -> dict[str, Any]:
    """The host's reply to `extra_time`: who now has which multiplier."""
    return {"type": "extra_time", "participant_id": reply["participant_id"], "multiplier": reply["multiplier"]}


def extra_time_granted(reply: dict[str, Any]) -> dict[str, Any]:
    """What the participant is told: the multiplier, and the new deadline of a question being answered."""
    return {
        **extra_time(reply),
        "index": reply.get("index"),
        "deadline": reply.get("deadline"),
        "duration_ms": reply.get("duration_ms"),
    }


def participant_left(participant_id: str, participant_count: int) -> dict[str, Any]:
    return {
        "type": "participant_left",
        "participant_id": participant_id,
        "reason": "kicked",
        "participant_count": participant_count,
    }


def participant_answered(answered: dict[str, Any]) -> dict[str, Any]:
    return {"type": "participant_answered", **answered}


def participant_finished(finished: dict[str, Any]) -> dict[str, Any]:
    return {"type": "participant_finished", **finished}


HOST_NOTIFICATIONS = (
    ("joined", "participant_joined", "joined"),
    ("answered", "participant_answered", "answered"),
    ("finished", "participant_finished", "finished"),
)
"""(feed kind, message type, list field) of the host's coalesced notifications, in the order they are sent."""


def host_notifications(feed: dict[str, Any]) -> list[dict[str, Any]]:
    """The host's notifications of one flush (protocol revision 2): per kind, one message with the
    latest item's fields, plus the list of every item when there are several (`joined`, and this
    project's `answered` and `finished`); a list too long for one message is split into several."""
    frames: list[dict[str, Any]] = []
    for kind, message_type, list_field in HOST_NOTIFICATIONS:
        items = [entry["item"] for entry in feed["items"] if entry["kind"] == kind]
        while items:
            chunk = within_budget(items) or items[:1]
            items = items[len(chunk) :]
            frame = {"type": message_type, **chunk[-1]}
            if kind == "joined":
                frame["participant_count"] = feed["participant_count"]
            if len(chunk) > 1:
                frame[list_field] = chunk
            frames.append(frame)
    return frames


def lobby(effect: dict[str, Any]) -> dict[str, Any]:
    return {"type": "lobby", "participant_count": effect["participant_count"], "recent": effect["recent"]}


def leaderboard(entries: list[dict[str, Any]], participant_count: int, *, host: bool) -> dict[str, Any]:
    return {"type": "leaderboard", "entries": board_for(entries, host=host), "participant_count": participant_count}


def completed(effect: dict[str, Any], *, host: bool) -> dict[str, Any]:
    return {
        "type": "completed",
        "reason": effect["reason"],
        "completed_at": iso_from_ms(effect["completed_at"]),
        "leaderboard": board_for(effect["leaderboard"], host=host),
        "participant_count": effect["participant_count"],
    }


def message(reply: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "message",
        "from": reply["from"],
        "from_name": reply["from_name"],
        "to": reply["to"],
        "content": reply["content"],
        "sent_at": iso_from_ms(reply["sent_at"]),
    }


def error(code: str, message: str, request_id: str | None) -> dict[str, Any]:
    frame = {"type": "error", "code": code, "message": message}
    if request_id is not None:
        frame["request_id"] = request_id
    return frame


TOO_LARGE_FOR_A_MESSAGE = (
    "the reply does not fit in one WebSocket message (128 KiB); "
    "the HTTP API serves it whole (GET /api/speedruns/{id}/results)"
)


def reply_body(frame: dict[str, Any]) -> str:
    """A direct reply as it goes on the wire. API Gateway would refuse to send one over
    MESSAGE_LIMIT_BYTES (a host's `results` of a very large run): that is answered `too_large`."""
    encoded = encode_message(frame)
    if len(encoded) > MESSAGE_LIMIT_BYTES:
        encoded = encode_message(error("too_large", TOO_LARGE_FOR_A_MESSAGE, frame.get("request_id")))
    return encoded.decode()


PONG: dict[str, Any] = {"type": "pong"}

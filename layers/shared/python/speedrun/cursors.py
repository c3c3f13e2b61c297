"""The pagination cursor codec of every listing of the HTTP API: a cursor is the JSON of the key a
page ends at, URL-safe base64 without padding (padding is accepted back). A cursor that does not
decode, or decodes to a key its listing did not issue, is a `BadRequest` naming `cursor`, with the
listing's own reason."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from speedrun.errors import BadRequest
from speedrun.text import lone_surrogate_problem

NOT_A_CURSOR = "not a cursor"
MAX_KEY_BYTES = 1024
"""DynamoDB's limit for a sort key value (every free attribute of a DynamoDB key cursor is one)."""


def invalid_cursor(reason: str) -> BadRequest:
    return BadRequest("invalid cursor", details=[{"field": "cursor", "reason": reason}])


def encode_cursor(key: Mapping[str, Any]) -> str:
    raw = json.dumps(key, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, *, unreadable: str = NOT_A_CURSOR) -> Any:
    """The JSON value a cursor holds (unchecked: its listing checks it is a key it issued);
    `invalid_cursor(unreadable)` when it is not base64 of JSON."""
    try:
        return json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:  # binascii.Error, UnicodeError and json.JSONDecodeError are ValueErrors
        raise invalid_cursor(unreadable) from None


def _key_string(value: Any) -> bool:
    """A string that can be a key: not empty, at most MAX_KEY_BYTES, and valid Unicode (a lone surrogate,
    from the JSON escape `"\\ud800"`, cannot be sent to Redis or DynamoDB: it has no UTF-8 encoding)."""
    if not isinstance(value, str) or not value or lone_surrogate_problem(value) is not None:
        return False
    return len(value.encode()) <= MAX_KEY_BYTES


def encode_key_cursor(key: Mapping[str, Any] | None) -> str | None:
    """The cursor of a DynamoDB-shaped key (`{"name": {"S": "value"}}`, e.g. a LastEvaluatedKey);
    None (the last page) for no key."""
    return encode_cursor(key) if key else None


def decode_key_cursor(cursor: str, fixed: Mapping[str, str], free: Sequence[str], whose: str) -> dict[str, Any]:
    """The DynamoDB-shaped key a cursor (`encode_key_cursor`) stands for: exactly the attributes of
    `fixed` (with those string values: whose list it pages) and `free` (any string that can be a key:
    `_key_string`). `invalid_cursor` otherwise, the reason naming `whose` list it is not a cursor of."""
    key = decode_cursor(cursor)
    valid = (
        isinstance(key, dict)
        and set(key) == {*fixed, *free}
        and all(key[name] == {"S": value} for name, value in fixed.items())
        and all(isinstance(key[name], dict) and _key_string(key[name].get("S")) for name in free)
    )
    if not valid:
        raise invalid_cursor(f"{NOT_A_CURSOR} of {whose}")
    return key

"""What every edge accepts as text: JSON nested no deeper than `MAX_JSON_DEPTH`, and strings that are
valid Unicode (no lone surrogate).

Both are checked where the input arrives (HTTP bodies in `speedrun.http`, WebSocket frames in
`speedrun.engine.requests`, question-set files in `speedrun.question_sets.parsing`), so a hostile body
is a 400 (or an `error bad_request` frame) naming the problem, never a `RecursionError` in the parser
or a string that cannot be written (UTF-8) to a table, a file, a log line or a frame later.

Only lone surrogates are refused, not Unicode's 66 noncharacters (U+FFFE, U+FDD0, ...): a lone
surrogate is not a Unicode scalar value and has no UTF-8 encoding, so it breaks every serialization;
a noncharacter is valid UTF-8 that Unicode allows in interchange (Corrigendum #9) and breaks nothing.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, field_validator
from pydantic_core import PydanticCustomError

from speedrun.errors import BadRequest

MAX_JSON_DEPTH = 32
"""The deepest nesting of arrays and objects accepted in any JSON input. The deepest legitimate input
has 4 levels (a question-set file: object > questions > question > options); Python's JSON parser and
pydantic recurse per level and fail near 1,000 (`RecursionError`), far above this bound."""

_JSON_STRUCTURE = re.compile(r'(?P<open>[\[{])|(?P<close>[\]}])|"(?:[^"\\]|\\.)*"', re.DOTALL)
"""Brackets outside strings (a string, escapes included, is matched whole and skipped)."""
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
"""In a Python str every surrogate is lone: a valid pair (`\\ud83d\\ude00`) is decoded to one character."""


def json_depth_exceeds(text: str, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """True when `text`, read as JSON, nests arrays/objects deeper than `max_depth` (stops at the
    first bracket too deep, without parsing)."""
    depth = 0
    for token in _JSON_STRUCTURE.finditer(text):
        kind = token.lastgroup
        if kind == "open":
            depth += 1
            if depth > max_depth:
                return True
        elif kind == "close":
            depth -= 1
    return False


def load_json(text: str, *, max_depth: int = MAX_JSON_DEPTH, what: str = "the body") -> Any:
    """`json.loads` that refuses nesting deeper than `max_depth` before parsing (`BadRequest`).

    Raises `json.JSONDecodeError` for text that is not JSON, and `BadRequest` for what the parser
    would otherwise fail on in other ways (too deep; an integer of more digits than Python converts).
    """
    if json_depth_exceeds(text, max_depth):
        raise BadRequest(
            f"{what} is nested more than {max_depth} levels deep",
            details=[{"field": "body", "reason": f"arrays and objects nest at most {max_depth} levels deep"}],
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        raise
    except RecursionError:  # not reached under the bound above; kept so a parse can never be a 500
        reason = "nested too deeply"
    except ValueError as exc:  # an integer with more digits than Python converts (4,300)
        reason = "a number has too many digits" if "digits" in str(exc) else "unreadable JSON"
    raise BadRequest(f"{what} is not acceptable JSON: {reason}", details=[{"field": "body", "reason": reason}])


def lone_surrogate_problem(value: str) -> str | None:
    """Why `value` is not valid Unicode text (it holds a lone surrogate, e.g. from the JSON escape
    `"\\ud800"`), or None."""
    found = _LONE_SURROGATE.search(value)
    if found is None:
        return None
    return (
        f"contains a lone surrogate (U+{ord(found.group()):04X}) at character {found.start() + 1}: "
        "text must be valid Unicode (UTF-8)"
    )


def refuse_lone_surrogates(value: Any) -> Any:
    """`value` unchanged, or a pydantic error naming the first lone surrogate in it (strings in lists
    and dicts included)."""
    if isinstance(value, str):
        problem = lone_surrogate_problem(value)
        if problem is not None:
            raise PydanticCustomError("lone_surrogate", problem)
    elif isinstance(value, list | tuple):
        for item in value:
            refuse_lone_surrogates(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            refuse_lone_surrogates(key)
            refuse_lone_surrogates(item)
    return value


class UnicodeModel(BaseModel):
    """Base of every model that takes user text (request bodies, WebSocket fields, questions): each
    field refuses a lone surrogate anywhere in its value, as a validation error of that field
    (`lone_surrogate`), before the field's own type and constraints (which stay as declared, and so
    does the JSON schema)."""

    @field_validator("*", mode="before")
    @classmethod
    def _valid_unicode(cls, value: Any) -> Any:
        return refuse_lone_surrogates(value)

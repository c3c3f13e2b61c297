"""`speedrun.text`: the JSON depth bound (checked before parsing) and the lone-surrogate check shared by
every model that takes user text."""

from __future__ import annotations

import json
from typing import Annotated

import pytest
from pydantic import ConfigDict, Field, ValidationError

from speedrun.errors import BadRequest
from speedrun.text import MAX_JSON_DEPTH, UnicodeModel, json_depth_exceeds, load_json, lone_surrogate_problem


def nested(depth: int, *, inner: str = "1") -> str:
    """`inner` at `depth` levels of alternating objects and arrays."""
    odd = depth % 2
    return '{"a":[' * (depth // 2) + "[" * odd + inner + "]" * odd + "]}" * (depth // 2)


@pytest.mark.parametrize("depth", [0, 1, 2, MAX_JSON_DEPTH - 1, MAX_JSON_DEPTH])
def test_nesting_up_to_the_bound_is_parsed(depth: int) -> None:
    text = nested(depth)
    assert not json_depth_exceeds(text)
    assert load_json(text) == json.loads(text)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 1_000, 100_000])
def test_nesting_beyond_the_bound_is_refused_without_parsing(depth: int) -> None:
    assert json_depth_exceeds(nested(depth))
    with pytest.raises(BadRequest, match=f"nested more than {MAX_JSON_DEPTH} levels") as refused:
        load_json(nested(depth), what="the frame")
    assert refused.value.message.startswith("the frame ")
    assert refused.value.details == [
        {"field": "body", "reason": f"arrays and objects nest at most {MAX_JSON_DEPTH} levels deep"}
    ]


@pytest.mark.parametrize(
    "inner",
    [
        '"' + "[" * 1_000 + '"',
        '"\\"' + "{" * 1_000 + '"',
        '"\\\\"' + ", 1",
        '"' + "]" * 1_000 + '"',
    ],
    ids=["brackets-in-a-string", "after-an-escaped-quote", "escaped-backslash-ends-the-string", "closing-brackets"],
)
def test_brackets_inside_strings_do_not_count(inner: str) -> None:
    text = "[" + inner + "]"
    assert not json_depth_exceeds(text)
    assert isinstance(load_json(text), list)


def test_brackets_after_an_escaped_backslash_count() -> None:
    # "\\" ends the string, so the brackets that follow are structure
    text = '["\\\\", ' + "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1) + "]"
    assert json_depth_exceeds(text)


def test_text_that_is_not_json_still_raises_the_json_error() -> None:
    with pytest.raises(json.JSONDecodeError):
        load_json('{"a": ')


def test_a_number_too_long_for_python_is_a_bad_request() -> None:
    with pytest.raises(BadRequest, match="a number has too many digits"):
        load_json("1" * 5_000)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("\ud800", "contains a lone surrogate (U+D800) at character 1"),
        ("ab\udfff", "contains a lone surrogate (U+DFFF) at character 3"),
        ("🏁\ud83d", "contains a lone surrogate (U+D83D) at character 2"),
    ],
)
def test_a_lone_surrogate_is_named_with_its_position(text: str, problem: str) -> None:
    assert lone_surrogate_problem(text) == f"{problem}: text must be valid Unicode (UTF-8)"


@pytest.mark.parametrize(
    "text", ["", "Ada", "🏁", json.loads('"\\ud83d\\ude00"'), "\ufffe\uffff\ufdd0", "\u0000\u202e"]
)
def test_valid_unicode_has_no_problem(text: str) -> None:
    # a surrogate pair written as two escapes is one character; noncharacters are valid Unicode
    assert lone_surrogate_problem(text) is None


class Body(UnicodeModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str = Field(min_length=1, max_length=5)
    handle: str | None = Field(default=None, pattern=r"^[a-z]+$")
    tags: list[Annotated[str, Field(max_length=3)]] = []
    count: int = 0


def errors_of(data: dict[str, object]) -> list[tuple[tuple[int | str, ...], str]]:
    with pytest.raises(ValidationError) as refused:
        Body.model_validate(data)
    return [(error["loc"], error["type"]) for error in refused.value.errors()]


def test_unicode_model_refuses_a_lone_surrogate_in_any_field_naming_it() -> None:
    assert errors_of({"name": "a\ud800"}) == [(("name",), "lone_surrogate")]
    assert errors_of({"name": "a", "handle": "\udfff"}) == [(("handle",), "lone_surrogate")]
    assert errors_of({"name": "a", "tags": ["ok", "x\ud800"]}) == [(("tags",), "lone_surrogate")]


def test_unicode_model_keeps_the_fields_own_rules_and_schema() -> None:
    assert errors_of({"name": "toolong"}) == [(("name",), "string_too_long")]
    assert errors_of({"name": "a", "handle": "ABC"}) == [(("handle",), "string_pattern_mismatch")]
    assert errors_of({"name": "a", "tags": ["long"]}) == [(("tags", 0), "string_too_long")]
    assert errors_of({"name": "a", "count": "1"}) == [(("count",), "int_type")]
    assert Body.model_validate({"name": "🏁", "tags": ["a"]}).name == "🏁"
    handle = Body.model_json_schema()["properties"]["handle"]
    assert handle["anyOf"][0] == {"pattern": "^[a-z]+$", "type": "string"}

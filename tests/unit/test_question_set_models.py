"""Category folding, set ids, cursors and upload names."""

from __future__ import annotations

import pytest

from speedrun.errors import BadRequest
from speedrun.question_sets.models import Question, count_categories, fold_category
from speedrun.question_sets.service import SET_ID_PATTERN, decode_cursor, encode_cursor, new_set_id


def question(category: str) -> Question:
    return Question(category=category, text="Q?", options=["a", "b"], correct=[0])


def test_categories_are_counted_folded_and_shown_as_first_written() -> None:
    counts = count_categories([question("History"), question("science"), question("HISTORY"), question("history")])
    assert counts == {"History": 3, "science": 1}


def test_fold_category_ignores_case_and_surrounding_space() -> None:
    assert fold_category(" Straße ") == fold_category("STRASSE")


def test_set_ids_are_26_char_ulid_like_and_sort_by_time() -> None:
    earlier = new_set_id(1_700_000_000_000)
    later = new_set_id(1_700_000_000_001)
    assert SET_ID_PATTERN.match(earlier)
    assert SET_ID_PATTERN.match(later)
    assert earlier < later
    assert new_set_id(1_700_000_000_000) != earlier


def test_a_cursor_round_trips_and_is_urlsafe() -> None:
    set_id = new_set_id(1_700_000_000_000)
    cursor = encode_cursor(set_id)
    assert set(cursor) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert decode_cursor(cursor) == set_id


@pytest.mark.parametrize("cursor", ["%%%", "bm90IGpzb24", "eyJzZXRfaWQiOiAiLi4vZXRjIn0", "W10"])
def test_a_cursor_the_api_did_not_issue_is_a_bad_request(cursor: str) -> None:
    with pytest.raises(BadRequest) as caught:
        decode_cursor(cursor)
    assert caught.value.details == [{"field": "cursor", "reason": "not a cursor this API returned"}]

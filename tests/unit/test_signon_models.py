"""Sign-on bodies: defaults, limits, strict types, join code and name normalisation."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from speedrun.signon.models import CreateSpeedRunRequest, JoinRequest, clean_name, normalise_join_code


def fields_of(error: ValidationError) -> list[str]:
    return [".".join(str(part) for part in e["loc"]) for e in error.errors()]


def test_create_defaults() -> None:
    request = CreateSpeedRunRequest(question_set_id="s1")
    assert request.model_dump() == {
        "question_set_id": "s1",
        "name": None,
        "categories": None,
        "question_count": None,
        "shuffle": False,
        "question_duration_s": 20,
        "duration_s": None,
        "max_participants": 1000,
        "chat": False,
        "late_join": True,
        "scoring": "speed",
        "speed_tiebreak": True,
        "show_explanations": False,
    }


def test_untimed_questions_need_accuracy_scoring() -> None:
    untimed = CreateSpeedRunRequest(question_set_id="s1", question_duration_s=None, scoring="accuracy")
    assert (untimed.question_duration_s, untimed.scoring) == (None, "accuracy")
    with pytest.raises(ValidationError, match=r"untimed questions .* need scoring 'accuracy'"):
        CreateSpeedRunRequest(question_set_id="s1", question_duration_s=None)
    for bad in ("fast", 1, None):
        with pytest.raises(ValidationError):
            CreateSpeedRunRequest(question_set_id="s1", scoring=bad)  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        CreateSpeedRunRequest(question_set_id="s1", show_explanations="yes")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "good", "bad"),
    [
        ("question_duration_s", [5, 300], [4, 301, 20.5, "20", True]),
        ("duration_s", [30, 7200, None], [29, 7201]),
        ("max_participants", [1, 10000], [0, 10001]),
        ("question_count", [1, 500], [0, 501]),
        ("categories", [["a"], ["a", "B"]], [[], [""], ["x" * 41], "a"]),
        ("name", ["Friday quiz"], ["", "   ", "x" * 101]),
    ],
)
def test_create_limits(field: str, good: list[Any], bad: list[Any]) -> None:
    for value in good:
        CreateSpeedRunRequest.model_validate({"question_set_id": "s1", field: value})
    for value in bad:
        with pytest.raises(ValidationError) as raised:
            CreateSpeedRunRequest.model_validate({"question_set_id": "s1", field: value})
        assert fields_of(raised.value)[0].split(".")[0] == field, value


def test_create_name_is_trimmed() -> None:
    assert CreateSpeedRunRequest.model_validate({"question_set_id": "s", "name": "  Quiz "}).name == "Quiz"


def test_create_refuses_unknown_fields() -> None:
    with pytest.raises(ValidationError) as raised:
        CreateSpeedRunRequest.model_validate({"question_set_id": "s1", "rounds": 3})
    assert fields_of(raised.value) == ["rounds"]


@pytest.mark.parametrize(
    ("typed", "code"),
    [("abcdef", "ABCDEF"), ("ABC-DEF", "ABCDEF"), (" abc def ", "ABCDEF"), ("a-b-c d\te-f", "ABCDEF")],
)
def test_join_code_is_normalised(typed: str, code: str) -> None:
    assert normalise_join_code(typed) == code
    assert JoinRequest(join_code=typed, name="Ada").join_code == code


@pytest.mark.parametrize("typed", ["ABCDE", "ABCDEFG", "ABCDE0", "ABCDEO", "ABCDE1", "ABCDEI", "ABCDÉF", ""])
def test_join_code_outside_the_alphabet_is_refused(typed: str) -> None:
    with pytest.raises(ValidationError) as raised:
        JoinRequest(join_code=typed, name="Ada")
    assert fields_of(raised.value) == ["join_code"]


@pytest.mark.parametrize(
    ("typed", "name"),
    [
        ("  Ada  ", "Ada"),
        ("A\u0000d\u0007a", "Ada"),
        ("Ada\n", "Ada"),
        ("Ad\u200ba", "Ada"),  # zero-width space: category Cf
        ("\u202eAda", "Ada"),  # right-to-left override
        ("Zoë 🚀", "Zoë 🚀"),
        ("x" * 24, "x" * 24),
        ("\u0000" + "x" * 24, "x" * 24),  # counted after cleaning
    ],
)
def test_name_is_cleaned(typed: str, name: str) -> None:
    assert clean_name(typed) == name
    assert JoinRequest(join_code="ABCDEF", name=typed).name == name


@pytest.mark.parametrize("typed", ["", "   ", "\u0000\u0007", "x" * 25])
def test_name_length_after_cleaning(typed: str) -> None:
    with pytest.raises(ValidationError) as raised:
        JoinRequest(join_code="ABCDEF", name=typed)
    assert fields_of(raised.value) == ["name"]


@pytest.mark.parametrize("handle", ["abc", "a_b-c", "x" * 32, "007", "a--"])
def test_player_handle_accepted(handle: str) -> None:
    assert JoinRequest(join_code="ABCDEF", name="Ada", player_handle=handle).player_handle == handle


@pytest.mark.parametrize("handle", ["ab", "x" * 33, "Abc", "a b", "a.b", "ädá", "-ab", "_ab"])
def test_player_handle_refused(handle: str) -> None:
    with pytest.raises(ValidationError) as raised:
        JoinRequest(join_code="ABCDEF", name="Ada", player_handle=handle)
    assert fields_of(raised.value) == ["player_handle"]


def test_join_refuses_unknown_fields_and_non_strings() -> None:
    with pytest.raises(ValidationError) as raised:
        JoinRequest.model_validate({"join_code": "ABCDEF", "name": 5, "team": "red"})
    assert sorted(fields_of(raised.value)) == ["name", "team"]

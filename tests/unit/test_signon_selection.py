"""Which questions a run plays: category filter, count, shuffle, re-indexing."""

from __future__ import annotations

import random

import pytest

from speedrun.errors import BadRequest
from speedrun.question_sets.models import Question
from speedrun.signon import selection
from speedrun.signon.selection import select_questions


def q(n: int, category: str = "general") -> Question:
    return Question(category=category, text=f"Q{n}", options=["a", "b", "c"], correct=[n % 3], explanation=f"E{n}")


SET = [q(0, "Geography"), q(1, "history"), q(2, "geography "), q(3, "Science"), q(4, "HISTORY")]


def test_everything_in_set_order_by_default() -> None:
    frozen = select_questions(SET)
    assert [f.text for f in frozen] == ["Q0", "Q1", "Q2", "Q3", "Q4"]
    assert [f.index for f in frozen] == [0, 1, 2, 3, 4]
    assert frozen[2].category == "geography "  # as written; only the comparison is folded
    assert (frozen[1].options, frozen[1].correct, frozen[1].explanation) == (["a", "b", "c"], [1], "E1")


def test_categories_are_case_insensitive_and_reindexed() -> None:
    frozen = select_questions(SET, categories=["GEOGRAPHY", "History"])
    assert [(f.index, f.text) for f in frozen] == [(0, "Q0"), (1, "Q1"), (2, "Q2"), (3, "Q4")]


def test_count_takes_the_first_matching_without_shuffle() -> None:
    assert [f.text for f in select_questions(SET, categories=["history", "science"], question_count=2)] == ["Q1", "Q3"]


def test_every_unknown_category_is_named() -> None:
    with pytest.raises(BadRequest) as raised:
        select_questions(SET, categories=["history", "Astrology", "cooking"])
    assert "'Astrology'" in raised.value.message
    assert "'cooking'" in raised.value.message
    assert [d["field"] for d in raised.value.details] == ["categories", "categories"]


def test_more_than_available_is_refused_with_the_number_available() -> None:
    with pytest.raises(BadRequest) as raised:
        select_questions(SET, categories=["history"], question_count=3)
    assert raised.value.details == [{"field": "question_count", "reason": "at most 2 questions match"}]


def test_shuffle_draws_a_sample_with_the_given_rng() -> None:
    many = [q(n) for n in range(50)]
    first = select_questions(many, shuffle=True, question_count=10, rng=random.Random(1))
    again = select_questions(many, shuffle=True, question_count=10, rng=random.Random(1))
    other = select_questions(many, shuffle=True, question_count=10, rng=random.Random(2))
    assert [f.text for f in first] == [f.text for f in again]
    assert [f.text for f in first] != [f.text for f in other]
    assert [f.index for f in first] == list(range(10))
    assert len({f.text for f in first}) == 10


def test_shuffle_of_all_is_a_permutation() -> None:
    many = [q(n) for n in range(20)]
    frozen = select_questions(many, shuffle=True)
    assert sorted(f.text for f in frozen) == sorted(x.text for x in many)


def test_default_shuffle_uses_the_system_csprng() -> None:
    assert isinstance(selection._system_random, random.SystemRandom)


def test_empty_set_is_refused() -> None:
    with pytest.raises(BadRequest):
        select_questions([])


ORDER = Question(
    type="order", category="history", text="Oldest first", options=["Ur", "Rome", "Berlin"], correct=[0, 1, 2]
)


@pytest.mark.parametrize("seed", range(20))
def test_an_order_question_is_shown_shuffled_never_in_its_correct_order(seed: int) -> None:
    (frozen,) = select_questions([ORDER], rng=random.Random(seed))
    assert sorted(frozen.options) == sorted(ORDER.options)
    assert frozen.options != ["Ur", "Rome", "Berlin"]
    assert [frozen.options[i] for i in frozen.correct] == ["Ur", "Rome", "Berlin"]


def test_an_order_questions_correct_order_may_differ_from_its_written_one() -> None:
    written = ORDER.model_copy(update={"correct": [2, 0, 1]})  # Berlin, Ur, Rome
    for seed in range(10):
        (frozen,) = select_questions([written], rng=random.Random(seed))
        assert [frozen.options[i] for i in frozen.correct] == ["Berlin", "Ur", "Rome"]
        assert frozen.options != ["Berlin", "Ur", "Rome"]


def test_numeric_and_typed_questions_keep_their_fields() -> None:
    numeric = Question(
        type="numeric", category="maths", text="Pi?", options=[], correct=[], answer=3.14, tolerance=0.01
    )
    poll = Question(type="poll", category="survey", text="Tea?", options=["Yes", "No"], correct=[])
    frozen = select_questions([numeric, poll])
    assert [(f.type, f.answer, f.tolerance, f.correct) for f in frozen] == [
        ("numeric", 3.14, 0.01, []),
        ("poll", None, None, []),
    ]

"""What kinds of question there are and the facts of each, shared by the question sets (which validate
them), the engine (which serves and scores them) and the reports: dependency-free, so that a function
loads them without the question-set package (docs/question-sets.md, Question types)."""

from __future__ import annotations

from typing import Literal, get_args

MIN_OPTIONS = 2
MAX_OPTIONS = 8

QuestionType = Literal["choice", "true_false", "poll", "numeric", "order"]
"""`choice`: select the correct option(s) (every question written before types is one); `true_false`: two
options, one correct; `poll`: pick one option, none is correct; `numeric`: type a number, right within
`tolerance` of `answer`; `order`: put every option in the correct order."""
QUESTION_TYPES: tuple[QuestionType, ...] = get_args(QuestionType)
DEFAULT_QUESTION_TYPE: QuestionType = "choice"
TRUE_FALSE_OPTIONS = ("True", "False")
"""A true/false question's options when its file gives none; `correct` [0] is true, [1] false."""
MIN_ORDER_ITEMS = 3
"""Two items in order are a true/false question in disguise."""
MAX_ORDER_ITEMS = 6
MAX_NUMERIC_ABS = 1_000_000_000
"""A numeric question's answer and tolerance, and a participant's value, are at most this far from 0."""
OPTION_COUNTS: dict[QuestionType, tuple[int, int]] = {
    "choice": (MIN_OPTIONS, MAX_OPTIONS),
    "true_false": (len(TRUE_FALSE_OPTIONS), len(TRUE_FALSE_OPTIONS)),
    "poll": (MIN_OPTIONS, MAX_OPTIONS),
    "numeric": (0, 0),
    "order": (MIN_ORDER_ITEMS, MAX_ORDER_ITEMS),
}
"""How many options a question of each type has (fewest, most)."""


def select_count(question_type: QuestionType, option_count: int, correct_count: int) -> int:
    """How many option indexes an answer gives: every option of an order question (in order), one of a
    poll's, none for a numeric question (it is answered with a number), else one per correct option."""
    if question_type == "order":
        return option_count
    if question_type == "poll":
        return 1
    if question_type == "numeric":
        return 0
    return correct_count

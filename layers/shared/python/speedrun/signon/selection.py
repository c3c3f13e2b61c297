"""Which questions of a set a run plays: category filter, count, order; then frozen for the engine."""

from __future__ import annotations

import random
from collections.abc import Sequence

from speedrun.engine.models import FrozenQuestion
from speedrun.errors import BadRequest
from speedrun.question_sets.models import Question, fold_category

_system_random = random.SystemRandom()
"""Shuffles come from the OS's CSPRNG: a participant must not be able to predict the next question."""


def select_questions(
    questions: Sequence[Question],
    *,
    categories: Sequence[str] | None = None,
    question_count: int | None = None,
    shuffle: bool = False,
    rng: random.Random = _system_random,
) -> list[FrozenQuestion]:
    """The run's questions, re-indexed 0..n-1.

    `categories` (compared case-insensitively) must each exist in the set; without `shuffle` the
    set's order is kept and the first `question_count` matching questions are taken.
    """
    pool = list(questions)
    if categories:
        available = {fold_category(question.category) for question in pool}
        wanted = {fold_category(category) for category in categories}
        unknown = [category for category in categories if fold_category(category) not in available]
        if unknown:
            names = ", ".join(repr(category) for category in unknown)
            raise BadRequest(
                f"unknown categories: {names}",
                details=[
                    {"field": "categories", "reason": f"not in the question set: {category!r}"} for category in unknown
                ],
            )
        pool = [question for question in pool if fold_category(question.category) in wanted]
    count = len(pool) if question_count is None else question_count
    if count > len(pool):
        raise BadRequest(
            f"question_count {count} is more than the {len(pool)} matching questions",
            details=[{"field": "question_count", "reason": f"at most {len(pool)} questions match"}],
        )
    if not pool:
        raise BadRequest("the question set has no questions", details=[{"field": "question_set_id", "reason": "empty"}])
    chosen = rng.sample(pool, count) if shuffle else pool[:count]
    return [
        FrozenQuestion(
            index=index,
            category=question.category,
            text=question.text,
            options=list(question.options),
            correct=list(question.correct),
            explanation=question.explanation,
            image=question.image,
            option_images=None if question.option_images is None else list(question.option_images),
        )
        for index, question in enumerate(chosen)
    ]

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
    return [freeze(index, question, rng) for index, question in enumerate(chosen)]


def freeze(index: int, question: Question, rng: random.Random = _system_random) -> FrozenQuestion:
    """The question as the run plays it. An order question's items are shown in a shuffled order that
    is never the correct one (else the screen would give the answer away); `correct` then lists the
    shown indexes in the correct order."""
    options = list(question.options)
    correct = list(question.correct)
    option_images = None if question.option_images is None else list(question.option_images)
    if question.type == "order":
        shown = list(range(len(options)))
        rng.shuffle(shown)
        while shown == correct:
            rng.shuffle(shown)
        position = {original: place for place, original in enumerate(shown)}
        options = [question.options[original] for original in shown]
        correct = [position[original] for original in question.correct]
        if question.option_images is not None:
            option_images = [question.option_images[original] for original in shown]
    return FrozenQuestion(
        index=index,
        type=question.type,
        category=question.category,
        text=question.text,
        options=options,
        correct=correct,
        explanation=question.explanation,
        image=question.image,
        option_images=option_images,
        answer=question.answer,
        tolerance=question.tolerance,
    )

"""Question sets: parse and validate uploads (JSON, CSV, the earlier array format), store them immutably.

Sign-on freezes a run's questions with `load_questions(owner, set_id)`.
"""

from speedrun.question_sets.models import (
    MAX_FILE_BYTES,
    MAX_QUESTIONS,
    Question,
    QuestionSetMetadata,
    QuestionSetPage,
    StoredQuestionSet,
    count_categories,
    fold_category,
)
from speedrun.question_sets.parsing import parse_question_set
from speedrun.question_sets.service import QuestionSetService, default_service, load_questions

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_QUESTIONS",
    "Question",
    "QuestionSetMetadata",
    "QuestionSetPage",
    "QuestionSetService",
    "StoredQuestionSet",
    "count_categories",
    "default_service",
    "fold_category",
    "load_questions",
    "parse_question_set",
]

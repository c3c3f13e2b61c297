"""The sample sets in examples/ (the local stack loads them at start) pass every rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from speedrun.question_sets.models import count_categories
from speedrun.question_sets.parsing import parse_question_set
from speedrun.question_types import QUESTION_TYPES

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
SAMPLES = [
    ("general-knowledge.json", "json", True),
    ("science-and-nature.csv", "csv", True),
    ("earlier-tool-array.json", "json_array", True),
    ("kahoot-template.xlsx", "kahoot_xlsx", True),
    ("generic.xlsx", "xlsx", True),
    ("all-question-types.json", "json", True),
    ("all-question-types.csv", "csv", True),
    # Open Trivia DB questions have exactly one correct answer each.
    ("opentdb.json", "opentdb", False),
]


@pytest.mark.parametrize(("file_name", "source_format", "multi_select"), SAMPLES)
def test_each_example_is_a_valid_realistic_set(file_name: str, source_format: str, multi_select: bool) -> None:
    parsed = parse_question_set((EXAMPLES / file_name).read_bytes())
    assert parsed.source_format == source_format
    assert 10 <= len(parsed.questions) <= 30
    assert len(count_categories(parsed.questions)) >= 3
    assert any(question.select_count > 1 for question in parsed.questions) is multi_select


def test_every_file_in_examples_is_checked() -> None:
    assert sorted(path.name for path in EXAMPLES.iterdir()) == sorted(name for name, _, _ in SAMPLES)


def test_the_question_types_examples_have_every_type_with_explanations_and_agree() -> None:
    """The same ten questions in the JSON object format and in the CSV columns."""
    from_json = parse_question_set((EXAMPLES / "all-question-types.json").read_bytes())
    from_csv = parse_question_set((EXAMPLES / "all-question-types.csv").read_bytes())
    assert from_json.questions == from_csv.questions
    assert sorted({question.type for question in from_json.questions}) == sorted(QUESTION_TYPES)
    assert all(question.explanation for question in from_json.questions)

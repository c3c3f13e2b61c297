"""The sample sets in examples/ (the local stack loads them at start) pass every rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from speedrun.question_sets.models import count_categories
from speedrun.question_sets.parsing import parse_question_set

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize(
    ("file_name", "source_format"),
    [
        ("general-knowledge.json", "json"),
        ("science-and-nature.csv", "csv"),
        ("earlier-tool-array.json", "json_array"),
    ],
)
def test_each_example_is_a_valid_realistic_set(file_name: str, source_format: str) -> None:
    parsed = parse_question_set((EXAMPLES / file_name).read_bytes())
    assert parsed.source_format == source_format
    assert 10 <= len(parsed.questions) <= 30
    assert len(count_categories(parsed.questions)) >= 3
    assert any(question.select_count > 1 for question in parsed.questions)

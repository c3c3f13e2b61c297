"""Property tests: whatever file is uploaded, the reply is 201 or a 400/413 naming the problem, never a 5xx,
and a refused upload writes nothing (no file in the store, no metadata item)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from moto import mock_aws

import lambdas.question_sets.handler as question_sets_function
from speedrun.adapters import tables
from speedrun.adapters.tables import QuestionSetModel
from speedrun.question_types import QUESTION_TYPES
from tests.support.fakes import FakeLambdaContext
from tests.support.question_sets import body_of, question_store_at, sample_question, upload_event, workbook_bytes

EXAMPLES = Path(__file__).resolve().parents[3] / "examples"
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_owners = itertools.count()

VALID_JSON = json.dumps({"name": "fuzz", "questions": [sample_question(n, f"cat{n % 3}") for n in range(4)]})
VALID_CSV = (
    "category,question,option_1,option_2,option_3,correct,explanation\r\n"
    "geo,Capital of Peru?,Lima,Cusco,,1,Lima since 1535.\r\n"
    'science,"Pick the gases, two",Helium,Iron,Neon,1;3,\r\n'
)
TYPED_CSV = (EXAMPLES / "all-question-types.csv").read_text()
"""Every question type in the CSV columns (type, answer and tolerance included)."""
XLSX_CSV_HEADER = ["category", "question", "option_1", "option_2", "option_3", "correct"]
XLSX_TYPED_HEADER = [
    "type",
    "category",
    "question",
    "option_1",
    "option_2",
    "option_3",
    "correct",
    "answer",
    "tolerance",
]
KAHOOT_HEADER = [
    "",
    "Question - max 120 characters",
    "Answer 1",
    "Answer 2",
    "Answer 3",
    "Time limit (sec)",
    "Correct answer(s)",
]
VALID_XLSX = workbook_bytes(
    {"Quiz": [["Quiz template"], [], XLSX_CSV_HEADER, ["geo", "Capital of Peru?", "Lima", "Cusco", None, 1]]}
)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("fuzz-question-sets")
    with mock_aws(), pytest.MonkeyPatch.context() as patch, question_store_at(folder, patch):
        tables.create_all()
        yield folder


def upload_and_check(store: Path, content: bytes, name: str | None = None) -> int:
    owner = f"fuzz-{next(_owners)}"
    files_before = set(store.iterdir()) if store.exists() else set()
    response = question_sets_function.handler(upload_event(content, sub=owner, name=name), FakeLambdaContext())
    status = response["statusCode"]
    body = body_of(response)
    files_after = set(store.iterdir()) if store.exists() else set()
    items = list(QuestionSetModel.query(owner))
    assert not any(path.name.startswith(".incoming-") for path in files_after), "a temp file was left behind"
    if status == 201:
        assert files_after - files_before == {store / f"{body['id']}.json"}
        assert [item.set_id for item in items] == [body["id"]]
        assert body["question_count"] == sum(body["categories"].values())
    else:
        assert status in (400, 413), response
        assert body["error"]["code"] in ("bad_request", "too_large")
        assert body["error"]["message"].strip()
        assert files_after == files_before
        assert items == []
    return status


def mutate(text: str, data: st.DataObject) -> bytes:
    """A few random edits: cut a slice, insert junk, swap a character, or truncate."""
    edits = data.draw(st.integers(min_value=1, max_value=4))
    for _ in range(edits):
        position = data.draw(st.integers(min_value=0, max_value=len(text)))
        kind = data.draw(st.sampled_from(["cut", "insert", "replace", "truncate"]))
        if kind == "cut":
            text = text[:position] + text[position + data.draw(st.integers(1, 20)) :]
        elif kind == "insert":
            text = text[:position] + data.draw(st.text(max_size=8)) + text[position:]
        elif kind == "replace" and position < len(text):
            text = text[:position] + data.draw(st.characters()) + text[position + 1 :]
        else:
            text = text[:position]
    return text.encode("utf-8", "surrogatepass")


def mutate_bytes(content: bytes, data: st.DataObject) -> bytes:
    """A few random byte edits: overwrite, cut or truncate (most break the zip's CRCs or structure)."""
    edits = data.draw(st.integers(min_value=1, max_value=4))
    for _ in range(edits):
        position = data.draw(st.integers(min_value=0, max_value=max(len(content) - 1, 0)))
        kind = data.draw(st.sampled_from(["overwrite", "cut", "truncate"]))
        if kind == "overwrite":
            content = content[:position] + data.draw(st.binary(min_size=1, max_size=4)) + content[position + 1 :]
        elif kind == "cut":
            content = content[:position] + content[position + data.draw(st.integers(1, 64)) :]
        else:
            content = content[:position]
    return content


cell_text = st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=12)
"""Text a cell can hold: XML carries no control characters and no lone surrogates."""
cell_values = (
    st.none()
    | cell_text
    | st.sampled_from([*QUESTION_TYPES, "true", "1;2;3", "1e3", "-0.5"])
    | st.integers(-3, 12)
    | st.floats(allow_nan=False)
    | st.booleans()
)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 10) | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5),
    max_leaves=25,
)

plausible_questions = st.fixed_dictionaries(
    {},
    optional={
        "category": st.one_of(st.text(max_size=45), json_values),
        "text": st.one_of(st.text(max_size=20), json_values),
        "question": st.text(max_size=20),
        "options": st.one_of(st.lists(st.text(max_size=6), max_size=9), json_values),
        "correct": st.one_of(st.lists(st.integers(-1, 9), max_size=4), json_values),
        "answers": st.lists(st.integers(0, 3), max_size=3),
        "explanation": st.one_of(st.none(), st.text(max_size=20), json_values),
        "type": st.one_of(st.sampled_from([*QUESTION_TYPES, "Poll", ""]), json_values),
        "answer": st.one_of(st.floats(), st.integers(-(10**12), 10**12), json_values),
        "tolerance": st.one_of(st.floats(), st.integers(-5, 10**10), json_values),
    },
)


@FUZZ
@given(content=st.binary(max_size=2048))
def test_random_bytes(store: Path, content: bytes) -> None:
    upload_and_check(store, content)


@FUZZ
@given(data=st.data())
def test_mutated_valid_json(store: Path, data: st.DataObject) -> None:
    upload_and_check(store, mutate(VALID_JSON, data))


@FUZZ
@given(data=st.data())
def test_mutated_valid_csv(store: Path, data: st.DataObject) -> None:
    upload_and_check(store, mutate(VALID_CSV, data))


@FUZZ
@given(data=st.data())
def test_mutated_valid_typed_csv(store: Path, data: st.DataObject) -> None:
    upload_and_check(store, mutate(TYPED_CSV, data))


@FUZZ
@given(data=st.data())
def test_mutated_valid_xlsx(store: Path, data: st.DataObject) -> None:
    upload_and_check(store, mutate_bytes(VALID_XLSX, data))


@FUZZ
@given(
    header=st.sampled_from([XLSX_CSV_HEADER, XLSX_TYPED_HEADER, KAHOOT_HEADER]),
    rows=st.lists(st.lists(cell_values, max_size=9), max_size=6),
    title_rows=st.integers(0, 3),
)
def test_random_sheet_cells(store: Path, header: list[str], rows: list[list[Any]], title_rows: int) -> None:
    sheet: list[list[Any]] = [["title"]] * title_rows + [header, *rows]
    upload_and_check(store, workbook_bytes({"Sheet1": sheet}))


@FUZZ
@given(document=json_values)
def test_random_json_structures(store: Path, document: Any) -> None:
    upload_and_check(store, json.dumps(document).encode())


@FUZZ
@given(
    questions=st.lists(plausible_questions, min_size=0, max_size=6),
    as_array=st.booleans(),
    name=st.none() | st.text(max_size=120),
)
def test_random_question_lists(store: Path, questions: list[dict[str, Any]], as_array: bool, name: str | None) -> None:
    document: Any = questions if as_array else {"questions": questions}
    upload_and_check(store, json.dumps(document).encode(), name=name)


def test_the_valid_seeds_are_accepted(store: Path) -> None:
    """The mutation tests start from files that pass, so they probe the edge between accept and refuse."""
    assert upload_and_check(store, VALID_JSON.encode()) == 201
    assert upload_and_check(store, VALID_CSV.encode()) == 201
    assert upload_and_check(store, TYPED_CSV.encode()) == 201
    assert upload_and_check(store, VALID_XLSX) == 201

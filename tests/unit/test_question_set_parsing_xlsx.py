""".xlsx question sets: Kahoot!'s quiz template and the CSV columns in a sheet; header found by its
cells, problems located by sheet and row, the zip checked before openpyxl reads it."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook

from speedrun.errors import BadRequest, DomainError
from speedrun.question_sets.models import MAX_QUESTIONS
from speedrun.question_sets.parsing import QuestionSetInvalid, parse_question_set
from speedrun.question_sets.spreadsheet import MAX_ROWS, MAX_UNCOMPRESSED_BYTES
from tests.support.question_sets import workbook_bytes

ROOT = Path(__file__).resolve().parents[2]
KAHOOT_TITLE_ROWS: list[list[Any]] = [
    ["", "Quiz template"],
    ["", "Add questions, at least two answer alternatives, time limit and choose correct answers (at least one)."],
    [],
    ["", "If several answers are correct, separate them with a comma."],
    [],
    [],
    [],
]
KAHOOT_HEADER = [
    "",
    "Question - max 120 characters",
    "Answer 1 - max 75 characters",
    "Answer 2 - max 75 characters",
    "Answer 3 - max 75 characters",
    "Answer 4 - max 75 characters",
    "Time limit (sec) – 5, 10, 20, 30, 60, 90, 120, or 240 secs",  # noqa: RUF001 (Kahoot's own en dash)
    "Correct answer(s) - choose at least one",
]
KAHOOT_FIRST_ROW = len(KAHOOT_TITLE_ROWS) + 2  # the row number of the first question, as Excel shows it
CSV_HEADER = ["category", "question", "option_1", "option_2", "option_3", "option_4", "correct", "explanation"]


def kahoot_sheet(*questions: list[Any], header: list[str] = KAHOOT_HEADER) -> list[list[Any]]:
    """Kahoot's template: title rows, the header in row 8, the questions numbered in column A."""
    return [*KAHOOT_TITLE_ROWS, header, *([number, *row] for number, row in enumerate(questions, start=1))]


def kahoot_file(*questions: list[Any], title: str = "Sheet1", header: list[str] = KAHOOT_HEADER) -> bytes:
    return workbook_bytes({title: kahoot_sheet(*questions, header=header)})


def csv_sheet_file(*rows: list[Any], header: list[str] = CSV_HEADER, title: str = "Sheet1") -> bytes:
    return workbook_bytes({title: [header, *rows]})


def refusal(content: bytes) -> DomainError:
    with pytest.raises(DomainError) as caught:
        parse_question_set(content)
    return caught.value


def zip_file(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


# --- Kahoot's template ---


def test_kahoots_template_parses_below_its_title_rows_with_comma_separated_correct_answers() -> None:
    parsed = parse_question_set(
        kahoot_file(
            ["Capital of Canada?", "Toronto", "Ottawa", "Vancouver", "Montreal", 20, 2],
            ["Noble gases? (pick two)", "Helium", "Oxygen", "Neon", "Iron", 30, "1,3"],
            ["Kilimanjaro is in?", "Kenya", "Tanzania", None, None, 20, "2"],
        )
    )
    assert parsed.source_format == "kahoot_xlsx"
    assert parsed.name is None
    first, second, third = parsed.questions
    assert (first.text, first.options, first.correct) == (
        "Capital of Canada?",
        ["Toronto", "Ottawa", "Vancouver", "Montreal"],
        [1],
    )
    assert second.correct == [0, 2]
    assert third.options == ["Kenya", "Tanzania"]
    assert {question.category for question in parsed.questions} == {"General"}  # an untitled sheet names none
    assert all(question.explanation is None for question in parsed.questions)


def test_the_options_are_the_filled_answers_and_correct_numbers_follow_them() -> None:
    [question] = parse_question_set(kahoot_file(["Pick the even one", "3", "", "5", "8", 20, "4"])).questions
    assert question.options == ["3", "5", "8"]
    assert question.options[question.correct[0]] == "8"


def test_each_sheet_title_is_its_questions_category() -> None:
    content = workbook_bytes(
        {
            "Geography": kahoot_sheet(["Capital of Peru?", "Lima", "Cusco", "", "", 20, 1]),
            "Sheet 2": kahoot_sheet(["2 + 2?", "4", "5", "", "", 5, 1]),
            "History": kahoot_sheet(["Year of the Moon landing?", 1969, 1972, "", "", 20, 1]),
        }
    )
    parsed = parse_question_set(content)
    assert [(q.category, q.options) for q in parsed.questions] == [
        ("Geography", ["Lima", "Cusco"]),
        ("General", ["4", "5"]),
        ("History", ["1969", "1972"]),
    ]


def test_the_time_limit_and_the_numbering_column_are_not_read() -> None:
    # A question set has no per-question time (the run sets it): any value is accepted and dropped.
    content = kahoot_file(["Q?", "a", "b", "", "", "forever", 1])
    [question] = parse_question_set(content).questions
    assert question.model_dump().keys() == {
        "type",
        "category",
        "text",
        "options",
        "correct",
        "explanation",
        "image",
        "option_images",
        "answer",
        "tolerance",
    }
    assert question.type == "choice"  # Kahoot's template has choice questions only
    rows = [*KAHOOT_TITLE_ROWS, KAHOOT_HEADER, [1, "Q?", "a", "b", "", "", 20, 1], [2], [3], [4]]
    assert len(parse_question_set(workbook_bytes({"Sheet1": rows})).questions) == 1  # numbered, empty rows


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        (["", "a", "b", "", "", 20, 1], "question", "must not be empty"),
        (["Q?", "a", "", "", "", 20, 1], "answers", "must have 2 to 8 options (has 1)"),
        (["Q?", "a", "a", "", "", 20, 1], "answers", "duplicate option 'a' (answer 1 and answer 2)"),
        (["Q?", "a", "o" * 201, "", "", 20, 1], "answer 2", "must be at most 200 characters (has 201)"),
        (["Q?", "a", "b", "", "", 20, None], "correct answer(s)", "is required: answer numbers such as 1 or 1,3"),
        (["Q?", "a", "b", "", "", 20, 5], "correct answer(s)", "5 is out of range: options are numbered 1..4"),
        (["Q?", "a", "b", "", "", 20, 3], "correct answer(s)", "answer 3 is empty"),
        (["Q?", "a", "b", "", "", 20, "1,1"], "correct answer(s)", "correct options must be distinct (got [1, 1])"),
        (
            ["Q?", "a", "b", "", "", 20, "1;2"],
            "correct answer(s)",
            "must be answer numbers separated by ',' such as 1 or 1,3 (got '1;2')",
        ),
        (
            ["Q?", "a", "b", "", "", 20, "A"],
            "correct answer(s)",
            "must be answer numbers separated by ',' such as 1 or 1,3 (got 'A')",
        ),
    ],
)
def test_each_kahoot_row_rule_names_the_sheet_and_row(row: list[Any], field: str, reason: str) -> None:
    error = refusal(kahoot_file(row, title="Quiz"))
    assert error.details == [{"sheet": "Quiz", "row": KAHOOT_FIRST_ROW, "field": field, "reason": reason}]
    assert error.message.endswith(f"first: sheet 'Quiz' row {KAHOOT_FIRST_ROW}, {field}: {reason}")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (KAHOOT_HEADER[:-1], "missing column(s): correct answer(s)"),
        (
            [*KAHOOT_HEADER[:3], "Answer 3", "Answer 4", *KAHOOT_HEADER[6:]],
            "answer columns must be Answer 1..Answer N without gaps (found [1, 3, 4])",
        ),
        (
            [*KAHOOT_HEADER[:6], *(f"Answer {n}" for n in range(5, 10)), *KAHOOT_HEADER[6:]],
            "needs 2 to 8 answer columns Answer 1..Answer N (has 9)",
        ),
        ([*KAHOOT_HEADER, "Answer 2"], "more than one column for answer 2"),
        ([*KAHOOT_HEADER, "Question (again)"], "more than one question column"),
    ],
)
def test_kahoot_header_problems_name_the_header_row(header: list[str], reason: str) -> None:
    error = refusal(kahoot_file(["Q?", "a", "b", "", "", 20, 1], header=header))
    assert isinstance(error, BadRequest)
    assert error.details == [{"sheet": "Sheet1", "row": KAHOOT_FIRST_ROW - 1, "field": "header", "reason": reason}]
    assert "Correct answer(s)" in error.message  # the expected header is spelled out


# --- the CSV columns in a sheet ---


def test_a_sheet_with_the_csv_columns_reads_like_the_csv_format() -> None:
    parsed = parse_question_set(
        csv_sheet_file(
            ["geography", "Capital of Australia?", "Sydney", "Canberra", "Melbourne", "Perth", 2, "Chosen in 1908."],
            ["science", "Noble gases, pick two", "Helium", "Oxygen", "Neon", None, "1;3", None],
            ["history", "Moon landing?", 1969, 1972.0, None, None, 1.0, None],
        )
    )
    assert parsed.source_format == "xlsx"
    first, second, third = parsed.questions
    assert (first.category, first.options[first.correct[0]], first.explanation) == (
        "geography",
        "Canberra",
        "Chosen in 1908.",
    )
    assert (second.options, second.correct, second.explanation) == (["Helium", "Oxygen", "Neon"], [0, 2], None)
    assert (third.options, third.correct) == (["1969", "1972"], [0])  # numbers read as the sheet shows them


def test_csv_columns_may_be_reordered_cased_and_sit_below_a_title_row() -> None:
    rows: list[list[Any]] = [
        ["My quiz"],
        [],
        ["Correct", "CATEGORY", "Question", "option_1", "option_2"],
        [2, "geo", "Q?", "a", "b"],
    ]
    [question] = parse_question_set(workbook_bytes({"Quiz": rows})).questions
    assert (question.category, question.correct) == ("geo", [1])


@pytest.mark.parametrize(
    ("row", "field", "reason"),
    [
        (["geo", "", "a", "b", None, None, 1], "question", "must not be empty"),
        (["geo", "Q", "a", "b", None, None, 9], "correct", "9 is out of range: options are numbered 1..2"),
        (["geo", "Q", "a", None, "c", None, 1], "option_2", "must not be empty"),
        (["", "Q", "a", "b", None, None, 1], "category", "must not be empty"),
        (["geo", "Q", "a", "b", None, None, 1, None, "stray"], "row", "has 9 cells but the header has 8 columns"),
    ],
)
def test_each_csv_row_rule_names_the_sheet_and_row(row: list[Any], field: str, reason: str) -> None:
    error = refusal(csv_sheet_file(["geo", "Fine?", "a", "b", None, None, 1], row, title="Questions"))
    assert error.details == [{"sheet": "Questions", "row": 3, "field": field, "reason": reason}]


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (["category", "question", "option_1", "option_2"], "missing column(s): correct"),
        (
            ["category", "question", *(f"option_{n}" for n in range(1, 10)), "correct"],
            "needs 2 to 8 option columns option_1..option_N (has 9)",
        ),
        (["category", "question", "option_1", "option_2", "correct", "difficulty"], "unknown column 'difficulty'"),
    ],
)
def test_csv_header_problems_name_the_sheet_and_row(header: list[str], reason: str) -> None:
    error = refusal(csv_sheet_file(["geo", "Q", "a", "b", 1], header=header))
    assert error.details == [{"sheet": "Sheet1", "row": 1, "field": "header", "reason": reason}]
    assert "category,question,option_1,...,option_N,correct[,explanation]" in error.message


# --- the workbook as a whole ---


def test_every_problem_of_every_sheet_is_reported_in_order() -> None:
    content = workbook_bytes(
        {
            "Geo": [CSV_HEADER, ["geo", "Q1", "a", "b", None, None, 1], ["geo", "", "a", "b", None, None, 3]],
            "Notes": [],
            "Sci": [CSV_HEADER, [], ["sci", "Q3", "x", "x", None, None, 1]],
        }
    )
    error = refusal(content)
    assert isinstance(error, QuestionSetInvalid)
    assert error.details == [
        {"sheet": "Geo", "row": 3, "field": "question", "reason": "must not be empty"},
        {"sheet": "Geo", "row": 3, "field": "correct", "reason": "3 is out of range: options are numbered 1..2"},
        {"sheet": "Sci", "row": 3, "field": "options", "reason": "duplicate option 'x' (option_1 and option_2)"},
    ]
    assert error.message.startswith("invalid question set (3 problems); first: sheet 'Geo' row 3, question:")


def test_a_sheet_without_a_header_row_is_refused_by_name() -> None:
    content = workbook_bytes({"Quiz": [["Capital of Peru?", "Lima", "Cusco", 1]]})
    error = refusal(content)
    assert error.details == [
        {
            "sheet": "Quiz",
            "field": "header",
            "reason": "no header row (a row with a question column) in the first 20 rows",
        }
    ]
    assert "Kahoot's Question, Answer 1" in error.message


def test_one_workbook_uses_one_layout() -> None:
    content = workbook_bytes(
        {"Kahoot": kahoot_sheet(["Q?", "a", "b", "", "", 20, 1]), "Plain": [CSV_HEADER, ["geo", "Q", "a", "b"]]}
    )
    assert refusal(content).details == [
        {
            "sheet": "Plain",
            "row": 1,
            "field": "header",
            "reason": (
                "has the CSV columns layout but sheet 'Kahoot' has the Kahoot layout: use one layout per workbook"
            ),
        }
    ]


def test_hidden_sheets_are_not_read() -> None:
    workbook = Workbook()
    visible = workbook.active
    for row in [CSV_HEADER, ["geo", "Q", "a", "b", None, None, 1]]:
        visible.append(row)
    workbook.create_sheet("Lookup").append(["not", "a", "question", "sheet"])
    workbook["Lookup"].sheet_state = "hidden"
    out = io.BytesIO()
    workbook.save(out)
    assert len(parse_question_set(out.getvalue()).questions) == 1


def test_a_workbook_without_questions_is_refused() -> None:
    assert refusal(workbook_bytes({"Sheet1": []})).message == "the set has no questions"
    assert refusal(csv_sheet_file()).message == "the set has no questions"


def test_more_than_500_question_rows_are_refused_with_the_limit() -> None:
    error = refusal(csv_sheet_file(*[["geo", "Q", "a", "b", None, None, 1]] * (MAX_QUESTIONS + 1)))
    assert "at most 500" in error.message


def test_rows_past_the_read_limit_are_refused_before_any_question_is_checked() -> None:
    workbook = Workbook()
    workbook.active.cell(row=MAX_ROWS + 1, column=1, value="far away")
    out = io.BytesIO()
    workbook.save(out)
    error = refusal(out.getvalue())
    assert error.details == [
        {
            "field": "file",
            "reason": (
                f"more than {MAX_ROWS} rows (sheet 'Sheet' reaches past them); a question set has at most 500 questions"
            ),
        }
    ]


# --- not a workbook, or a hostile one ---


def test_a_zip_that_is_not_a_workbook_is_refused() -> None:
    error = refusal(zip_file({"word/document.xml": b"<document/>", "readme.txt": b"hello"}))
    assert error.status == 400
    assert error.details == [
        {"field": "file", "reason": "a zip archive without xl/workbook.xml, so not an Excel workbook"}
    ]
    assert error.message.startswith("cannot read the file as an .xlsx workbook")


def test_a_zip_bomb_is_refused_on_its_declared_sizes_before_openpyxl_reads_it(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_openpyxl(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("openpyxl was asked to read a zip bomb")

    monkeypatch.setattr("openpyxl.load_workbook", no_openpyxl)
    bomb = zip_file(
        {"xl/workbook.xml": b"<workbook/>", "xl/worksheets/sheet1.xml": b"\0" * (MAX_UNCOMPRESSED_BYTES + 1)}
    )
    assert len(bomb) < 100_000
    error = refusal(bomb)
    assert error.status == 400
    [detail] = error.details or []
    assert detail["field"] == "file"
    assert f"at most {MAX_UNCOMPRESSED_BYTES} are read" in detail["reason"]


@pytest.mark.parametrize(
    "content",
    [
        b"PK\x03\x04" + b"\x00" * 40,
        zip_file({"xl/workbook.xml": b"<not-a-workbook"}),
        zip_file({"xl/workbook.xml": b"<workbook/>"}),
    ],
    ids=["truncated-zip", "broken-xml", "no-content-types"],
)
def test_a_broken_workbook_is_a_bad_request_not_a_crash(content: bytes) -> None:
    error = refusal(content)
    assert error.status == 400
    assert error.message.startswith("cannot read the file as an .xlsx workbook: ")
    assert [detail["field"] for detail in error.details or []] == ["file"]


def test_a_truncated_real_workbook_is_a_bad_request() -> None:
    content = csv_sheet_file(["geo", "Q", "a", "b", None, None, 1])
    for cut in (len(content) // 3, len(content) // 2, len(content) - 10):
        assert refusal(content[:cut]).status == 400


# --- cold start ---


def test_importing_the_parser_or_the_upload_handler_does_not_import_openpyxl() -> None:
    code = "import sys, speedrun.question_sets.parsing, lambdas.question_sets.handler; print('openpyxl' in sys.modules)"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "shared" / "python")])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT, check=True)
    assert result.stdout.strip() == "False"

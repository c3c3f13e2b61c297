"""The engine's edge: frame envelope and action fields (no Redis), frames, script sources."""

from __future__ import annotations

import json
from typing import Any

import pytest

from speedrun.engine import frames
from speedrun.engine.requests import (
    MAX_FRAME_BYTES,
    AnswerFields,
    KickFields,
    MessageFields,
    QuestionFields,
    parse_fields,
    read_envelope,
)
from speedrun.engine.scripts import LUA_CONSTANTS, SCRIPT_NAMES, script_source
from speedrun.engine.store import DEFAULT_RUN_DURATION_S, run_duration_s
from speedrun.errors import BadRequest, TooLarge
from tests.support.engine_harness import run_config


def test_envelope_carries_body_and_request_id() -> None:
    envelope = read_envelope(json.dumps({"action": "ping", "request_id": "r" * 64}))
    assert envelope.body == {"action": "ping", "request_id": "r" * 64}
    assert envelope.request_id == "r" * 64
    assert read_envelope('{"action": "ping"}').request_id is None


def test_frame_of_exactly_32_kib_is_read_and_one_byte_more_is_too_large() -> None:
    prefix = '{"action":"message","content":"'
    exact = prefix + "x" * (MAX_FRAME_BYTES - len(prefix) - 2) + '"}'
    assert len(exact.encode()) == MAX_FRAME_BYTES
    assert read_envelope(exact).body["action"] == "message"
    with pytest.raises(TooLarge):
        read_envelope(exact[:-2] + 'x"}')


def test_frame_size_counts_utf8_bytes_not_characters() -> None:
    frame = json.dumps({"action": "message", "content": "é" * (MAX_FRAME_BYTES // 2)}, ensure_ascii=False)
    assert len(frame) < MAX_FRAME_BYTES < len(frame.encode())
    with pytest.raises(TooLarge):
        read_envelope(frame)


@pytest.mark.parametrize(
    "raw",
    ["not json", "", "[1, 2]", '"ping"', '{"action": "ping", "request_id": 7}', json.dumps({"request_id": "r" * 65})],
)
def test_malformed_envelopes_are_bad_requests(raw: str) -> None:
    with pytest.raises(BadRequest):
        read_envelope(raw)


@pytest.mark.parametrize(
    "body",
    [
        {"index": 0},
        {"index": 0, "selected": []},
        {"index": 0, "selected": [1, 1]},
        {"index": 0, "selected": ["1"]},
        {"index": 0, "selected": [1.5]},
        {"index": 0, "selected": [True]},
        {"index": 0, "selected": 1},
        {"index": -1, "selected": [1]},
        {"index": "0", "selected": [1]},
        {"selected": [1]},
    ],
)
def test_malformed_answers_are_bad_requests(body: dict[str, Any]) -> None:
    with pytest.raises(BadRequest):
        parse_fields(AnswerFields, body)


def test_answer_fields_keep_the_selection_order() -> None:
    fields = parse_fields(AnswerFields, {"action": "answer", "index": 3, "selected": [2, 0], "request_id": "x"})
    assert (fields.index, fields.selected) == (3, [2, 0])


def test_question_index_must_be_a_non_negative_integer() -> None:
    assert parse_fields(QuestionFields, {"index": 4}).index == 4
    for index in (-1, 1.0, "1", None, False):
        with pytest.raises(BadRequest):
            parse_fields(QuestionFields, {"index": index})


def test_message_content_is_1_to_500_characters() -> None:
    assert parse_fields(MessageFields, {"to": "all", "content": "é" * 500}).content == "é" * 500
    for content in ("", "x" * 501, 5):
        with pytest.raises(BadRequest, match="content"):
            parse_fields(MessageFields, {"to": "all", "content": content})
    with pytest.raises(BadRequest, match="to"):
        parse_fields(MessageFields, {"content": "hi"})


def test_kick_needs_a_participant_id() -> None:
    assert parse_fields(KickFields, {"participant_id": "abc"}).participant_id == "abc"
    with pytest.raises(BadRequest):
        parse_fields(KickFields, {"participant_id": ""})


def test_participants_see_the_top_ten_and_the_host_everyone() -> None:
    entries = [{"rank": i + 1} for i in range(25)]
    assert frames.board_for(entries, host=True) == entries
    assert frames.board_for(entries, host=False) == entries[:10]
    board = frames.leaderboard(entries, 25, host=False)
    assert board == {"type": "leaderboard", "entries": entries[:10], "participant_count": 25}


def test_host_lists_are_cut_to_the_longest_prefix_that_fits_one_websocket_message() -> None:
    # 24-character names of 4-byte characters: the largest entries a run can have.
    entries = [
        {"rank": i + 1, "participant_id": f"p{i:011d}", "name": "\U0001f600" * 24, "score": 9999, "answered": 20}
        for i in range(2_000)
    ]
    board = frames.board_for(entries, host=True)
    assert 0 < len(board) < len(entries)
    assert board == entries[: len(board)]
    assert len(json.dumps(board, separators=(",", ":"), ensure_ascii=False).encode()) <= frames.HOST_LIST_BUDGET_BYTES
    one_more = entries[: len(board) + 1]
    assert len(json.dumps(one_more, separators=(",", ":"), ensure_ascii=False).encode()) > frames.HOST_LIST_BUDGET_BYTES
    frame = frames.completed(
        {"reason": "deadline", "completed_at": 1, "leaderboard": entries, "participant_count": 2_000}, host=True
    )
    assert frame["participant_count"] == 2_000  # the client can tell the board was cut
    assert len(json.dumps(frame, ensure_ascii=False).encode()) < frames.MESSAGE_LIMIT_BYTES
    assert frames.board_for(entries, host=False) == entries[:10]


def test_times_named_at_are_iso_and_deadlines_are_epoch_ms() -> None:
    frame = frames.question(
        {"index": 0, "question_type": "choice", "category": "c", "text": "t", "options": ["a", "b"], "select_count": 1}
        | {"served_at": 1_800_000_000_000, "deadline": 1_800_000_020_000}
    )
    assert frame["served_at"] == "2027-01-15T08:00:00.000Z"
    assert frame["deadline"] == 1_800_000_020_000


def test_error_frames_echo_the_request_id_only_when_given() -> None:
    assert frames.error("conflict", "no", "r-1") == {
        "type": "error",
        "code": "conflict",
        "message": "no",
        "request_id": "r-1",
    }
    assert "request_id" not in frames.error("bad_request", "no", None)


def test_a_reply_over_one_websocket_message_is_answered_too_large() -> None:
    fits = {"type": "results", "request_id": "r-1", "text": "x" * 1_000}
    assert json.loads(frames.reply_body(fits)) == fits
    # Fewer characters than the limit, more UTF-8 bytes: the limit is in bytes.
    huge = {"type": "results", "request_id": "big", "text": "é" * (frames.MESSAGE_LIMIT_BYTES // 2)}
    assert json.loads(frames.reply_body(huge)) == {
        "type": "error",
        "code": "too_large",
        "message": frames.TOO_LARGE_FOR_A_MESSAGE,
        "request_id": "big",
    }


def test_every_script_gets_the_shared_constants_then_the_common_prelude() -> None:
    constants = "".join(f"local {key} = {value}\n" for key, value in LUA_CONSTANTS.items())
    assert "local PARTICIPANT_BOARD = 10\n" in constants
    for name in SCRIPT_NAMES:
        source = script_source(name)
        assert source.startswith(constants + "-- Prelude of every engine script")
        assert "redis.call" in source


def test_a_run_without_duration_may_last_the_longest_a_run_can() -> None:
    assert run_duration_s(run_config(duration_s=None)) == DEFAULT_RUN_DURATION_S
    assert run_duration_s(run_config(duration_s=90)) == 90

"""Hostile nicknames (issue 12 item 6): a deterministic table of nasty names, each through the real join
(`POST /api/signon/join` on the local stack: every function from its synthesized asset, real Redis,
moto) and, when accepted, everywhere a nickname goes: the host's `participant_joined`,
`participant_answered`, `message`, `state` and `completed` frames, the persisted run summary, the
host's results JSON (by ID token and by host token) and the results CSV.

The rule under test is `speedrun.signon.models.clean_name` (docs/signon-and-tokens.md, "Nicknames"):
invisible characters are removed (C0, DEL, C1, bidi embeddings/overrides/isolates/marks, zero-width
characters, the other default-ignorable ones such as U+034F or Hangul fillers), except the joiners of
an emoji; every space is one space (collapsed, trimmed); NFC; then 1..24 Unicode code points. So a
name is refused (`400 bad_request`, `details[].field == "name"`) only when nothing visible is left, it
is longer than 24 code points, or it holds a lone surrogate; a name that only differs from a taken one
by invisible characters, spacing or canonical equivalence is that name (`409 conflict`).

Defects each part would catch: a name shown differently from what the table says (a bidi override or
a zero-width character left in, an emoji sequence broken apart, a name that is blank or looks exactly
like a taken one accepted); a refusal that is not a clear 400 naming `name` (a 5xx, a 201 for a blank
name); a frame that is not a protocol frame or not UTF-8-sendable; persisted results or a CSV that
lose or alter a name; a CSV cell starting with a formula trigger (`=`, `+`, `-`, `@`, tab, CR); an
ERROR or traceback in any function's log (the reporter consuming hostile names included).
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
import redis
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from local_stack.client import HttpReply, RunSocket, bearer, http_request, sign_in, upload_question_set
from local_stack.stack import LocalStack, LocalStackOptions
from speedrun.engine.store import NAME_MAX_CHARS
from speedrun.reporting.csv_export import CSV_COLUMNS
from speedrun.signon.models import JoinRequest, clean_name
from tests.support.protocol_messages import validate_server_frame
from tests.support.question_sets import sample_set_json
from tests.support.security_world import wait_until

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
"""👨‍👩‍👧‍👦: four people joined by three ZWJ, 7 code points."""
ENGLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
"""🏴 + the tags `gbeng` + CANCEL TAG: 7 code points."""
FLAGS = "🇫🇷🇩🇪🇯🇵🇧🇷🇮🇳🇳🇬🇨🇦🇲🇽🇰🇪🇳🇿🇪🇸🇮🇹"
"""12 flags of two regional indicators each: 24 code points."""
THUMBS = "👍🏽" * 12
"""12 thumbs with a skin tone (2 code points each): 24 code points."""
ASTRONAUT = "\U0001f469\U0001f3fd\u200d\U0001f680"
"""👩🏽‍🚀: woman, skin tone, ZWJ, rocket (4 code points)."""
KEYCAPS = "1\ufe0f\u20e32\ufe0f\u20e3\u2764\ufe0f"
"""1️⃣2️⃣❤️: keycaps and a heart in emoji presentation (VS16)."""


@dataclass(frozen=True)
class Nickname:
    label: str
    typed: str
    shown: str | None
    """The name the run shows (and compares, case-insensitively), or None: refused with a 400 naming `name`."""
    taken: bool = False
    """`shown` is an earlier entry's name: the join is a 409 (the spoof is refused)."""


NICKNAMES: tuple[Nickname, ...] = (
    Nickname("plain", "Ada", "Ada"),
    # C0, DEL, C1 controls
    Nickname("C0 controls inside", "Gr\x00a\x07c\x1be", "Grace"),
    Nickname("tab and line feed are spaces", "Alan\tTu\nring", "Alan Tu ring"),
    Nickname("DEL", "Del\x7fia", "Delia"),
    Nickname("C1 controls and NEL", "Ma\x80r\x9fie\x85", "Marie"),
    Nickname("controls only", "\x00\x01\x1f\x7f\x9f", None),
    # bidi embeddings, overrides, isolates and marks
    Nickname("right-to-left override", "\u202eevilnimda", "evilnimda"),
    Nickname("embeddings", "\u202aLe\u202bon\u202c", "Leon"),
    Nickname("left-to-right override", "\u202dOtto\u202c", "Otto"),
    Nickname("isolates", "\u2066Is\u2067a\u2068bel\u2069", "Isabel"),
    Nickname("override in front of a taken name", "\u202eAda", "Ada", taken=True),
    Nickname("bidi controls only", "\u202e\u2066\u2069\u202c\u200f", None),
    Nickname("Hebrew (right-to-left by itself)", "\u05e9\u05e8\u05d4", "\u05e9\u05e8\u05d4"),
    Nickname("Hebrew with bidi marks", "\u200f\u05e0\u05d5\u05e2\u05d4\u200e", "\u05e0\u05d5\u05e2\u05d4"),
    # zero-width and other invisible characters
    Nickname("zero-width space in a taken name", "Ad\u200ba", "Ada", taken=True),
    Nickname("ZWNJ, ZWJ, word joiner, BOM", "\ufeffLi\u200cn\u200du\u2060s", "Linus"),
    Nickname("zero-width only", "\u200b\u200c\u200d\u2060\ufeff", None),
    Nickname("soft hyphen", "Mar\u00adgaret", "Margaret"),
    Nickname("combining grapheme joiner after a taken name", "Ada\u034f", "Ada", taken=True),
    Nickname("variation selector on a letter", "A\ufe0fda", "Ada", taken=True),
    Nickname("Hangul filler only", "\u3164", None),
    Nickname("fillers and braille blank only", "\u115f\u1160\uffa0\u2800", None),
    Nickname("private use and unassigned", "Pi\ue000p\u0378", "Pip"),
    # case, canonical equivalence, spaces
    Nickname("case of a taken name", "aDA", "aDA", taken=True),
    Nickname("precomposed", "Zoë", "Zoë"),
    Nickname("decomposed spelling of a taken name", "Zoe\u0308", "Zoë", taken=True),
    Nickname("runs of spaces", "  Ada   Lovelace  ", "Ada Lovelace"),
    Nickname("no-break space in a taken name", "Ada\u00a0Lovelace", "Ada Lovelace", taken=True),
    Nickname("ideographic space and line separator", "Ada\u3000\u2028Lovelace", "Ada Lovelace", taken=True),
    Nickname("whitespace only", " \t\n\u00a0\u3000\u2028\u2029 ", None),
    Nickname("empty", "", None),
    # emoji: the limit counts code points (a ZWJ family is 7, a flag 2, a thumb with a skin tone 2)
    Nickname("3 ZWJ families + 3 letters: 24 code points", FAMILY * 3 + "abc", FAMILY * 3 + "abc"),
    Nickname("3 ZWJ families + 4 letters: 25 code points", FAMILY * 3 + "abcd", None),
    Nickname("12 flags: 24 code points", FLAGS, FLAGS),
    Nickname("12 flags + 1 letter: 25 code points", FLAGS + "x", None),
    Nickname("12 skin-toned thumbs: 24 code points", THUMBS, THUMBS),
    Nickname("13 skin-toned thumbs: 26 code points", THUMBS + "👍🏽", None),
    Nickname("3 subdivision flags + 3 letters: 24 code points", ENGLAND * 3 + "xyz", ENGLAND * 3 + "xyz"),
    Nickname("astronaut, keycaps, heart", f"{ASTRONAUT} {KEYCAPS}", f"{ASTRONAUT} {KEYCAPS}"),
    Nickname("dangling ZWJ", "Rocket🚀\u200d", "Rocket🚀"),
    # formula prefixes (the CSV escapes them)
    Nickname("= formula", '=HYPERLINK("//x","y")', '=HYPERLINK("//x","y")'),
    Nickname("+ formula", "+cmd|'/C calc'!A0", "+cmd|'/C calc'!A0"),
    Nickname("- formula", "-2+3", "-2+3"),
    Nickname("@ formula", "@SUM(A1:A9)", "@SUM(A1:A9)"),
    Nickname("tab then formula", "\t=1+1", "=1+1"),
    Nickname("CR then formula", "\r+1+1", "+1+1"),
    Nickname("zero-width space then formula", "\u200b=2+2", "=2+2"),
    Nickname("CSV quoting", 'Bob "the", Builder', 'Bob "the", Builder'),
    Nickname("HTML", "<img src=x onerror=1>", "<img src=x onerror=1>"),
    # lone surrogates (sent as the JSON escapes a client can send)
    Nickname("lone high surrogate", "Ada\ud800", None),
    Nickname("lone low surrogate", "\udc00", None),
    # length
    Nickname("24 letters", "y" * 24, "y" * 24),
    Nickname("25 letters", "x" * 25, None),
    Nickname("1,000 letters", "z" * 1_000, None),
    Nickname("60,000 letters (under the 64 KiB body limit)", "w" * 60_000, None),
    Nickname("invisible padding is not counted", "Kim" + "\u200b" * 5_000, "Kim"),
    Nickname("23 combining marks on one letter: 24 code points", "Z" + "\u0336" * 23, "Z" + "\u0336" * 23),
)
HOSTILE_TEXTS: tuple[str, ...] = tuple(nickname.typed for nickname in NICKNAMES)
"""The typed names, as hostile text for other fields (the WebSocket fuzz sends them as chat messages)."""
SHORT_HOSTILE_TEXTS = tuple(text for text in HOSTILE_TEXTS if len(text) <= 100)
ACCEPTED = tuple(nickname for nickname in NICKNAMES if nickname.shown is not None and not nickname.taken)
EMOJI_JOINERS = {"\u200d", "\ufe0e", "\ufe0f", *map(chr, range(0xE0020, 0xE0080))}
DEFAULT_IGNORABLE = {
    0x034F,
    0x115F,
    0x1160,
    0x17B4,
    0x17B5,
    *range(0x180B, 0x1810),
    0x3164,
    *range(0xFE00, 0xFE10),
    0xFFA0,
    *range(0xE0100, 0xE01F0),
}
TEXT_COLUMNS = ("run_id", "run_name", "participant_id", "name", "player_handle", "category", "question", "outcome")
ERROR_MARKERS = ('"level":"ERROR"', "[ERROR]", "Traceback", "Task timed out")
QUESTIONS = 2


def fields_of(error: ValidationError) -> list[str]:
    return [".".join(str(part) for part in item["loc"]) for item in error.errors()]


def visible_problem(name: str, max_chars: int | None = NAME_MAX_CHARS) -> str | None:
    """Why an accepted name breaks the rule's promises (checked independently of how `clean_name` works):
    1..24 code points, NFC, single inner spaces only, nothing invisible except emoji joiners, and those
    only after a character that can start an emoji (never first, after a space, a letter or a digit,
    except a keycap's VS16)."""
    if not name or (max_chars is not None and len(name) > max_chars):
        return f"{len(name)} code points"
    if unicodedata.normalize("NFC", name) != name:
        return "not NFC"
    if name != name.strip(" ") or "  " in name:
        return "untrimmed or doubled spaces"
    for index, char in enumerate(name):
        category = unicodedata.category(char)
        if char != " " and (category.startswith("Z") or char in "\t\n\r\x0b\x0c\x85\u2800"):
            return f"a space other than U+0020: U+{ord(char):04X}"
        if char in EMOJI_JOINERS:
            previous = name[index - 1] if index else " "
            keycap = previous in "0123456789#*" and name[index + 1 : index + 2] == "\u20e3"
            if previous == " " or (unicodedata.category(previous)[0] in "LN" and not keycap):
                return f"an emoji joiner outside an emoji: U+{ord(char):04X} after {previous!r}"
        elif category.startswith("C") or ord(char) in DEFAULT_IGNORABLE:
            return f"an invisible character: U+{ord(char):04X} ({category})"
    return None


# --- the rule, without a stack ------------------------------------------------------------------


@pytest.mark.parametrize("nickname", NICKNAMES, ids=[nickname.label for nickname in NICKNAMES])
def test_each_nickname_is_shown_as_the_table_says_or_refused_naming_the_field(nickname: Nickname) -> None:
    if nickname.shown is None:
        with pytest.raises(ValidationError) as raised:
            JoinRequest(join_code="ABCDEF", name=nickname.typed)
        assert fields_of(raised.value) == ["name"]
        return
    assert JoinRequest(join_code="ABCDEF", name=nickname.typed).name == nickname.shown
    assert visible_problem(nickname.shown) is None


def test_the_table_is_consistent() -> None:
    """Every accepted name is new (case-insensitively) and every `taken` one names an earlier one."""
    seen: set[str] = set()
    for nickname in NICKNAMES:
        if nickname.shown is None:
            continue
        folded = nickname.shown.casefold()
        assert (folded in seen) == nickname.taken, nickname.label
        seen.add(folded)


@settings(max_examples=600, derandomize=True, database=None, deadline=None)
@given(
    typed=st.text(alphabet=st.characters(codec="utf-8"), max_size=40)
    | st.lists(st.sampled_from([*SHORT_HOSTILE_TEXTS, "\u200d", "\ufe0f", "\u20e3", " ", "🚀", "a", "e\u0308"])).map(
        "".join
    )
)
def test_every_cleaned_name_is_visible_trimmed_nfc_and_cleaning_it_again_changes_nothing(typed: str) -> None:
    cleaned = clean_name(typed)
    assert clean_name(cleaned) == cleaned
    if cleaned:
        assert visible_problem(cleaned, max_chars=None) is None, repr(cleaned)


# --- through the local stack ----------------------------------------------------------------------


@dataclass
class Joined:
    nickname: Nickname
    participant_id: str
    participant_token: str


@dataclass
class Played:
    stack: LocalStack
    id_token: str
    run_id: str
    join_code: str
    host_token: str
    replies: dict[str, HttpReply] = field(default_factory=dict)
    """The join reply of each table entry, by label."""
    joined: dict[str, Joined] = field(default_factory=dict)
    """The accepted entries, by participant id."""
    host_frames: list[dict[str, Any]] = field(default_factory=list)
    participant_frames: list[dict[str, Any]] = field(default_factory=list)
    live_summary: dict[str, Any] = field(default_factory=dict)

    def get(self, path: str, token: str | None = None) -> HttpReply:
        return http_request("GET", f"{self.stack.base_url}{path}", headers=bearer(token or self.id_token))

    def shown(self, participant_id: str) -> str:
        shown = self.joined[participant_id].nickname.shown
        assert shown is not None
        return shown


async def _play(played: Played) -> None:
    """The host watches; every accepted participant answers the first question (alternately right and
    wrong) and says hello; the host syncs, ends the run and asks for its results."""
    ws_url = played.stack.ws_url
    host = await RunSocket.connect(ws_url, played.host_token, "host")
    for nickname in NICKNAMES:
        reply = await asyncio.to_thread(
            http_request,
            "POST",
            f"{played.stack.base_url}/api/signon/join",
            json_body={"join_code": played.join_code, "name": nickname.typed},
        )
        played.replies[nickname.label] = reply
        if reply.status == 201:
            body = reply.json()
            played.joined[body["participant_id"]] = Joined(nickname, body["participant_id"], body["participant_token"])
    played.live_summary = (await asyncio.to_thread(played.get, f"/api/speedruns/{played.run_id}")).json()
    assert (await host.request("start"))["type"] == "started"
    for number, joined in enumerate(played.joined.values()):
        player = await RunSocket.connect(ws_url, joined.participant_token, "p")
        question = await player.request("question", index=0)
        assert question["type"] == "question", question
        selected = [1] if number % 2 else [0]  # option 0 is question 0's right one (sample_question)
        answered = await player.request("answer", index=0, selected=selected)
        assert answered["type"] == "answer_result", answered
        said = await player.request("message", to="host", content=f"hello from {joined.nickname.label}")
        assert said["type"] == "message", said
        played.participant_frames += [question, answered, said, *player.pushes]
        await player.close()
    state = await host.request("sync")
    completed = await host.request("end")
    assert completed["type"] == "completed", completed
    results = await host.request("results")
    played.host_frames += [*host.pushes, state, completed, results]
    await host.close()


@pytest.fixture(scope="module")
def played(redis_server_url: str) -> Iterator[Played]:
    redis.Redis.from_url(redis_server_url).flushall()
    options = LocalStackOptions(port=0, examples_dir=None, web_dir=None, redis_url=redis_server_url)
    with LocalStack(options) as stack:
        assert stack.user_pool is not None
        id_token = sign_in(stack.base_url, stack.user_pool.client_id, stack.host_username, stack.host_password)
        upload = upload_question_set(stack.base_url, id_token, "nicknames.json", sample_set_json(QUESTIONS))
        assert upload.status == 201, upload.body
        opened = http_request(
            "POST",
            f"{stack.base_url}/api/signon/speedruns",
            json_body={"question_set_id": upload.json()["id"], "name": "=Nicknames", "chat": True},
            headers=bearer(id_token),
        )
        assert opened.status == 201, opened.body
        run = opened.json()
        world = Played(stack, id_token, run["speedrun_id"], run["join_code"], run["host_token"])
        asyncio.run(_play(world))
        wait_until(lambda: world.get(f"/api/speedruns/{world.run_id}").json().get("persisted"), "the run persisted")
        yield world


def test_every_join_is_201_or_a_clear_refusal(played: Played) -> None:
    for nickname in NICKNAMES:
        reply = played.replies[nickname.label]
        if nickname.shown is None:
            assert reply.status == 400, (nickname.label, reply.status, reply.body[:300])
            error = reply.json()["error"]
            assert error["code"] == "bad_request" and "name" in error["message"], (nickname.label, error)
            assert [detail["field"] for detail in error["details"]] == ["name"], (nickname.label, error)
            assert all(detail["reason"] for detail in error["details"]), (nickname.label, error)
        elif nickname.taken:
            assert reply.status == 409, (nickname.label, reply.status, reply.body[:300])
            assert reply.json()["error"]["code"] == "conflict", (nickname.label, reply.body)
        else:
            assert reply.status == 201, (nickname.label, reply.status, reply.body[:300])
    assert sorted(joined.nickname.label for joined in played.joined.values()) == sorted(n.label for n in ACCEPTED)
    assert played.live_summary["participant_count"] == len(ACCEPTED), played.live_summary


def test_every_frame_carries_the_shown_name_and_is_a_sendable_protocol_frame(played: Played) -> None:
    names: dict[str, set[str]] = {}

    def saw(participant_id: str, name: str) -> None:
        names.setdefault(participant_id, set()).add(name)

    for frame in [*played.host_frames, *played.participant_frames]:
        json.dumps(frame, ensure_ascii=False).encode()  # UTF-8-sendable: no lone surrogate got through
        validate_server_frame(frame)
        kind = frame["type"]
        if kind in ("participant_joined", "participant_answered"):
            saw(frame["participant_id"], frame["name"])
        elif kind == "message":
            saw(frame["from"], frame["from_name"])
        elif kind in ("state", "completed"):
            for entry in frame["leaderboard"]:
                saw(entry["participant_id"], entry["name"])
            participants = frame.get("participants")
            for entry in participants if isinstance(participants, list) else []:
                saw(entry["participant_id"], entry["name"])
        elif kind == "results":
            for answerers in ("correct_answerers", "incorrect_answerers", "timeout_answerers"):
                for question in frame["questions"]:
                    for entry in question.get(answerers, []):
                        saw(entry["participant_id"], entry["name"])
    host_kinds = {frame["type"] for frame in played.host_frames}
    assert {"participant_joined", "participant_answered", "message", "state", "completed", "results"} <= host_kinds
    assert set(names) == set(played.joined), "every participant was seen, and nobody else"
    for participant_id, seen in names.items():
        assert seen == {played.shown(participant_id)}, (played.joined[participant_id].nickname.label, seen)


def _names_in(entries: list[dict[str, Any]]) -> dict[str, str]:
    return {entry["participant_id"]: entry["name"] for entry in entries}


def test_the_persisted_summary_and_results_keep_every_name(played: Played) -> None:
    expected = {participant_id: played.shown(participant_id) for participant_id in played.joined}
    summary = played.get(f"/api/speedruns/{played.run_id}")
    assert summary.status == 200, summary.body[:300]
    assert _names_in(summary.json()["leaderboard"]) == expected
    for token in (played.id_token, played.host_token):
        reply = played.get(f"/api/speedruns/{played.run_id}/results", token)
        assert reply.status == 200, reply.body[:300]
        results = reply.json()
        assert _names_in(results["leaderboard"]) == expected
        answerers: dict[str, str] = {}
        for question in results["questions"]:
            for kind in ("correct_answerers", "incorrect_answerers", "timeout_answerers"):
                answerers.update(_names_in(question[kind]))
        assert answerers == expected


def test_the_csv_keeps_every_name_and_no_text_cell_starts_a_formula(played: Played) -> None:
    reply = played.get(f"/api/speedruns/{played.run_id}/results?format=csv")
    assert reply.status == 200, reply.body[:300]
    assert reply.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(reply.body.decode("utf-8"), newline="")))
    assert len(rows) == len(played.joined) * QUESTIONS
    assert all(list(row) == list(CSV_COLUMNS) and None not in row.values() for row in rows)
    for row in rows:
        shown = played.shown(row["participant_id"])
        assert row["name"] == ("'" + shown if shown[0] in "=+-@" else shown), (shown, row["name"])
        for column in TEXT_COLUMNS:
            assert not row[column].startswith(("=", "+", "-", "@", "\t", "\r")), (column, row[column])
    escaped = {row["name"] for row in rows if row["name"].startswith("'")}
    assert escaped == {"'" + n.shown for n in ACCEPTED if n.shown and n.shown[0] in "=+-@"}, escaped
    assert {row["run_name"] for row in rows} == {"'=Nicknames"}


def test_no_function_logged_an_error(played: Played) -> None:
    assert played.stack.lambdas is not None
    errors = [log for log in played.stack.lambdas.logs if any(marker in log.line for marker in ERROR_MARKERS)]
    assert not errors, "\n".join(f"{log.function}: {log.line[:600]}" for log in errors[:5])

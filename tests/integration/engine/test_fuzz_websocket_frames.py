"""Hypothesis fuzz of WebSocket frames through `lambdas.speedrun.handler` (issue 6, acceptance).

Each example builds a running speed-run with a host, the fuzzing participant and two others (one
has answered a question, one is in the middle of one), then sends a stream of frames, mostly from
the fuzzing participant and some from the host: random JSON, wrong types, huge numbers, unicode,
missing and unknown fields, valid actions with one field mutated, non-JSON text, oversize frames
and frames nested deeper than `speedrun.text.MAX_JSON_DEPTH` (up to 15,000 levels: refused with
`bad_request` before parsing, issue 17), with valid actions in between so the run moves on. Chat
messages are often the hostile nickname table's texts (tests/integration/security/test_hostile_nicknames.py:
controls, bidi overrides, zero-width characters, emoji sequences, formula prefixes, lone surrogates,
60,000 characters), and the fuzzing participant joins under one of that table's accepted names, as
sign-on leaves it, so it travels in `from_name`, `participant_answered` and the boards. After
every frame: nothing escaped the handler, the reply is a protocol frame (an `error` with a
documented code other than `internal`, or the message the action answers with), and the other
participants' Redis entries are unchanged.
Every push any client received is a protocol frame too, and every chat message anyone received
carries exactly a content that was sent (none altered, cut or mixed up).
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from speedrun.engine.keys import RUN_KEY_PARTS, run_keys
from speedrun.engine.requests import MAX_FRAME_BYTES
from speedrun.signon.models import JoinRequest
from speedrun.text import MAX_JSON_DEPTH
from tests.integration.security.test_hostile_nicknames import ACCEPTED, HOSTILE_TEXTS
from tests.support.engine_harness import Client, EngineWorld, engine_queues, make_questions
from tests.support.protocol_messages import ErrorFrame, validate_server_frame

QUESTIONS = 5
EXAMPLES = 80
FRAMES_PER_EXAMPLE = (63, 66)
MIN_FRAMES = 5_000

ACTIONS = ("sync", "ping", "start", "end", "kick", "question", "answer", "timeout", "results", "message")
REPLY_TYPE = {
    "sync": "state",
    "ping": "pong",
    "start": "started",
    "end": "completed",
    "kick": "participant_left",
    "question": "question",
    "answer": "answer_result",
    "timeout": "answer_result",
    "results": "results",
    "message": "message",
}
QUESTION_SET = make_questions(QUESTIONS)

HUGE_NUMBERS = st.sampled_from(
    [2**31, 2**53 + 1, 2**63, -(2**63) - 1, 10**30, -(10**30), 10**4000, 1e308, -1e308, 1e-308, -0.0, 0.5, -1]
)
UNICODE = st.text(alphabet=st.characters(codec="utf-8"), max_size=40) | st.sampled_from(
    [
        "",
        "\u0000",
        "\u202e",
        "\ud800",
        "x\udfff",
        "\ud83d",
        "é" * 600,
        "🏁" * 130,
        "\ud7ff\ue000",
        "a\r\nb",
        "'; DROP TABLE x; --",
        "{{7*7}}",
    ]
)
JSON_SCALARS = st.none() | st.booleans() | st.integers() | HUGE_NUMBERS | st.floats(allow_nan=False) | UNICODE
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(UNICODE, children, max_size=4),
    max_leaves=12,
)
REQUEST_IDS = st.none() | st.text(max_size=64) | JSON_VALUES | st.just("r" * 65)
OTHERS = ("Ada", "Bob")
FUZZER_NAMES = st.sampled_from(
    sorted(
        {
            JoinRequest(join_code="ABCDEF", name=nickname.typed).name
            for nickname in ACCEPTED
            if nickname.shown is not None and nickname.shown.casefold() not in {name.casefold() for name in OTHERS}
        }
    )
)
"""The fuzzing participant's name: one the hostile table accepts, as the sign-on rule leaves it."""
CHAT_CONTENTS = st.sampled_from(HOSTILE_TEXTS) | st.text(min_size=1, max_size=500)
DEPTHS = st.sampled_from([MAX_JSON_DEPTH + 1, MAX_JSON_DEPTH + 2, 100, 1_000, 5_000, 15_000])
"""15,000 levels of arrays (30,000 bytes) still fit in one frame, so the envelope's parser sees them."""


@dataclass(frozen=True)
class Scene:
    """What a frame may refer to: the run as it is when the frame is drawn."""

    run_id: str
    sender: Client
    fuzzer_next: int
    fuzzer_current: int
    participant_ids: tuple[str, ...]


def valid_body(data: st.DataObject, action: str, scene: Scene) -> dict[str, Any]:
    """A well-formed frame for `action` (acceptable or refused by the rules, never malformed)."""
    body: dict[str, Any] = {"action": action}
    index = data.draw(st.sampled_from([scene.fuzzer_next, scene.fuzzer_current, 0, QUESTIONS - 1, QUESTIONS]))
    index = max(index, 0)
    if action in ("question", "timeout"):
        body["index"] = index
    elif action == "answer":
        question = QUESTION_SET[min(index, QUESTIONS - 1)]
        wanted = len(question.correct)
        body["index"] = index
        body["selected"] = data.draw(
            st.just(list(question.correct))
            | st.lists(st.integers(0, len(question.options) - 1), min_size=wanted, max_size=wanted, unique=True)
            | st.lists(st.integers(-2, 6), min_size=1, max_size=5, unique=True)
        )
    elif action == "kick":
        body["participant_id"] = data.draw(st.text(min_size=1, max_size=64) | st.just("host"))
    elif action == "message":
        body["to"] = data.draw(st.sampled_from(["all", "host", *scene.participant_ids]) | st.text(min_size=1))
        body["content"] = data.draw(CHAT_CONTENTS)
    if data.draw(st.booleans()):
        body["request_id"] = data.draw(st.text(max_size=64))
    return body


def mutate(data: st.DataObject, body: dict[str, Any]) -> dict[str, Any]:
    mutated = dict(body)
    fields = sorted(mutated)
    kind = data.draw(st.sampled_from(["drop", "wrong_type", "huge", "unicode", "extra", "request_id", "list"]))
    field = data.draw(st.sampled_from(fields))
    if kind == "drop":
        mutated.pop(field)
    elif kind == "wrong_type":
        mutated[field] = data.draw(JSON_VALUES)
    elif kind == "huge":
        mutated[field] = data.draw(HUGE_NUMBERS)
    elif kind == "unicode":
        mutated[field] = data.draw(UNICODE)
    elif kind == "extra":
        mutated[data.draw(UNICODE)] = data.draw(JSON_VALUES)
    elif kind == "request_id":
        mutated["request_id"] = data.draw(REQUEST_IDS)
    else:
        mutated[field] = [mutated.get(field)] * data.draw(st.integers(0, 3))
    return mutated


def oversize(data: st.DataObject) -> str:
    """Just over the limit in bytes (and, with multi-byte characters, maybe not in characters)."""
    pad_char = data.draw(st.sampled_from(["x", "é", "🏁"]))
    over = data.draw(st.integers(1, 64))
    pad = pad_char * ((MAX_FRAME_BYTES + over) // len(pad_char.encode()) + 1)
    return json.dumps({"action": data.draw(st.sampled_from(ACTIONS)), "pad": pad}, ensure_ascii=False)


def deep(data: st.DataObject, scene: Scene) -> str:
    """A frame nested deeper than the bound: as a whole, in a field of a valid action, or as its
    request_id (which is then refused with the frame, not echoed)."""
    depth = data.draw(DEPTHS)
    if depth > 5_000 or data.draw(st.booleans()):
        nested = "[" * depth + "]" * depth
    else:
        nested = '{"a":' * depth + "0" + "}" * depth
    where = data.draw(st.sampled_from(["frame", "field", "request_id"]))
    if where == "frame":
        return nested
    body = valid_body(data, data.draw(st.sampled_from(ACTIONS)), scene)
    name = "request_id" if where == "request_id" else data.draw(st.sampled_from(sorted(body)))
    return json.dumps({**body, name: "<nested>"}).replace('"<nested>"', nested)


def nesting_depth(raw: str) -> int:
    """How deep arrays and objects nest in `raw` (brackets inside strings do not count)."""
    depth = deepest = 0
    in_string = escaped = False
    for char in raw:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def too_deep(raw: str) -> bool:
    return len(raw.encode()) <= MAX_FRAME_BYTES and nesting_depth(raw) > MAX_JSON_DEPTH


def wire_json(value: Any, *, ascii_only: bool) -> str:
    """JSON text as a client can send it: a text frame is UTF-8, so a lone surrogate can only travel
    as a `\\uXXXX` escape."""
    text = json.dumps(value, ensure_ascii=ascii_only)
    try:
        text.encode()
    except UnicodeEncodeError:
        return json.dumps(value)
    return text


def draw_frame(data: st.DataObject, scene: Scene) -> str:
    kind = data.draw(
        st.sampled_from(
            ["valid"] * 4 + ["mutated"] * 5 + ["random_json", "random_object", "not_json", "oversize", "deep"]
        )
    )
    if kind == "valid":
        return json.dumps(valid_body(data, data.draw(st.sampled_from(ACTIONS)), scene))
    if kind == "mutated":
        return json.dumps(mutate(data, valid_body(data, data.draw(st.sampled_from(ACTIONS)), scene)))
    if kind == "random_json":
        return wire_json(data.draw(JSON_VALUES), ascii_only=data.draw(st.booleans()))
    if kind == "random_object":
        body = data.draw(st.dictionaries(UNICODE, JSON_VALUES, max_size=5))
        body["action"] = data.draw(st.sampled_from(ACTIONS) | JSON_VALUES)
        return wire_json(body, ascii_only=False)
    if kind == "not_json":
        return data.draw(st.text(max_size=200) | st.sampled_from(["", "{", "[1,", "NaN", '{"action": "sync"', "\x00"]))
    if kind == "deep":
        return deep(data, scene)
    return oversize(data)


def route_key(raw: str) -> str:
    """API Gateway's route selection (`$request.body.action`): the action's route, else `$default`."""
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # a frame too deep for Python's parser: its action is unknown here
        return "$default"
    action = body.get("action") if isinstance(body, dict) else None
    return action if isinstance(action, str) and action in ACTIONS else "$default"


def chat_content(raw: str) -> str | None:
    """The `content` of a `message` frame (as the engine would read it), else None."""
    if route_key(raw) != "message" or len(raw.encode()) > MAX_FRAME_BYTES or too_deep(raw):
        return None
    content = json.loads(raw).get("content")
    return content if isinstance(content, str) else None


def sender_is_fuzzer(frame: dict[str, Any], fuzzer: Client) -> bool:
    return bool(frame.get("from") == fuzzer.participant_id)


def changes_others(raw: str, scene: Scene) -> bool:
    """Host frames that may legitimately change other participants' state (end, kicking someone)."""
    if scene.sender.role != "host" or len(raw.encode()) > MAX_FRAME_BYTES or too_deep(raw):
        return False
    route = route_key(raw)
    if route == "end":
        return True
    return route == "kick" and json.loads(raw).get("participant_id") in scene.participant_ids


def expected_request_id(raw: str) -> str | None:
    if len(raw.encode()) > MAX_FRAME_BYTES or too_deep(raw):
        return None
    try:
        body = json.loads(raw)
    except ValueError:
        return None
    request_id = body.get("request_id") if isinstance(body, dict) else None
    if not isinstance(request_id, str) or len(request_id) > 64:
        return None
    try:
        request_id.encode()
    except UnicodeEncodeError:
        return None  # a lone surrogate is refused, not echoed
    return request_id


class Observer:
    """Reads, in one round trip, the Redis entries that belong to the other participants (for
    before/after comparisons) and where the fuzzing participant is (for the next frame to aim at)."""

    def __init__(self, world: EngineWorld, run_id: str, fuzzer: Client, others: list[Client]) -> None:
        self.redis = world.raw_redis
        self.keys = dict(zip(RUN_KEY_PARTS, run_keys(run_id), strict=True))
        self.fuzzer_id = fuzzer.participant_id or ""
        self.ids = [client.participant_id or "" for client in others]

    def look(self) -> tuple[dict[str, Any], tuple[int, int]]:
        """(the others' entries, the fuzzer's (next index, index being answered))."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.hmget(self.keys["players"], [*self.ids, self.fuzzer_id])
        pipe.hmget(self.keys["conns"], self.ids)
        pipe.hmget(self.keys["chat"], self.ids)
        pipe.hgetall(self.keys["names"])
        pipe.zrange(self.keys["board"], 0, -1, withscores=True)
        players, conns, chat, names, board = pipe.execute()
        others = {
            "players": players[:-1],
            "conns": conns,
            "chat": chat,
            "names": sorted((k, v) for k, v in names.items() if v.decode() in self.ids),
            "board": sorted((m, s) for m, s in board if m.decode().split(":", 1)[-1] in self.ids),
        }
        fuzzer = json.loads(players[-1]) if players[-1] else {"next": 0, "cur": -1}
        return others, (int(fuzzer["next"]), int(fuzzer["cur"]))


def on_the_wire(frame: dict[str, Any]) -> Any:
    """The frame as its protocol model, after checking it can be sent at all: a WebSocket text frame
    is UTF-8, so a lone surrogate (valid in JSON as an escape) echoed back could not be."""
    json.dumps(frame, ensure_ascii=False).encode()
    return validate_server_frame(frame)


@pytest.fixture(scope="module")
def sqs() -> Iterator[Any]:
    with engine_queues() as client:
        yield client


def running_run(world: EngineWorld, chat: bool, fuzzer_name: str) -> tuple[str, Client, Client, list[Client]]:
    """A started run: the host, the fuzzing participant, one other who answered question 0 and one
    who is answering it."""
    run_id, code, host = world.create(QUESTIONS, chat=chat)
    fuzzer = world.join(code, fuzzer_name)
    done, busy = (world.join(code, name) for name in OTHERS)
    assert world.send(host, "start")["type"] == "started"
    for other in (done, busy):
        assert world.send(other, "question", index=0)["type"] == "question"
    world.clock.advance(1_500)
    assert world.send(done, "answer", index=0, selected=list(QUESTION_SET[0].correct))["outcome"] == "correct"
    return run_id, host, fuzzer, [done, busy]


def test_random_and_mutated_frames_never_crash_never_touch_others_and_always_get_protocol_replies(
    redis_url: str, sqs: Any
) -> None:
    world = EngineWorld(redis_url, sqs)
    tally: Counter[str] = Counter()

    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(data=st.data(), chat=st.booleans(), frame_count=st.integers(*FRAMES_PER_EXAMPLE), fuzzer_name=FUZZER_NAMES)
    def fuzz(data: st.DataObject, chat: bool, frame_count: int, fuzzer_name: str) -> None:
        run_id, host, fuzzer, others = running_run(world, chat, fuzzer_name)
        observer = Observer(world, run_id, fuzzer, others)
        participant_ids = tuple(c.participant_id or "" for c in (fuzzer, *others))
        before, position = observer.look()
        sent_contents: set[str] = set()
        sent = 0
        while sent < frame_count:
            sender = host if data.draw(st.integers(0, 4)) == 4 else fuzzer
            scene = Scene(run_id, sender, *position, participant_ids)
            raw = draw_frame(data, scene)
            if changes_others(raw, scene):
                continue
            content = chat_content(raw)
            if content is not None:
                sent_contents.add(content)
                tally["hostile chat texts"] += content in HOSTILE_TEXTS
            world.clock.advance(data.draw(st.sampled_from([0, 0, 250, 1_000, 7_000])))
            reply = world.send_raw(sender, route_key(raw), raw)
            sent += 1
            tally["frames"] += 1
            tally["host frames" if sender is host else "participant frames"] += 1
            checked = on_the_wire(reply)
            if too_deep(raw):
                tally["deep frames"] += 1
                assert isinstance(checked, ErrorFrame), (raw[:200], reply)
                assert checked.code == "bad_request", (raw[:200], reply)
            if isinstance(checked, ErrorFrame):
                assert checked.code != "internal", (raw[:200], reply)
                tally[f"error {checked.code}"] += 1
            else:
                assert reply["type"] == REPLY_TYPE[route_key(raw)], (raw[:200], reply)
                tally[f"reply {reply['type']}"] += 1
                if reply["type"] == "message" and reply["content"] in HOSTILE_TEXTS:
                    tally["hostile chat texts delivered"] += 1
            assert reply.get("request_id") == expected_request_id(raw), (raw[:200], reply)
            after, position = observer.look()
            assert after == before, (raw[:200], reply)
        for client in (host, fuzzer, *others):
            for frame in world.received(client):
                on_the_wire(frame)
                tally["frames received"] += 1
                if frame.get("type") == "message":
                    assert frame["content"] in sent_contents, frame
                    if sender_is_fuzzer(frame, fuzzer):
                        assert frame["from_name"] == fuzzer_name, frame

    fuzz()
    assert tally["frames"] >= MIN_FRAMES, tally
    # the stream reached the engine's rules, not only the envelope checks
    for seen in ("reply state", "reply question", "reply answer_result", "error bad_request", "error too_large"):
        assert tally[seen] > 0, tally
    assert tally["deep frames"] > 0, tally
    assert tally["hostile chat texts"] > 0 and tally["hostile chat texts delivered"] > 0, tally

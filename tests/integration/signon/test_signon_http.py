"""Sign-on end to end through the HTTP handler: real engine on Redis, real question sets (moto
DynamoDB + a folder), real tokens (moto Secrets Manager); only @connections is recorded."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import lambdas.signon.handler as signon_lambda
from speedrun.clock import now_ms
from speedrun.engine.models import CreatedRun
from speedrun.engine.store import JOIN_CODE_ALPHABET, LOBBY_TTL_MS
from speedrun.signon.service import (
    LONGEST_RUN_MS,
    PARTICIPANT_TOKEN_LIFETIME_MS,
    host_token_expiry_ms,
    participant_token_expiry_ms,
)
from tests.support.fakes import FakeLambdaContext
from tests.support.signon import (
    HOST_SUB,
    OTHER_HOST_SUB,
    WS_URL,
    SignOnWorld,
    question,
    signon_world,
)


@pytest.fixture
def world(redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SignOnWorld]:
    with signon_world(redis_url, tmp_path) as built:
        monkeypatch.setattr(signon_lambda, "service", lambda: built.service)
        yield built


def call(method: str, path: str, body: Any, *, sub: str | None = None, raw: str | None = None) -> tuple[int, Any]:
    text = raw if raw is not None else json.dumps(body)
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "example.test",
            "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "127.0.0.1", "userAgent": "t"},
            "requestId": "r1",
            "routeKey": f"{method} {path}",
            "stage": "$default",
            "time": "01/Jan/2026:00:00:00 +0000",
            "timeEpoch": 0,
        },
        "body": base64.b64encode(text.encode()).decode(),
        "isBase64Encoded": True,
    }
    if sub is not None:
        event["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": sub}, "scopes": None}}
    response = signon_lambda.handler(event, FakeLambdaContext())
    return response["statusCode"], json.loads(response["body"])


def create(world: SignOnWorld, set_id: str, **options: Any) -> tuple[int, Any]:
    return call("POST", "/api/signon/speedruns", {"question_set_id": set_id, **options}, sub=HOST_SUB)


def join(code: str, name: str, **options: Any) -> tuple[int, Any]:
    return call("POST", "/api/signon/join", {"join_code": code, "name": name, **options})


def frozen_questions(world: SignOnWorld, run_id: str) -> list[dict[str, Any]]:
    export = world.engine.export(run_id)
    assert export is not None
    created = export.events[0]
    assert created["type"] == "run_created"
    return list(created["data"]["questions"])


def test_create_returns_run_code_token_and_freezes_every_question(world: SignOnWorld) -> None:
    set_id = world.upload([question(n) for n in range(5)], name="Capitals")
    before = now_ms()
    status, body = create(world, set_id)
    assert status == 201
    assert set(body) == {"speedrun_id", "join_code", "host_token", "ws_url", "expires_at"}
    assert body["ws_url"] == WS_URL
    claims = world.tokens.verify(body["host_token"])
    assert (claims.run_id, claims.role, claims.participant_id) == (body["speedrun_id"], "host", None)
    # The lobby's day plus the longest run: the host token outlives any run the host can start.
    assert claims.expires_at_ms >= ((before + LOBBY_TTL_MS + LONGEST_RUN_MS) // 1000) * 1000
    assert body["expires_at"].endswith("Z")
    questions = frozen_questions(world, body["speedrun_id"])
    assert [q["text"] for q in questions] == [f"Question {n}?" for n in range(5)]
    assert [q["index"] for q in questions] == list(range(5))
    export = world.engine.export(body["speedrun_id"])
    assert export is not None
    assert export.events[0]["data"]["name"] == "Capitals"
    assert export.events[0]["data"]["host"] == HOST_SUB


def test_join_code_is_six_readable_characters(world: SignOnWorld) -> None:
    set_id = world.upload([question(1)])
    codes = [create(world, set_id)[1]["join_code"] for _ in range(20)]
    assert len(set(codes)) == 20
    for code in codes:
        assert len(code) == 6
        assert set(code) <= set(JOIN_CODE_ALPHABET)
        assert not set(code) & set("0O1I")


def test_category_filter_is_case_insensitive_and_count_applies(world: SignOnWorld) -> None:
    set_id = world.upload(
        [question(0, "Geography"), question(1, "history"), question(2, "GEOGRAPHY"), question(3, "Science")]
    )
    status, body = create(world, set_id, categories=["geography", "SCIENCE"], question_count=2)
    assert status == 201
    texts = [q["text"] for q in frozen_questions(world, body["speedrun_id"])]
    assert texts == ["Question 0?", "Question 2?"]  # set order, first two matching


def test_shuffle_picks_from_the_matching_questions_reindexed(world: SignOnWorld) -> None:
    set_id = world.upload([question(n) for n in range(30)])
    orders = set()
    for _ in range(5):
        status, body = create(world, set_id, shuffle=True, question_count=10)
        assert status == 201
        questions = frozen_questions(world, body["speedrun_id"])
        assert [q["index"] for q in questions] == list(range(10))
        texts = [q["text"] for q in questions]
        assert len(set(texts)) == 10
        assert set(texts) <= {f"Question {n}?" for n in range(30)}
        orders.add(tuple(texts))
    # 5 draws of 10 ordered out of 30: all equal only with probability ~ (1/30!/20!)^4.
    assert len(orders) > 1


def test_unknown_category_is_named(world: SignOnWorld) -> None:
    set_id = world.upload([question(0, "geography")])
    status, body = create(world, set_id, categories=["Geography", "Astrology"])
    assert status == 400
    assert "Astrology" in body["error"]["message"]
    assert body["error"]["details"][0]["field"] == "categories"


def test_more_questions_than_available_is_refused(world: SignOnWorld) -> None:
    set_id = world.upload([question(n) for n in range(3)])
    status, body = create(world, set_id, question_count=4)
    assert status == 400
    assert body["error"]["details"][0]["field"] == "question_count"


def test_set_of_another_owner_is_not_found(world: SignOnWorld) -> None:
    set_id = world.upload([question(0)], owner=OTHER_HOST_SUB)
    status, body = create(world, set_id)
    assert status == 404
    assert body["error"]["code"] == "not_found"


def test_unknown_set_is_not_found(world: SignOnWorld) -> None:
    status, _ = create(world, "does-not-exist")
    assert status == 404


def test_create_needs_a_signed_in_host(world: SignOnWorld) -> None:
    set_id = world.upload([question(0)])
    status, body = call("POST", "/api/signon/speedruns", {"question_set_id": set_id})
    assert status == 401
    assert body["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"question_duration_s": 4}, "question_duration_s"),
        ({"question_duration_s": 301}, "question_duration_s"),
        ({"duration_s": 29}, "duration_s"),
        ({"duration_s": 7201}, "duration_s"),
        ({"max_participants": 0}, "max_participants"),
        ({"max_participants": 10001}, "max_participants"),
        ({"question_count": 0}, "question_count"),
        ({"categories": []}, "categories"),
        ({"categories": "geography"}, "categories"),
        ({"shuffle": "yes"}, "shuffle"),
        ({"chat": 1}, "chat"),
        ({"late_join": "false"}, "late_join"),
        ({"name": "   "}, "name"),
        ({"question_set_id": ""}, "question_set_id"),
        ({"question_set_id": 12}, "question_set_id"),
        ({"colour": "blue"}, "colour"),
        ({"scoring": "fastest"}, "scoring"),
        ({"question_duration_s": None}, "scoring"),  # untimed needs accuracy scoring
        ({"question_duration_s": None, "scoring": "speed"}, "scoring"),
        ({"speed_tiebreak": "no"}, "speed_tiebreak"),
        ({"show_explanations": 1}, "show_explanations"),
    ],
)
def test_each_bad_create_field_is_named(world: SignOnWorld, changes: dict[str, Any], field: str) -> None:
    status, body = call("POST", "/api/signon/speedruns", {"question_set_id": "s1", **changes}, sub=HOST_SUB)
    assert status == 400
    assert body["error"]["code"] == "bad_request"
    assert [d["field"] for d in body["error"]["details"]] == [field]
    assert field in body["error"]["message"]


def test_the_run_options_are_frozen_with_the_run(world: SignOnWorld) -> None:
    set_id = world.upload([question(n) for n in range(2)], name="Options")
    options = {"scoring": "accuracy", "speed_tiebreak": False, "question_duration_s": None, "show_explanations": True}
    status, body = create(world, set_id, **options)
    assert status == 201
    export = world.engine.export(body["speedrun_id"])
    assert export is not None
    config = export.events[0]["data"]["config"]
    assert {key: config[key] for key in options} == options


def test_missing_question_set_id_is_named(world: SignOnWorld) -> None:
    status, body = call("POST", "/api/signon/speedruns", {}, sub=HOST_SUB)
    assert status == 400
    assert [d["field"] for d in body["error"]["details"]] == ["question_set_id"]


def test_non_json_body_is_a_bad_request(world: SignOnWorld) -> None:
    status, body = call("POST", "/api/signon/join", None, raw="{not json")
    assert status == 400
    assert body["error"]["code"] == "bad_request"


def test_join_returns_participant_token_and_broadcasts(world: SignOnWorld) -> None:
    set_id = world.upload([question(0)])
    run = create(world, set_id)[1]
    before = now_ms()
    status, body = join(run["join_code"], "Ada")
    assert status == 201
    assert set(body) == {"speedrun_id", "participant_id", "participant_token", "ws_url"}
    assert body["speedrun_id"] == run["speedrun_id"]
    claims = world.tokens.verify(body["participant_token"])
    assert (claims.run_id, claims.role, claims.participant_id) == (
        run["speedrun_id"],
        "participant",
        body["participant_id"],
    )
    assert claims.expires_at_ms >= ((before + PARTICIPANT_TOKEN_LIFETIME_MS) // 1000) * 1000
    world.fanout.run_due()
    assert world.pusher.pushes == []  # nobody is connected yet: the broadcast has no recipient


def test_join_is_pushed_to_connected_members(world: SignOnWorld) -> None:
    set_id = world.upload([question(0)])
    run = create(world, set_id)[1]
    world.engine.call("connect", run["speedrun_id"], "host", "conn-host").raise_error()
    first = join(run["join_code"], "Ada")[1]
    world.engine.call("connect", run["speedrun_id"], first["participant_id"], "conn-ada").raise_error()
    world.fanout.run_due()  # the first join of a quiet second is told at once
    assert [(p.connection_id, p.message) for p in world.pusher.pushes] == [
        (
            "conn-host",
            {
                "type": "participant_joined",
                "participant_id": first["participant_id"],
                "name": "Ada",
                "participant_count": 1,
            },
        ),
        ("conn-ada", {"type": "lobby", "participant_count": 1, "recent": ["Ada"]}),
    ]
    second = join(run["join_code"], "Bob")[1]
    # within the second: coalesced into the run's next flush (a second later, on the real clock)
    world.fanout.settle(lambda due_ms: time.sleep(max(0, due_ms - now_ms()) / 1000))
    pushed = [(push.connection_id, push.message) for push in world.pusher.pushes[2:]]
    assert pushed == [
        (
            "conn-host",
            {
                "type": "participant_joined",
                "participant_id": second["participant_id"],
                "name": "Bob",
                "participant_count": 2,
            },
        ),
        ("conn-ada", {"type": "lobby", "participant_count": 2, "recent": ["Ada", "Bob"]}),
    ]


def test_gone_connections_are_forgotten_after_the_join_broadcast(world: SignOnWorld) -> None:
    set_id = world.upload([question(0)])
    run = create(world, set_id)[1]
    world.engine.call("connect", run["speedrun_id"], "host", "conn-stale").raise_error()
    world.pusher.gone = {"conn-stale"}
    assert join(run["join_code"], "Ada")[0] == 201
    world.fanout.run_due()  # 410 Gone: the fan-out forgets the host's stale socket
    assert world.fanout.report.gone == 1
    world.pusher.gone = set()
    assert join(run["join_code"], "Bob")[0] == 201
    world.fanout.settle(lambda due_ms: time.sleep(max(0, due_ms - now_ms()) / 1000))
    assert world.pusher.pushes == []  # the stale socket was forgotten, not pushed to again


def test_join_succeeds_when_its_flush_cannot_be_asked_for(world: SignOnWorld, monkeypatch: pytest.MonkeyPatch) -> None:
    set_id = world.upload([question(0)])
    run = create(world, set_id)[1]
    world.engine.call("connect", run["speedrun_id"], "host", "conn-host").raise_error()

    def queue_down(run_id: str, delay_ms: int) -> None:
        raise ConnectionError("the pushes queue is unreachable")

    monkeypatch.setattr(world.fanout, "request_flush", queue_down)
    status, body = join(run["join_code"], "Ada")
    assert status == 201
    assert world.tokens.verify(body["participant_token"]).participant_id == body["participant_id"]


def test_join_code_typed_loosely_is_normalised(world: SignOnWorld) -> None:
    set_id = world.upload([question(0)])
    code = create(world, set_id)[1]["join_code"]
    status, _ = join(f" {code[:3].lower()}-{code[3:].lower()} ", "Ada")
    assert status == 201


def test_name_is_stripped_of_control_characters(world: SignOnWorld) -> None:
    set_id = world.upload([question(0)])
    run = create(world, set_id)[1]
    status, body = join(run["join_code"], "  A\u0000d\u200ba\u0007\n ")
    assert status == 201
    export = world.engine.export(run["speedrun_id"])
    assert export is not None
    joined = [e for e in export.events if e["type"] == "participant_joined"]
    assert joined[0]["data"]["name"] == "Ada"
    assert joined[0]["data"]["participant_id"] == body["participant_id"]


def test_name_taken_case_insensitively_is_a_conflict(world: SignOnWorld) -> None:
    set_id = world.upload([question(0)])
    code = create(world, set_id)[1]["join_code"]
    assert join(code, "Ada")[0] == 201
    status, body = join(code, "aDA")
    assert status == 409
    assert body["error"]["code"] == "conflict"


def test_full_run_is_forbidden(world: SignOnWorld) -> None:
    set_id = world.upload([question(0)])
    code = create(world, set_id, max_participants=2)[1]["join_code"]
    assert join(code, "one")[0] == 201
    assert join(code, "two")[0] == 201
    status, body = join(code, "three")
    assert status == 403
    assert body["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("late_join", "status"), [(True, 201), (False, 409)])
def test_joining_a_running_run_depends_on_late_join(world: SignOnWorld, late_join: bool, status: int) -> None:
    set_id = world.upload([question(0)])
    run = create(world, set_id, late_join=late_join)[1]
    assert join(run["join_code"], "early")[0] == 201
    world.engine.call("start", run["speedrun_id"]).raise_error()
    assert join(run["join_code"], "late")[0] == status


def test_unknown_code_is_not_found(world: SignOnWorld) -> None:
    status, body = join("ZZZZZZ", "Ada")
    assert status == 404
    assert body["error"]["code"] == "not_found"


def test_player_handle_is_recorded(world: SignOnWorld) -> None:
    set_id = world.upload([question(0)])
    run = create(world, set_id)[1]
    assert join(run["join_code"], "Ada", player_handle="ada_l-1")[0] == 201
    export = world.engine.export(run["speedrun_id"])
    assert export is not None
    assert [e["data"]["player_handle"] for e in export.events if e["type"] == "participant_joined"] == ["ada_l-1"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"join_code": "ABCDEF", "name": ""}, "name"),
        ({"join_code": "ABCDEF", "name": "\u0000\u0007 "}, "name"),
        ({"join_code": "ABCDEF", "name": "x" * 25}, "name"),
        ({"join_code": "ABCDE", "name": "Ada"}, "join_code"),
        ({"join_code": "ABCDE0", "name": "Ada"}, "join_code"),
        ({"join_code": "ABCDEI", "name": "Ada"}, "join_code"),
        ({"join_code": "ABCDEF", "name": "Ada", "player_handle": "ab"}, "player_handle"),
        ({"join_code": "ABCDEF", "name": "Ada", "player_handle": "Ada"}, "player_handle"),
        ({"join_code": "ABCDEF", "name": "Ada", "player_handle": "a" * 33}, "player_handle"),
        ({"join_code": "ABCDEF", "name": "Ada", "team": "red"}, "team"),
        ({"name": "Ada"}, "join_code"),
    ],
)
def test_each_bad_join_field_is_named(world: SignOnWorld, body: dict[str, Any], field: str) -> None:
    status, reply = call("POST", "/api/signon/join", body)
    assert status == 400
    assert [d["field"] for d in reply["error"]["details"]] == [field]


def test_token_expiry_bounds() -> None:
    created = CreatedRun(run_id="r", join_code="ABCDEF", expires_at_ms=1_000_000)
    assert host_token_expiry_ms(created) == 1_000_000 + LONGEST_RUN_MS
    assert participant_token_expiry_ms(5) == 5 + LOBBY_TTL_MS + LONGEST_RUN_MS

"""The WebSocket $connect authorizer: real tokens (moto Secrets Manager), real runs (engine on Redis)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest

import lambdas.ws_authorizer.handler as authorizer_lambda
from speedrun.adapters.tokens import AUDIENCE, ISSUER
from speedrun.clock import now_ms
from speedrun.signon.authorizer import ConnectionAuthorizer
from speedrun.signon.models import CreateSpeedRunRequest, JoinRequest
from tests.support.fakes import FakeLambdaContext
from tests.support.signon import SignOnWorld, question, signon_world

METHOD_ARN = "arn:aws:execute-api:us-east-1:123456789012:abcdef123/prod/$connect"


@pytest.fixture
def world(redis_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SignOnWorld]:
    with signon_world(redis_url, tmp_path) as built:
        checker = ConnectionAuthorizer(built.tokens, built.engine)
        monkeypatch.setattr(authorizer_lambda, "authorizer", lambda: checker)
        yield built


@pytest.fixture
def run(world: SignOnWorld) -> dict[str, str]:
    set_id = world.upload([question(0), question(1)])
    created = world.service.create_speedrun("host-sub-1", CreateSpeedRunRequest(question_set_id=set_id))
    joined = world.service.join(JoinRequest(join_code=created.join_code, name="Ada"))
    return {
        "run_id": created.speedrun_id,
        "host_token": created.host_token,
        "participant_id": joined.participant_id,
        "participant_token": joined.participant_token,
    }


def authorize(token: str | None) -> dict[str, Any]:
    event: dict[str, Any] = {
        "type": "REQUEST",
        "methodArn": METHOD_ARN,
        "headers": {"Host": "abcdef123.execute-api.us-east-1.amazonaws.com", "Sec-WebSocket-Version": "13"},
        "multiValueHeaders": {},
        "queryStringParameters": {} if token is None else {"token": token},
        "multiValueQueryStringParameters": {} if token is None else {"token": [token]},
        "stageVariables": {},
        "requestContext": {
            "routeKey": "$connect",
            "eventType": "CONNECT",
            "extendedRequestId": "x",
            "requestTime": "01/Jan/2026:00:00:00 +0000",
            "messageDirection": "IN",
            "stage": "prod",
            "connectedAt": 0,
            "requestTimeEpoch": 0,
            "identity": {"sourceIp": "127.0.0.1"},
            "requestId": "r1",
            "domainName": "abcdef123.execute-api.us-east-1.amazonaws.com",
            "connectionId": "conn-1=",
            "apiId": "abcdef123",
        },
    }
    return authorizer_lambda.handler(event, FakeLambdaContext())


def statement(policy: dict[str, Any]) -> dict[str, Any]:
    statements = policy["policyDocument"]["Statement"]
    assert len(statements) == 1
    return dict(statements[0])


def assert_denied(policy: dict[str, Any]) -> None:
    assert statement(policy)["Effect"] == "Deny"
    assert statement(policy)["Resource"] == [METHOD_ARN]
    assert "context" not in policy


def test_host_token_is_allowed_with_the_run_context(run: dict[str, str], world: SignOnWorld) -> None:
    policy = authorize(run["host_token"])
    assert statement(policy) == {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": [METHOD_ARN]}
    assert policy["principalId"] == f"{run['run_id']}:host"
    claims = world.tokens.verify(run["host_token"])
    assert policy["context"] == {
        "role": "host",
        "run_id": run["run_id"],
        "participant_id": "",
        "token_id": claims.token_id,
        "expires_at": claims.expires_at_ms,
    }


def test_participant_token_is_allowed_with_the_run_context(run: dict[str, str], world: SignOnWorld) -> None:
    policy = authorize(run["participant_token"])
    assert statement(policy)["Effect"] == "Allow"
    assert policy["principalId"] == f"{run['run_id']}:{run['participant_id']}"
    claims = world.tokens.verify(run["participant_token"])
    assert policy["context"] == {
        "role": "participant",
        "run_id": run["run_id"],
        "participant_id": run["participant_id"],
        "token_id": claims.token_id,
        "expires_at": claims.expires_at_ms,
    }


@pytest.mark.parametrize("token", [None, "", "garbage", "a.b"])
def test_missing_or_malformed_token_is_401(run: dict[str, str], token: str | None) -> None:
    with pytest.raises(Exception, match=r"^Unauthorized$") as raised:
        authorize(token)
    assert type(raised.value) is Exception  # API Gateway maps exactly this to 401


def test_forged_token_is_denied(run: dict[str, str]) -> None:
    header = jwt.get_unverified_header(run["host_token"])
    claims = jwt.decode(run["host_token"], options={"verify_signature": False})
    forged = jwt.encode(claims, b"k" * 32, algorithm="HS256", headers={"kid": header["kid"]})
    assert_denied(authorize(forged))


def test_participant_claiming_to_be_host_is_denied(run: dict[str, str]) -> None:
    header, _, signature = run["participant_token"].split(".")
    host_payload = run["host_token"].split(".")[1]
    assert_denied(authorize(f"{header}.{host_payload}.{signature}"))


def test_expired_token_is_denied(run: dict[str, str], world: SignOnWorld) -> None:
    expired = world.tokens.issue(run["run_id"], "host", None, expires_at_ms=now_ms() - 1000).token
    assert_denied(authorize(expired))


def test_token_for_another_audience_is_denied(run: dict[str, str], world: SignOnWorld) -> None:
    kid, key = world.tokens._keys.current()
    claims = jwt.decode(run["host_token"], options={"verify_signature": False})
    claims["aud"] = "speedrun-http"
    assert_denied(authorize(jwt.encode(claims, key, algorithm="HS256", headers={"kid": kid})))
    claims.update(aud=AUDIENCE, iss="someone-else")
    assert_denied(authorize(jwt.encode(claims, key, algorithm="HS256", headers={"kid": kid})))
    claims.update(iss=ISSUER)
    assert statement(authorize(jwt.encode(claims, key, algorithm="HS256", headers={"kid": kid})))["Effect"] == "Allow"


def test_token_of_a_run_that_does_not_exist_is_denied(world: SignOnWorld) -> None:
    token = world.tokens.issue("nosuchrun234", "host", None, expires_at_ms=now_ms() + 60_000).token
    assert_denied(authorize(token))


def test_valid_participant_id_in_another_run_is_denied(run: dict[str, str], world: SignOnWorld) -> None:
    set_id = world.upload([question(5)])
    other = world.service.create_speedrun("host-sub-1", CreateSpeedRunRequest(question_set_id=set_id))
    token = world.tokens.issue(
        other.speedrun_id, "participant", run["participant_id"], expires_at_ms=now_ms() + 60_000
    ).token
    assert_denied(authorize(token))


def test_kicked_participant_is_denied_and_others_still_allowed(run: dict[str, str], world: SignOnWorld) -> None:
    assert statement(authorize(run["participant_token"]))["Effect"] == "Allow"
    world.engine.call("kick", run["run_id"], run["participant_id"]).raise_error()
    assert_denied(authorize(run["participant_token"]))
    assert statement(authorize(run["host_token"]))["Effect"] == "Allow"


def test_dropped_run_is_denied(run: dict[str, str], world: SignOnWorld) -> None:
    world.engine.drop(run["run_id"])
    assert_denied(authorize(run["host_token"]))
    assert_denied(authorize(run["participant_token"]))

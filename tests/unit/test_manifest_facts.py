"""The deployment facts the manifest defines once are the ones every reader applies: the engine's
WebSocket actions, and the local stack's queues and user pool (the synthesized template's side is
checked in tests/infra, on the session's one synthesis)."""

from __future__ import annotations

import string
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import boto3
import fakeredis
import pytest
from moto import mock_aws
from moto.cognitoidp.responses import CognitoIdpJsonWebKeyResponse

from local_stack import aws
from speedrun import manifest
from speedrun.adapters.queues import JobQueues
from speedrun.engine.service import SpeedRunService
from speedrun.engine.store import RunEngine
from speedrun.manifest import FunctionSpec, QueueSpec
from tests.support.fakes import RecordingPusher
from tests.support.fanout import InProcessFanOut
from tests.support.played_run import ManualClock

REGION = "us-east-1"


@pytest.fixture(scope="module")
def clients() -> dict[str, Any]:
    # Created once (each costs about a second); moto intercepts them inside every test's mock.
    return {service: boto3.client(service, region_name=REGION) for service in ("sqs", "cognito-idp")}


@pytest.fixture
def sqs(clients: dict[str, Any]) -> Iterator[Any]:
    with mock_aws():
        yield clients["sqs"]


@pytest.fixture
def cognito(clients: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    # create_local_user_pool publishes its pool's key on moto's JWKS response class: put moto's back afterwards.
    monkeypatch.setattr(CognitoIdpJsonWebKeyResponse, "json_web_key", CognitoIdpJsonWebKeyResponse.json_web_key)
    with mock_aws():
        yield clients["cognito-idp"]


def service_actions() -> set[str]:
    engine = RunEngine(fakeredis.FakeRedis(decode_responses=True))
    pusher = RecordingPusher()
    clock = ManualClock()
    service = SpeedRunService(engine, pusher, JobQueues(object()), InProcessFanOut(engine, pusher, clock))
    return set(service.actions)


def routed_actions() -> set[str]:
    """The WebSocket API's route keys that are client actions (`$`-keys are API Gateway's own)."""
    return {key for key, _function in manifest.ws_routes() if not key.startswith("$")}


def test_every_routed_websocket_action_has_a_handler_in_the_engine() -> None:
    assert routed_actions() - service_actions() == set()


def test_every_engine_handler_is_a_routed_websocket_action() -> None:
    assert service_actions() - routed_actions() == set()


def test_the_routed_actions_are_the_manifests_actions() -> None:
    assert routed_actions() == {action.value for action in manifest.WsAction}


def attributes(sqs: Any, url: str) -> dict[str, str]:
    return dict(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"])


def test_local_queues_get_the_manifests_visibility_timeout_and_dead_letter_retention(sqs: Any) -> None:
    queues = aws.create_queues(sqs, manifest.QUEUES, manifest.FUNCTIONS)
    assert set(queues) == {spec.name for spec in manifest.QUEUES}
    for name, queue in queues.items():
        consumer = manifest.queue_consumer(name)
        expected = manifest.visibility_timeout_s(consumer)
        assert expected >= manifest.VISIBILITY_TIMEOUT_FACTOR * consumer.timeout_s, name
        assert queue.visibility_timeout_s == expected, name
        assert attributes(sqs, queue.url)["VisibilityTimeout"] == str(expected), name
        assert attributes(sqs, queue.dead_letter_url)["MessageRetentionPeriod"] == str(manifest.DLQ_RETENTION_S), name


def test_local_queues_follow_the_specs_they_are_given_and_the_test_override(sqs: Any) -> None:
    queue = QueueSpec(name="jobs", fifo=False)
    consumer = FunctionSpec(name="worker", description="a test consumer", queue_trigger="jobs", timeout_s=7)
    (derived,) = aws.create_queues(sqs, [queue], [consumer]).values()
    assert attributes(sqs, derived.url)["VisibilityTimeout"] == str(manifest.visibility_timeout_s(consumer))

    overridden_queue = QueueSpec(name="fast", fifo=True)
    overridden_consumer = replace(consumer, queue_trigger="fast")
    (overridden,) = aws.create_queues(sqs, [overridden_queue], [overridden_consumer], visibility_override_s=1).values()
    assert overridden.visibility_timeout_s == 1
    assert attributes(sqs, overridden.url)["VisibilityTimeout"] == "1"


def test_queue_consumers_takes_the_specs_it_is_given() -> None:
    consumer = FunctionSpec(name="worker", description="a test consumer", queue_trigger="jobs")
    other = FunctionSpec(name="http", description="not a consumer")
    queues = [QueueSpec(name="jobs", fifo=False), QueueSpec(name="unconsumed", fifo=False)]
    assert manifest.queue_consumers(queues, [other, consumer]) == {"jobs": consumer}
    assert manifest.queue_consumers() == {spec.name: manifest.queue_consumer(spec.name) for spec in manifest.QUEUES}


def test_the_local_user_pool_has_the_manifests_password_policy(cognito: Any) -> None:
    user_pool = aws.create_local_user_pool(cognito)
    pool = cognito.describe_user_pool(UserPoolId=user_pool.user_pool_id)["UserPool"]
    assert pool["Policies"]["PasswordPolicy"] == manifest.PASSWORD_POLICY.as_cognito()


@pytest.mark.parametrize("min_length", [manifest.PASSWORD_POLICY.min_length, 40])
def test_strong_passwords_satisfy_the_manifests_password_policy(
    monkeypatch: pytest.MonkeyPatch, min_length: int
) -> None:
    monkeypatch.setattr(manifest, "PASSWORD_POLICY", replace(manifest.PASSWORD_POLICY, min_length=min_length))
    password = aws.strong_password()
    assert len(password) >= min_length
    assert any(character in string.ascii_lowercase for character in password)
    assert any(character in string.ascii_uppercase for character in password)
    assert any(character in string.digits for character in password)
    assert any(character in string.punctuation for character in password)

"""The attacker's test world: the local stack in-process (real handlers, moto, a real Redis) with two
hosts, two players, a question set and a speed-run per host, and a participant in host A's run;
plus forged tokens of every kind and a snapshot of all state to prove a refusal changed nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
import redis
from cryptography.hazmat.primitives.asymmetric import rsa
from moto.cognitoidp.models import cognitoidp_backends
from moto.core import DEFAULT_ACCOUNT_ID

from local_stack import aws, client
from local_stack.client import HttpReply, bearer, http_request
from local_stack.demo import demo_question_set
from local_stack.stack import LocalStack, LocalStackOptions
from speedrun.adapters.tables import MODELS
from speedrun.adapters.tokens import AUDIENCE, ISSUER, Keyring
from speedrun.clock import now_ms
from speedrun.signon.join_limit import join_window_key
from tests.support.redis_state import contents

JOIN_COUNTER_PREFIX = join_window_key("", 0).split(":", 1)[0] + ":"
"""Join-flood counters change with every join attempt (also refused ones): not run state."""
SETTLE_TIMEOUT_S = 30.0


@dataclass
class Account:
    username: str
    id_token: str
    sub: str


@dataclass
class OpenRun:
    speedrun_id: str
    join_code: str
    host_token: str


@dataclass
class SecurityWorld:
    stack: LocalStack
    host_a: Account
    host_b: Account
    player_a: Account
    player_b: Account
    set_a: str
    set_b: str
    run_a: OpenRun
    run_b: OpenRun
    participant_id: str
    participant_token: str
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def base_url(self) -> str:
        return self.stack.base_url

    def aws_client(self, service: str) -> Any:
        return aws.client(service, self.stack.environment["AWS_ENDPOINT_URL"], self.stack.options.region)

    def redis(self) -> redis.Redis:
        assert self.stack.redis is not None
        return redis.Redis.from_url(self.stack.redis.url)

    def request(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        json_body: Any = None,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> HttpReply:
        all_headers = {**(bearer(token) if token is not None else {}), **(headers or {})}
        return http_request(method, f"{self.base_url}{path}", json_body=json_body, data=data, headers=all_headers)

    def join(self, join_code: str, name: str) -> dict[str, Any]:
        reply = self.request("POST", "/api/signon/join", json_body={"join_code": join_code, "name": name})
        assert reply.status == 201, reply.body
        joined: dict[str, Any] = reply.json()
        return joined

    # --- forged tokens ---------------------------------------------------------------------------

    def keyring(self) -> Keyring:
        secret = self.aws_client("secretsmanager").get_secret_value(SecretId=aws.TOKEN_SECRET_ID)
        return Keyring.from_secret(secret["SecretString"])

    def run_token(
        self,
        run_id: str,
        *,
        role: str = "host",
        participant_id: str | None = None,
        expires_in_s: int = 3600,
        key: bytes | None = None,
        kid: str | None = None,
    ) -> str:
        """A run token as sign-on issues it, unless told otherwise (another key, kid or expiry)."""
        keyring = self.keyring()
        now = now_ms() // 1000
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": f"{run_id}:{participant_id or 'host'}",
            "role": role,
            "run": run_id,
            "jti": f"forged-{now}",
            "iat": now - 7200,
            "exp": now + expires_in_s,
        }
        if participant_id:
            claims["pid"] = participant_id
        signing_kid = kid or keyring.current_kid
        signing_key = key or keyring.keys[keyring.current_kid]
        return jwt.encode(claims, signing_key, algorithm="HS256", headers={"kid": signing_kid})

    def cognito_token(self, sub: str, *, expires_in_s: int = 3600, kid: str = "dummy", own_key: bool = False) -> str:
        """An ID token for this pool and client, signed with moto's pool key (as Cognito would) or
        with a key of our own."""
        user_pool = self.stack.user_pool
        assert user_pool is not None
        now = int(time.time())
        claims = {
            "sub": sub,
            "iss": aws.issuer(self.stack.options.region, user_pool.user_pool_id),
            "aud": user_pool.client_id,
            "token_use": "id",
            "auth_time": now - 7200,
            "iat": now - 7200,
            "exp": now + expires_in_s,
            "cognito:username": "forged",
        }
        key: Any = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if own_key
            else pool_signing_key(self.stack.options.region, user_pool.user_pool_id)
        )
        return jwt.encode(claims, key, algorithm="RS256", headers={"kid": kid})

    # --- state ---------------------------------------------------------------------------------

    def queued_messages(self) -> dict[str, int]:
        """Each queue's messages, visible, in flight or delayed."""
        sqs = self.aws_client("sqs")
        counts = {}
        for name, queue in self.stack.queues.items():
            attributes = sqs.get_queue_attributes(QueueUrl=queue.url, AttributeNames=["All"])["Attributes"]
            counts[name] = sum(
                int(attributes[count])
                for count in (
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                    "ApproximateNumberOfMessagesDelayed",
                )
            )
        return counts

    def _no_invocation_running(self) -> bool:
        return self.stack.lambdas is None or self.stack.lambdas.in_flight == 0

    def settle(self) -> None:
        """Waits until every queue is empty: what the setup queued (a flush asked for a second later,
        a completion) is done before the snapshots begin."""
        wait_until(lambda: not any(self.queued_messages().values()), "the queues to drain", self.queued_messages)

    def snapshot(self) -> dict[str, Any]:
        """Every Redis key (serialized value), every table item, every queue's message count (a
        delayed message that comes due is still the same message), once no invocation is running: an
        earlier test's `$disconnect` runs after its socket closed and may otherwise land between two
        snapshots."""
        wait_until(self._no_invocation_running, "the stack's invocations to finish")
        client_ = self.redis()
        keys = sorted(key for key in client_.scan_iter() if not key.decode().startswith(JOIN_COUNTER_PREFIX))
        redis_state = contents(client_, keys)
        dynamodb = self.aws_client("dynamodb")
        tables: dict[str, list[str]] = {}
        for table in MODELS:
            items: list[str] = []
            for page in dynamodb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
                items += [json.dumps(item, sort_keys=True) for item in page["Items"]]
            tables[table] = sorted(items)
        return {"redis": redis_state, "tables": tables, "queues": self.queued_messages()}


def pool_signing_key(region: str, user_pool_id: str) -> Any:
    """The private key the local stack gave the pool at its start (`aws.sign_with_a_key_of_this_start`;
    its public half is the pool's JWKS): what Cognito itself would sign with."""
    return cognitoidp_backends[DEFAULT_ACCOUNT_ID][region].user_pools[user_pool_id].json_web_key.private_key


def add_account(world_stack: LocalStack, username: str) -> Account:
    """A confirmed user of the stack's pool, signed in."""
    user_pool = world_stack.user_pool
    assert user_pool is not None
    cognito = aws.client("cognito-idp", world_stack.environment["AWS_ENDPOINT_URL"], world_stack.options.region)
    password = aws.strong_password()
    cognito.admin_create_user(UserPoolId=user_pool.user_pool_id, Username=username, MessageAction="SUPPRESS")
    cognito.admin_set_user_password(
        UserPoolId=user_pool.user_pool_id, Username=username, Password=password, Permanent=True
    )
    return signed_in(world_stack, username, password)


def signed_in(world_stack: LocalStack, username: str, password: str) -> Account:
    user_pool = world_stack.user_pool
    assert user_pool is not None
    token = client.sign_in(world_stack.base_url, user_pool.client_id, username, password)
    return Account(username, token, str(jwt.decode(token, options={"verify_signature": False})["sub"]))


def _upload(stack: LocalStack, account: Account, name: str) -> str:
    content = json.dumps({**demo_question_set(question_count=3), "name": name}).encode()
    reply = client.upload_question_set(stack.base_url, account.id_token, f"{name}.json", content)
    assert reply.status == 201, reply.body
    return str(reply.json()["id"])


def _open_run(stack: LocalStack, account: Account, set_id: str) -> OpenRun:
    reply = http_request(
        "POST",
        f"{stack.base_url}/api/signon/speedruns",
        json_body={"question_set_id": set_id},
        headers=bearer(account.id_token),
    )
    assert reply.status == 201, reply.body
    body = reply.json()
    return OpenRun(body["speedrun_id"], body["join_code"], body["host_token"])


@contextmanager
def security_world(redis_server_url: str) -> Iterator[SecurityWorld]:
    redis.Redis.from_url(redis_server_url).flushall()
    options = LocalStackOptions(port=0, examples_dir=None, web_dir=None, redis_url=redis_server_url)
    with LocalStack(options) as stack:
        host_a = signed_in(stack, stack.host_username, stack.host_password)
        host_b = add_account(stack, "host-b")
        player_a = add_account(stack, "player-a")
        player_b = add_account(stack, "player-b")
        set_a, set_b = _upload(stack, host_a, "Set A"), _upload(stack, host_b, "Set B")
        run_a, run_b = _open_run(stack, host_a, set_a), _open_run(stack, host_b, set_b)
        world = SecurityWorld(stack, host_a, host_b, player_a, player_b, set_a, set_b, run_a, run_b, "", "")
        joined = world.join(run_a.join_code, "Pat")
        world.participant_id, world.participant_token = joined["participant_id"], joined["participant_token"]
        yield world


def wait_until(condition: Any, what: str, last_seen: Any = None) -> Any:
    """Polls `condition()` until it returns something truthy (queue workers run asynchronously);
    `last_seen()`, if given, says in the failure what was there at the end."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}" + (f": {last_seen()}" if last_seen else ""))

"""`--data DIR`: what the local stack keeps between runs (DynamoDB items, the host account and its
user id, the run-token keys, the question store folder, Redis's append-only file)."""

from __future__ import annotations

from pathlib import Path

import boto3
import jwt
import redis

from local_stack import aws
from local_stack.stack import LocalStack, LocalStackOptions
from tests.integration.local_stack.local_stack_spec import FUNCTIONS, QUEUES, spec_definitions


def _options(data_dir: Path, web_dir: Path) -> LocalStackOptions:
    recorded = data_dir.parent / "received.jsonl"
    return LocalStackOptions(
        port=0,
        data_dir=data_dir,
        functions=FUNCTIONS,
        queues=QUEUES,
        definitions=lambda template: spec_definitions(template, recorded),
        web_dir=web_dir,
        examples_dir=None,
    )


def _sub(id_token: str) -> str:
    return str(jwt.decode(id_token, options={"verify_signature": False})["sub"])


def _token_secret(stack: LocalStack) -> str:
    client = aws.client("secretsmanager", stack.environment["AWS_ENDPOINT_URL"], "us-east-1")
    return str(client.get_secret_value(SecretId=aws.TOKEN_SECRET_ID)["SecretString"])


def test_data_dir_keeps_tables_host_account_token_keys_question_store_and_redis(tmp_path: Path) -> None:
    data_dir, web_dir = tmp_path / "data", tmp_path / "web"
    web_dir.mkdir()
    with LocalStack(_options(data_dir, web_dir)) as first:
        sub = _sub(first.sign_in_host())
        password = first.host_password
        secret = _token_secret(first)
        assert first.question_store is not None
        (first.question_store / "set-1.json").write_text("{}")
        dynamodb = boto3.client("dynamodb", endpoint_url=first.environment["AWS_ENDPOINT_URL"])
        dynamodb.put_item(
            TableName="runs",
            Item={"run_id": {"S": "r1"}, "host": {"S": sub}, "name": {"S": "kept"}, "blob": {"B": b"\x00\x01"}},
        )
        assert first.redis is not None
        redis_description = first.redis.description
        redis.Redis.from_url(first.environment["REDIS_URL"]).set("kept-key", "1")

    with LocalStack(_options(data_dir, web_dir)) as second:
        assert second.restored_items == 1
        dynamodb = boto3.client("dynamodb", endpoint_url=second.environment["AWS_ENDPOINT_URL"])
        item = dynamodb.get_item(TableName="runs", Key={"run_id": {"S": "r1"}})["Item"]
        assert item["name"] == {"S": "kept"}
        assert item["blob"] == {"B": b"\x00\x01"}
        assert second.host_password == password
        assert _sub(second.sign_in_host()) == sub
        assert _token_secret(second) == secret
        assert second.question_store is not None
        assert (second.question_store / "set-1.json").read_text() == "{}"
        kept = redis.Redis.from_url(second.environment["REDIS_URL"]).get("kept-key")
        if "redis-server" in redis_description:
            assert kept == b"1"
        else:  # the embedded fakeredis fallback keeps nothing, and says so in the banner
            assert "in memory" in redis_description
            assert kept is None

"""The sign-on test world: moto (Secrets Manager, DynamoDB), a question-set folder, the real engine
on the test Redis, and a pusher that records instead of calling @connections."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import redis
from moto import mock_aws

from speedrun.adapters.tables import QuestionSetModel
from speedrun.adapters.tokens import RunTokens, SecretsManagerKeys, ensure_token_secret
from speedrun.engine.store import RunEngine
from speedrun.question_sets.repository import DynamoQuestionSetRepository
from speedrun.question_sets.service import QuestionSetService, load_questions
from speedrun.question_sets.store import FolderQuestionStore
from speedrun.signon.service import SignOnService
from tests.support.fakes import RecordingPusher
from tests.support.fanout import InProcessFanOut

SECRET_ID = "speedrun/test/token-keys"
WS_URL = "ws://127.0.0.1:9/ws"
HOST_SUB = "host-sub-1"
OTHER_HOST_SUB = "host-sub-2"


@dataclass
class SignOnWorld:
    engine: RunEngine
    tokens: RunTokens
    pusher: RecordingPusher
    fanout: InProcessFanOut
    """Sign-on's broadcasts, posted with `pusher` when due (on the real clock)."""
    question_sets: QuestionSetService
    service: SignOnService

    def upload(self, questions: list[dict[str, Any]], *, owner: str = HOST_SUB, name: str = "Test set") -> str:
        content = json.dumps({"name": name, "questions": questions}).encode()
        return self.question_sets.upload(owner, content, filename="set.json", name=None).id


def question(n: int, category: str = "general") -> dict[str, Any]:
    return {
        "category": category,
        "text": f"Question {n}?",
        "options": [f"a{n}", f"b{n}", f"c{n}"],
        "correct": [n % 3],
        "explanation": f"Because {n}.",
    }


@cache
def _secrets_client() -> Any:
    # Creating a boto3 client costs ~1 s (service models); moto intercepts one made once just the same.
    return boto3.client("secretsmanager", region_name="us-east-1")


@contextmanager
def signon_world(redis_url: str, question_dir: Path) -> Iterator[SignOnWorld]:
    with mock_aws():
        secrets_client = _secrets_client()
        ensure_token_secret(SECRET_ID, client=secrets_client)
        QuestionSetModel.create_table(billing_mode="PAY_PER_REQUEST", wait=True)
        question_sets = QuestionSetService(FolderQuestionStore(question_dir), DynamoQuestionSetRepository())
        engine = RunEngine(redis.Redis.from_url(redis_url, decode_responses=True))
        tokens = RunTokens(SecretsManagerKeys(SECRET_ID, client=secrets_client))
        pusher = RecordingPusher()
        fanout = InProcessFanOut(engine, pusher, engine.clock)
        service = SignOnService(
            engine,
            tokens,
            fanout,
            ws_url=WS_URL,
            load_questions=lambda owner, set_id: load_questions(owner, set_id, service=question_sets),
        )
        yield SignOnWorld(engine, tokens, pusher, fanout, question_sets, service)

"""What `--data DIR` keeps between runs of the local stack, besides the question store folder and
Redis's append-only file: DynamoDB items, the host account's password and user id (Cognito `sub`:
question sets and runs are owned by it), and the run-token signing keys (so tokens of live runs in
the persisted Redis stay valid).

moto keeps everything in memory, so tables are dumped at a clean shutdown and written back at the
next start; a killed process loses the DynamoDB changes since its start.
"""

from __future__ import annotations

import base64
import json
import logging
from pathlib import Path
from typing import Any

from moto.cognitoidp.models import cognitoidp_backends
from moto.core import DEFAULT_ACCOUNT_ID

logger = logging.getLogger("local_stack.persistence")
BATCH_WRITE_LIMIT = 25


def _encode_bytes(value: object) -> object:
    if isinstance(value, bytes):
        return {"__bytes__": base64.b64encode(value).decode()}
    raise TypeError(f"cannot store {type(value).__name__}")


def _decode_bytes(value: dict[str, Any]) -> object:
    if set(value) == {"__bytes__"}:
        return base64.b64decode(value["__bytes__"])
    return value


class DataDir:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.tables_dir = root / "dynamodb"
        self.tables_dir.mkdir(parents=True, exist_ok=True)
        self._host_file = root / "host-account.json"
        self._secret_file = root / "token-secret.json"

    # --- DynamoDB ---

    def save_tables(self, dynamodb: Any, table_names: list[str]) -> int:
        saved = 0
        for table in table_names:
            items: list[dict[str, Any]] = []
            for page in dynamodb.get_paginator("scan").paginate(TableName=table):
                items.extend(page["Items"])
            path = self.tables_dir / f"{table}.json"
            partial = path.with_suffix(".partial")
            partial.write_text(json.dumps(items, default=_encode_bytes))
            partial.replace(path)
            saved += len(items)
        return saved

    def load_tables(self, dynamodb: Any, table_names: list[str]) -> int:
        loaded = 0
        for table in table_names:
            path = self.tables_dir / f"{table}.json"
            if not path.exists():
                continue
            items = json.loads(path.read_text(), object_hook=_decode_bytes)
            for start in range(0, len(items), BATCH_WRITE_LIMIT):
                batch = [{"PutRequest": {"Item": item}} for item in items[start : start + BATCH_WRITE_LIMIT]]
                pending: dict[str, Any] = {table: batch}
                while pending:
                    pending = dynamodb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            loaded += len(items)
        return loaded

    # --- the host account ---

    def host_account(self) -> tuple[str, str] | None:
        """(password, sub) of the host account of an earlier run."""
        if not self._host_file.exists():
            return None
        saved = json.loads(self._host_file.read_text())
        return str(saved["password"]), str(saved["sub"])

    def save_host_account(self, password: str, sub: str) -> None:
        self._host_file.write_text(json.dumps({"password": password, "sub": sub}))
        self._host_file.chmod(0o600)

    # --- run-token signing keys ---

    def token_secret(self) -> str | None:
        return self._secret_file.read_text() if self._secret_file.exists() else None

    def save_token_secret(self, secret_string: str) -> None:
        self._secret_file.write_text(secret_string)
        self._secret_file.chmod(0o600)


def user_sub(cognito: Any, user_pool_id: str, username: str) -> str:
    attributes = cognito.admin_get_user(UserPoolId=user_pool_id, Username=username)["UserAttributes"]
    return next(str(attribute["Value"]) for attribute in attributes if attribute["Name"] == "sub")


def restore_user_sub(region: str, user_pool_id: str, username: str, sub: str) -> None:
    """Give the re-created host its earlier `sub`, which owns the persisted question sets and runs.

    Cognito never lets a client choose a `sub`; moto runs in this process, so its user record is set
    directly (the one place the local stack reaches into moto's internals).
    """
    user = cognitoidp_backends[DEFAULT_ACCOUNT_ID][region].user_pools[user_pool_id].users[username]
    user.id = sub
    user.update_attributes([{"Name": "sub", "Value": sub}])

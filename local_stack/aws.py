"""AWS emulation: moto's server in-process on a loopback port, and the resources the CDK app would create.

Everything is built from the same declarations the CDK app reads: tables from the pynamodb models
(`speedrun.adapters.tables.create_all`), queues and their dead-letter queues from `manifest.QUEUES`, the
run-token secret, and a Cognito user pool + web client (USER_PASSWORD_AUTH) with a host account.
"""

from __future__ import annotations

import json
import logging
import secrets
import string
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
from joserfc.jwk import RSAKey
from moto.cognitoidp.models import cognitoidp_backends
from moto.cognitoidp.responses import CognitoIdpJsonWebKeyResponse
from moto.core import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer

from speedrun import manifest
from speedrun.adapters.tables import MODELS
from speedrun.manifest import FunctionSpec, QueueSpec

logger = logging.getLogger("local_stack.aws")

NAME_PREFIX = "speedrun-local"
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local", "AWS_SESSION_TOKEN": "local"}
TOKEN_SECRET_ID = f"{NAME_PREFIX}/run-token-keys"
HOST_USERNAME = "host"


class MotoServer:
    """moto's threaded server (Flask/werkzeug) on a free loopback port."""

    def __init__(self) -> None:
        # moto logs every request through werkzeug: far too chatty for a developer's terminal.
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.endpoint_url = ""

    def start(self) -> str:
        self._server.start()
        host, port = self._server.get_host_and_port()
        self.endpoint_url = f"http://{host}:{port}"
        # moto's state is global to the process: an earlier stack (or test) in this process must not leak in.
        reset = urllib.request.Request(f"{self.endpoint_url}/moto-api/reset", method="POST")  # noqa: S310
        with urllib.request.urlopen(reset, timeout=30):  # noqa: S310 (loopback moto server)
            pass
        return self.endpoint_url

    def stop(self) -> None:
        self._server.stop()


def client(service: str, endpoint_url: str, region: str) -> Any:
    return boto3.client(
        service,  # type: ignore[call-overload]
        endpoint_url=endpoint_url,
        region_name=region,
        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=FAKE_CREDENTIALS["AWS_SESSION_TOKEN"],
    )


@dataclass(frozen=True)
class LocalQueue:
    spec: QueueSpec
    url: str
    arn: str
    dead_letter_url: str
    dead_letter_arn: str
    visibility_timeout_s: int


def queue_name(spec: QueueSpec, *, dead_letter: bool = False) -> str:
    base = f"{NAME_PREFIX}-{spec.name}{'-dlq' if dead_letter else ''}"
    return f"{base}.fifo" if spec.fifo else base


def create_queues(
    sqs: Any,
    specs: Sequence[QueueSpec],
    functions: Sequence[FunctionSpec],
    *,
    visibility_override_s: int | None = None,
) -> dict[str, LocalQueue]:
    """Each queue with its dead-letter queue and redrive policy (maxReceiveCount from the spec), its
    visibility timeout derived from its consumer's as deployed, unless `visibility_override_s` says otherwise."""
    consumers = manifest.queue_consumers(specs, functions)
    queues: dict[str, LocalQueue] = {}
    for spec in specs:
        fifo_attributes = {"FifoQueue": "true", "ContentBasedDeduplication": "false"} if spec.fifo else {}
        dlq_url = sqs.create_queue(
            QueueName=queue_name(spec, dead_letter=True),
            Attributes={**fifo_attributes, "MessageRetentionPeriod": str(manifest.DLQ_RETENTION_S)},
        )["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        visibility = (
            visibility_override_s
            if visibility_override_s is not None
            else manifest.visibility_timeout_s(consumers[spec.name])
        )
        redrive = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": spec.max_receive_count}
        url = sqs.create_queue(
            QueueName=queue_name(spec),
            Attributes={
                **fifo_attributes,
                "VisibilityTimeout": str(visibility),
                "RedrivePolicy": json.dumps(redrive),
            },
        )["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queues[spec.name] = LocalQueue(spec, url, arn, dlq_url, dlq_arn, visibility)
    return queues


@dataclass(frozen=True)
class LocalUserPool:
    user_pool_id: str
    client_id: str
    host_username: str
    host_password: str


def strong_password() -> str:
    """A random password `manifest.PASSWORD_POLICY` accepts: its minimum length of letters and digits,
    then one character of each class the policy may require."""
    alphabet = string.ascii_letters + string.digits
    core = "".join(secrets.choice(alphabet) for _ in range(manifest.PASSWORD_POLICY.min_length))
    return f"{core}Aa1!"


def create_local_user_pool(
    cognito: Any, *, username: str = HOST_USERNAME, password: str | None = None
) -> LocalUserPool:
    """A user pool like the CDK one, its web client (USER_PASSWORD_AUTH) and a confirmed host account."""
    pool_id = cognito.create_user_pool(
        PoolName=f"{NAME_PREFIX}-users",
        Policies={"PasswordPolicy": manifest.PASSWORD_POLICY.as_cognito()},
        AutoVerifiedAttributes=["email"],
        UsernameConfiguration={"CaseSensitive": False},
    )["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=f"{NAME_PREFIX}-web",
        GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    password = password or strong_password()
    cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        MessageAction="SUPPRESS",
        UserAttributes=[
            {"Name": "email", "Value": f"{username}@speedrun.local"},
            {"Name": "email_verified", "Value": "true"},
        ],
    )
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=username, Password=password, Permanent=True)
    sign_with_a_key_of_this_start(cognito.meta.region_name, pool_id)
    return LocalUserPool(pool_id, client_id, username, password)


MOTO_KEY_ID = "dummy"
"""moto writes this `kid` into every token it signs (a fixed header), whatever the key."""


def sign_with_a_key_of_this_start(region: str, user_pool_id: str) -> None:
    """moto signs every pool's ID tokens with one private key it ships (anyone can read it, so anyone
    could mint a token for any `sub`): give the pool an RSA key generated now instead, and publish its
    public half as the pool's JWKS, which the gateway's authorizer and the functions verify against.
    moto runs in this process (ThreadedMotoServer), so its pool and its JWKS response are patched here."""
    key = RSAKey.generate_key(2048, parameters={"kid": MOTO_KEY_ID, "alg": "RS256", "use": "sig"}, private=True)
    cognitoidp_backends[DEFAULT_ACCOUNT_ID][region].user_pools[user_pool_id].json_web_key = key
    CognitoIdpJsonWebKeyResponse.json_web_key = json.dumps({"keys": [key.as_dict(private=False)]}).encode()


def issuer(region: str, user_pool_id: str) -> str:
    """moto signs ID tokens with the public Cognito issuer of the pool, as the JWT authorizer expects."""
    return f"https://cognito-idp.{region}.amazonaws.com/{user_pool_id}"


REDIS_AUTH_SECRET_ID = f"{NAME_PREFIX}/cache-user"


def local_values(
    *,
    queues: dict[str, LocalQueue],
    question_store: str,
    image_store: str,
    redis_url: str,
    redis_cluster: bool,
    redis_auth_secret_id: str,
    connections_url: str,
    ws_url: str,
    user_pool: LocalUserPool,
    region: str,
) -> dict[str, str]:
    """What the local stack provides in place of each deployed resource a function's variables name,
    by variable name (`local_stack.runtime.definitions.resolve_environment` applies it). The mount
    path of the question store and the cache's cluster mode are placements, not references, but they
    too say where the deployed resource is, so they are replaced as well. The image bucket is a
    folder (`image_store`), which the gateway serves at `/images/`."""
    values = {
        manifest.QUESTION_STORE_ENV: question_store,
        manifest.IMAGE_STORE_ENV: Path(image_store).as_uri(),
        manifest.REDIS_URL_ENV: redis_url,
        manifest.REDIS_CLUSTER_ENV: "1" if redis_cluster else "0",
        manifest.REDIS_AUTH_SECRET_ENV: redis_auth_secret_id,
        manifest.TOKEN_SECRET_ENV: TOKEN_SECRET_ID,
        manifest.CONNECTIONS_URL_ENV: connections_url,
        manifest.WS_URL_ENV: ws_url,
        manifest.USER_POOL_CLIENT_ID_ENV: user_pool.client_id,
        manifest.COGNITO_ISSUER_ENV: issuer(region, user_pool.user_pool_id),
    }
    for table in MODELS:
        values[manifest.table_env(table)] = table
    for name, queue in queues.items():
        values[manifest.queue_env(name)] = queue.url
    return values


def placeholder_values(region: str = "us-east-1") -> tuple[dict[str, str], dict[str, str]]:
    """Local values and extras that point every variable at an unreachable loopback port: enough to
    start and import every function without a running stack (tests, cold-start measurements)."""
    nowhere = "http://127.0.0.1:9"
    user_pool = LocalUserPool(f"{region}_placeholder", "placeholder-client", HOST_USERNAME, "")
    queues = {
        spec.name: LocalQueue(spec, f"{nowhere}/queue/{spec.name}", "arn", "dlq", "dlq-arn", 60)
        for spec in manifest.QUEUES
    }
    values = local_values(
        queues=queues,
        question_store="/nonexistent/question-sets",
        image_store="/nonexistent/images",
        redis_url="redis://127.0.0.1:9/0",
        redis_cluster=False,
        redis_auth_secret_id="",
        connections_url=nowhere,
        ws_url="ws://127.0.0.1:9/ws",
        user_pool=user_pool,
        region=region,
    )
    return values, local_extras(endpoint_url=nowhere, user_pool=user_pool, ssl_cert_file=None)


def local_extras(*, endpoint_url: str, user_pool: LocalUserPool, ssl_cert_file: str | None) -> dict[str, str]:
    """The only variables a local function gets beyond its template's and Lambda's reserved ones:
    where the emulated AWS services are (moto), where moto publishes the pool's keys, the fake
    credentials Lambda would have put there, and the CA that signed a local TLS cache."""
    extras = {
        "AWS_ENDPOINT_URL": endpoint_url,
        manifest.COGNITO_JWKS_URL_ENV: f"{endpoint_url}/{user_pool.user_pool_id}/.well-known/jwks.json",
        **FAKE_CREDENTIALS,
    }
    if ssl_cert_file:
        extras["SSL_CERT_FILE"] = ssl_cert_file
    return extras

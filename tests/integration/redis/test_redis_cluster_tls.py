"""The functions' Redis code against the cache as deployed: a three-node Redis Cluster, TLS only, one
ACL user whose password is in Secrets Manager (moto). The client is the shared one, built from exactly
the variables the CDK app sets (REDIS_URL=rediss://..., REDIS_CLUSTER=1, REDIS_AUTH_SECRET_ID); the
only local addition is SSL_CERT_FILE, the standard way to make the default TLS context trust the
throwaway CA. Engine, sign-on and reporter each run on it; the cluster refuses what ElastiCache refuses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.cluster import RedisCluster
from redis.crc import key_slot
from redis.retry import Retry

import lambdas.reporter.handler as reporter_lambda
from local_stack.redis_backend import CACHE_USER, LocalRedis
from speedrun import manifest
from speedrun.adapters.queues import JobQueues
from speedrun.adapters.redis_client import SecretCredentialProvider, redis_from_settings
from speedrun.adapters.tokens import ensure_token_secret
from speedrun.engine.keys import join_code_key, run_keys
from speedrun.engine.models import HOST, PARTICIPANT, Caller
from speedrun.engine.service import SpeedRunService
from speedrun.engine.store import RunEngine
from speedrun.errors import Conflict, NotFound
from speedrun.question_sets.service import default_service
from speedrun.reporting.read_models import read_summary
from speedrun.settings import get_settings
from speedrun.signon.authorizer import ConnectionAuthorizer
from speedrun.signon.models import CreateSpeedRunRequest, JoinRequest
from speedrun.signon.service import SignOnService
from tests.support.durable_stores import MotoQueues, poll_once, queue_depth
from tests.support.durable_stores import client as shared_client
from tests.support.engine_harness import make_questions, run_config
from tests.support.fakes import FakeLambdaContext, RecordingPusher
from tests.support.fanout import InProcessFanOut
from tests.support.played_run import ManualClock, play_run
from tests.support.question_sets import question_store_at, sample_set_json
from tests.support.redis_cluster import deployed_environment, primaries, redis_cluster_tls, store_cache_secret

CACHE_SECRET = "speedrun/test/cache-user"
TOKEN_SECRET = "speedrun/test/cluster-token-keys"
HOST_SUB = "cluster-host-sub"
VIEWER = "198.51.100.7"
NO_RETRY = Retry(NoBackoff(), 0)
"""For probes that must be refused: at once, not after redis-py's default retries (about 4 s)."""


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalRedis]:
    with redis_cluster_tls() as server:
        yield server


@pytest.fixture
def deployed(cluster: LocalRedis, stores: MotoQueues, monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisCluster]:
    """The process's client as a deployed function gets it, on an empty cluster; the settings (and the
    reporter built from them) are rebuilt from this environment and forgotten afterwards."""
    for node in primaries(cluster).values():
        node.flushall()
        node.close()
    secret_arn = store_cache_secret(shared_client("secretsmanager"), cluster, CACHE_SECRET)
    for name, value in deployed_environment(cluster, secret_arn).items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    reporter_lambda.reporter.cache_clear()
    client = redis_from_settings()
    assert isinstance(client, RedisCluster)  # REDIS_CLUSTER=1
    yield client
    client.close()
    get_settings.cache_clear()
    reporter_lambda.reporter.cache_clear()


def owner_of(slot: int, nodes: dict[tuple[int, int], redis.Redis]) -> tuple[int, int]:
    return next(slots for slots in nodes if slots[0] <= slot <= slots[1])


# --- the client as deployed -------------------------------------------------------------------------


def test_the_deployed_client_is_cluster_aware_over_tls_as_the_user_of_the_secret(deployed: RedisCluster) -> None:
    nodes = deployed.get_primaries()
    assert len({node.port for node in nodes}) == 3
    assert deployed.execute_command("ACL WHOAMI", target_nodes=RedisCluster.ALL_NODES) == {
        node.name: CACHE_USER for node in nodes
    }
    for node in nodes:
        assert node.redis_connection is not None
        assert node.redis_connection.connection_pool.connection_class is redis.SSLConnection
    provider = deployed.get_connection_kwargs()["credential_provider"]
    assert isinstance(provider, SecretCredentialProvider)
    assert provider.fetches == 1  # one read of the secret for the connections to all three nodes


def test_without_ssl_cert_file_the_throwaway_ca_is_not_trusted(
    cluster: LocalRedis, stores: MotoQueues, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The certificate really is verified: SSL_CERT_FILE is what makes the client trust the cluster."""
    secret_arn = store_cache_secret(shared_client("secretsmanager"), cluster, "speedrun/test/cache-user-untrusted")
    for name, value in deployed_environment(cluster, secret_arn).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("SSL_CERT_FILE")
    get_settings.cache_clear()
    try:
        with pytest.raises(redis.RedisClusterException, match="CERTIFICATE_VERIFY_FAILED"):
            redis_from_settings()
    finally:
        get_settings.cache_clear()


def test_a_plain_connection_is_refused(cluster: LocalRedis) -> None:
    for node in primaries(cluster).values():
        assert node.ping()  # the port is served, over TLS only
        plain = redis.Redis(host="127.0.0.1", port=node.get_connection_kwargs()["port"], retry=NO_RETRY)
        with pytest.raises(redis.ConnectionError):
            plain.ping()
        plain.close()
        node.close()


@pytest.mark.parametrize(
    ("username", "password"),
    [(None, None), ("default", "anything"), (CACHE_USER, "not-the-password")],
    ids=["no AUTH", "the default user", "a wrong password"],
)
def test_only_the_cache_user_with_its_password_gets_in(
    cluster: LocalRedis, username: str | None, password: str | None
) -> None:
    for node in primaries(cluster).values():
        assert node.ping()  # with the user's password, the same port lets the client in
        trusted_stranger = redis.Redis(
            host="127.0.0.1",
            port=node.get_connection_kwargs()["port"],
            ssl=True,
            ssl_ca_certs=str(cluster.ca_file),
            username=username,
            password=password,
            retry=NO_RETRY,
        )
        with pytest.raises(redis.AuthenticationError):
            trusted_stranger.ping()
        trusted_stranger.close()
        node.close()


def test_the_deployed_client_without_the_secret_variable_cannot_connect(
    cluster: LocalRedis, stores: MotoQueues, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in deployed_environment(cluster, "unused").items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(manifest.REDIS_AUTH_SECRET_ENV)
    get_settings.cache_clear()
    try:
        # Cluster mode connects while the client is built (CLUSTER SLOTS), so the refusal comes here.
        with pytest.raises(redis.RedisClusterException, match="authenticated"):
            redis_from_settings()
    finally:
        get_settings.cache_clear()


# --- where a run's keys live --------------------------------------------------------------------------


def test_each_runs_keys_share_one_slot_and_runs_spread_over_every_primary(
    deployed: RedisCluster, cluster: LocalRedis
) -> None:
    engine = RunEngine(deployed, clock=ManualClock())
    nodes = primaries(cluster)
    owners: set[tuple[int, int]] = set()
    # Run ids are random: about 3 runs per primary cover all three; 60 miss one with odds of 1e-10.
    for number in range(60):
        created = engine.create_run(run_config(name=f"Run {number}"), make_questions(2))
        engine.join(created.join_code, "Player", None)
        keys = [key for key in run_keys(created.run_id) if deployed.exists(key)]
        assert len(keys) >= 5  # meta, questions, players, names, events at least
        slot = key_slot(created.run_id.encode())  # the hash tag alone decides the slot
        assert {deployed.keyslot(key) for key in keys} == {slot}
        owner = owner_of(slot, nodes)
        for slots, node in nodes.items():
            held = sorted(node.keys(f"run:{{{created.run_id}}}:*"))
            assert held == (sorted(keys) if slots == owner else [])
        # The join code index is the one key outside the run's slot (the engine reads it on its own).
        assert deployed.get(join_code_key(created.join_code)) == created.run_id
        owners.add(owner)
        if owners == set(nodes):
            break
    assert owners == set(nodes)
    for node in nodes.values():
        node.close()


# --- each function's Redis work on the cluster ----------------------------------------------------


def test_the_engine_plays_a_run_on_the_cluster(deployed: RedisCluster, stores: MotoQueues) -> None:
    clock = ManualClock()
    pusher = RecordingPusher()
    engine = RunEngine(deployed, clock=clock)
    fanout = InProcessFanOut(engine, pusher, clock)
    service = SpeedRunService(engine, pusher, JobQueues(stores.sqs, clock=clock), fanout)
    created = service.engine.create_run(run_config(), make_questions(3))
    host = Caller(created.run_id, HOST, None, "conn-host=")
    players = []
    for number in range(2):
        joined = service.engine.join(created.join_code, f"Player {number}", None)
        players.append(Caller(created.run_id, PARTICIPANT, joined.participant_id, f"conn-{number}="))
    for caller in (host, *players):
        assert service.connect(caller)
    first, second = players

    def send(caller: Caller, action: str, **fields: Any) -> dict[str, Any]:
        route_key = action if action in service.actions else "$default"
        return service.handle(caller, route_key, json.dumps({"action": action, **fields}))

    assert send(host, "start")["type"] == "started"
    send(first, "question", index=0)
    send(second, "question", index=0)
    clock.advance(1_000)
    assert send(first, "answer", index=0, selected=[0])["outcome"] == "correct"
    assert send(second, "answer", index=0, selected=[1])["outcome"] == "incorrect"
    assert send(first, "message", to="all", content="gg")["type"] == "message"
    assert send(host, "end")["type"] == "completed"
    fanout.settle(clock.advance_to)  # the fan-out's deliveries

    export = service.engine.export(created.run_id)
    assert export is not None
    assert export.status == "completed"
    told = {
        caller.participant_id: {frame["type"] for frame in pusher.inbox[caller.connection_id]} for caller in players
    }
    assert told[first.participant_id] >= {"started", "completed"}
    assert told[second.participant_id] >= {"started", "message", "completed"}  # the sender is not pushed its own
    assert queue_depth(stores.sqs, stores.urls[manifest.COMPLETION_QUEUE]) == 1


def test_sign_on_opens_a_run_and_admits_participants_on_the_cluster(
    deployed: RedisCluster, stores: MotoQueues, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure_token_secret(TOKEN_SECRET, client=shared_client("secretsmanager"))
    monkeypatch.setenv(manifest.TOKEN_SECRET_ENV, TOKEN_SECRET)
    monkeypatch.setenv(manifest.WS_URL_ENV, "wss://ws.example.test/live")
    with question_store_at(tmp_path, monkeypatch):
        settings = get_settings()
        signon = SignOnService.from_settings(settings)  # the engine and the join limiter on the cluster
        set_id = default_service().upload(HOST_SUB, sample_set_json(4), filename="set.json", name=None).id
        created = signon.create_speedrun(HOST_SUB, CreateSpeedRunRequest(question_set_id=set_id))
        joined = [
            signon.join(JoinRequest(join_code=created.join_code, name=f"Player {n}"), viewer=VIEWER) for n in range(3)
        ]
        # Refusals go through the join limiter's counting too (its scripts and pipelines on the cluster).
        with pytest.raises(Conflict):
            signon.join(JoinRequest(join_code=created.join_code, name="player 0"), viewer=VIEWER)
        with pytest.raises(NotFound):
            signon.join(JoinRequest(join_code="ZZZZZZ", name="Lost"), viewer=VIEWER)
        authorizer = ConnectionAuthorizer.from_settings(settings)

    assert len({entry.participant_id for entry in joined}) == 3
    for entry in joined:
        assert entry.speedrun_id == created.speedrun_id
        claims = authorizer.authorize(entry.participant_token)
        assert (claims.run_id, claims.participant_id) == (created.speedrun_id, entry.participant_id)
    assert authorizer.authorize(created.host_token).role == "host"
    export = signon.engine.export(created.speedrun_id)
    assert export is not None
    assert export.status == "lobby"
    assert [event["type"] for event in export.events].count("participant_joined") == 3


def test_the_reporter_makes_a_completed_run_durable_and_drops_it_from_the_cluster(
    deployed: RedisCluster, stores: MotoQueues
) -> None:
    clock = ManualClock()
    engine = RunEngine(deployed, clock=clock)
    played = play_run(engine, clock, RecordingPusher(), JobQueues(stores.sqs), participants=6, question_count=3)
    join_code = deployed.hget(run_keys(played.run_id)[0], "join_code")
    completion_queue = stores.urls[manifest.COMPLETION_QUEUE]

    handled = poll_once(
        stores.sqs, completion_queue, lambda event: reporter_lambda.handler(event, FakeLambdaContext()), 1
    )

    assert handled == 1
    assert queue_depth(stores.sqs, completion_queue) == 0
    summary = read_summary(played.run_id)
    assert (summary["status"], summary["participant_count"], summary["question_count"]) == ("completed", 6, 3)
    assert engine.export(played.run_id) is None
    assert list(deployed.scan_iter(match=f"*{played.run_id}*")) == []  # on every primary
    assert deployed.get(join_code_key(str(join_code))) is None


# --- the local stack's cluster itself -----------------------------------------------------------------


def test_a_cluster_kept_in_a_data_folder_starts_again_with_its_data(tmp_path: Path) -> None:
    data_dir = tmp_path / "redis"
    with redis_cluster_tls(data_dir=data_dir) as first_start:
        client = RedisCluster.from_url(
            first_start.url,
            username=first_start.username,
            password=first_start.password,
            ssl_ca_certs=str(first_start.ca_file),
            decode_responses=True,
        )
        values = {f"run:{{r{n}}}:meta": str(n) for n in range(30)}  # spread over the primaries
        for key, value in values.items():
            client.set(key, value)
        client.close()
        assert first_start.ca_file is not None
        private_dir = first_start.ca_file.parent
    assert not private_dir.exists()  # certificates, key and ACL file go with the cluster
    with redis_cluster_tls(data_dir=data_dir) as second_start:
        assert second_start.url == first_start.url
        assert second_start.password != first_start.password  # each start makes its own secrets
        client = RedisCluster.from_url(
            second_start.url,
            username=second_start.username,
            password=second_start.password,
            ssl_ca_certs=str(second_start.ca_file),
            decode_responses=True,
        )
        assert {key: client.get(key) for key in values} == values
        client.close()

"""A host's runs over HTTP while they are live (issue 12 item 5) and who may read a player's game
history (issue 17 item 5): the results function on moto and the test's private Redis, runs opened
by the real sign-on service, played by the real engine and made durable by the real reporter."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import redis

import lambdas.results.handler as results_lambda
from speedrun.adapters.queues import JobQueues
from speedrun.adapters.tables import PlayerGameModel, PlayerModel
from speedrun.adapters.tokens import RunTokens
from speedrun.engine.models import HOST as HOST_ROLE
from speedrun.engine.models import Caller
from speedrun.engine.service import SpeedRunService
from speedrun.engine.store import RunEngine
from speedrun.question_sets.models import Question, StoredQuestionSet
from speedrun.reporting import projections
from speedrun.reporting.batch_writer import BatchWriter
from speedrun.reporting.live_runs import HostRunIndex, LiveRunReader, host_runs_key
from speedrun.reporting.reporter import Reporter
from speedrun.signon.models import CreateSpeedRunRequest
from speedrun.signon.service import SignOnService
from tests.support.completed_runs import CompletedRuns
from tests.support.durable_stores import MotoQueues, client
from tests.support.fakes import FakeLambdaContext, RecordingPusher
from tests.support.fanout import InProcessFanOut
from tests.support.played_run import ManualClock
from tests.support.question_sets import http_event
from tests.support.simulated_run import START_MS, simulate_run

HOST = "host-sub"
OTHER_HOST = "other-host-sub"


class _StaticKeys:
    """One fixed signing key (these tests never verify a token)."""

    def current(self) -> tuple[str, bytes]:
        return "k1", b"k" * 32

    def get(self, kid: str) -> bytes | None:
        return b"k" * 32 if kid == "k1" else None


def _stored_set(owner: str, set_id: str) -> StoredQuestionSet:
    questions = [
        Question(category="general", text=f"Question {n}?", options=["a", "b", "c"], correct=[n % 3]) for n in range(3)
    ]
    return StoredQuestionSet(
        id=set_id,
        owner=owner,
        name="Quiz",
        created_at="2026-01-01T00:00:00.000Z",
        updated_at="2026-01-01T00:00:00.000Z",
        source_format="json",
        categories={"general": 3},
        questions=questions,
    )


@dataclass
class Runs:
    """Sign-on, the engine's WebSocket service and the reporter, all on the test's Redis and moto."""

    engine: RunEngine
    clock: ManualClock
    signon: SignOnService
    live: SpeedRunService
    reporter: Reporter

    def open(self, host: str = HOST, name: str = "Quiz night") -> str:
        self.clock.advance(1_000)
        created = self.signon.create_speedrun(host, CreateSpeedRunRequest(question_set_id="set-1", name=name))
        assert self.live.connect(Caller(created.speedrun_id, HOST_ROLE, None, f"host-{created.speedrun_id}"))
        return created.speedrun_id

    def join_code(self, run_id: str) -> str:
        return str(self.engine.redis.hget(f"run:{{{run_id}}}:meta", "join_code"))

    def join(self, run_id: str, name: str) -> str:
        return self.engine.join(self.join_code(run_id), name, None).participant_id

    def act(self, run_id: str, action: str, **fields: Any) -> dict[str, Any]:
        host = Caller(run_id, HOST_ROLE, None, f"host-{run_id}")
        reply: dict[str, Any] = self.live.handle(host, action, json.dumps({"action": action, **fields}))
        return reply

    def complete(self, run_id: str) -> None:
        assert self.act(run_id, "start")["type"] == "started"
        assert self.act(run_id, "end")["type"] == "completed"

    def persist(self, run_id: str) -> None:
        assert self.reporter.report(run_id).persisted_now


@pytest.fixture
def runs(engine: RunEngine, stores: MotoQueues, monkeypatch: pytest.MonkeyPatch) -> Iterator[Runs]:
    assert isinstance(engine.clock, ManualClock)
    pusher = RecordingPusher()
    index = HostRunIndex(engine.redis)
    fanout = InProcessFanOut(engine, pusher, engine.clock)
    signon = SignOnService(
        engine,
        RunTokens(_StaticKeys()),
        fanout,
        ws_url="ws://127.0.0.1:9/ws",
        load_questions=_stored_set,
        host_index=index,
        clock=engine.clock,
    )
    live = SpeedRunService(engine, pusher, JobQueues(stores.sqs), fanout)
    reporter = Reporter(engine, BatchWriter(client("dynamodb")), host_index=index)
    monkeypatch.setattr(results_lambda, "live_runs", lambda: LiveRunReader(engine.redis))
    yield Runs(engine, engine.clock, signon, live, reporter)


def _get(path: str, *, sub: str | None = HOST, query: dict[str, str] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = results_lambda.handler(
        http_event("GET", path, sub=sub, query=query), FakeLambdaContext()
    )
    return response


def _json(response: dict[str, Any]) -> Any:
    assert response["statusCode"] == 200, response
    return json.loads(response["body"])


# --- A: live runs over HTTP -------------------------------------------------------------------------


def test_a_lobby_and_a_running_run_are_served_live_to_their_host_only(runs: Runs) -> None:
    run_id = runs.open()
    path = f"/api/speedruns/{run_id}"

    lobby = _json(_get(path))
    assert (lobby["run_id"], lobby["status"], lobby["persisted"], lobby["host"]) == (run_id, "lobby", False, HOST)
    assert lobby["name"] == "Quiz night"
    assert lobby["join_code"] == runs.join_code(run_id)
    assert lobby["question_count"] == 3
    assert lobby["participant_count"] == 0
    assert lobby["config"]["question_duration_s"] == 20
    assert lobby["config"]["max_participants"] == 1000
    assert lobby["expires_at"] is not None
    assert [q["correct_options"] for q in lobby["questions"]] == [[0], [1], [2]]
    assert lobby["leaderboard"] is None and lobby["answer_count"] is None

    first = runs.join(run_id, "Ann")
    runs.join(run_id, "Bo")
    runs.join(run_id, "Cy")
    assert runs.act(run_id, "kick", participant_id=first)["type"] == "participant_left"
    assert runs.act(run_id, "start")["type"] == "started"
    running = _json(_get(path))
    assert (running["status"], running["persisted"], running["expires_at"]) == ("running", False, None)
    assert (running["participant_count"], running["kicked_count"], running["finished_count"]) == (2, 1, 0)
    assert running["started_at"] is not None and running["ends_at"] is not None
    assert running["completed_at"] is None

    # Same authorization as the persisted summary: another host and an unknown id are both 404.
    assert _get(path, sub=OTHER_HOST)["statusCode"] == 404
    assert _get("/api/speedruns/aaaaaaaaaaaa")["statusCode"] == 404
    assert _get(path, sub=None)["statusCode"] == 401


def test_the_summary_turns_into_the_persisted_one_and_the_live_index_forgets_the_run(runs: Runs) -> None:
    run_id = runs.open()
    runs.join(run_id, "Ann")
    runs.complete(run_id)
    path = f"/api/speedruns/{run_id}"

    waiting = _json(_get(path))
    assert (waiting["status"], waiting["persisted"], waiting["completion_reason"]) == ("completed", False, "host_ended")
    assert runs.engine.redis.zcard(host_runs_key(HOST)) == 1

    export = runs.engine.export(run_id)
    assert export is not None
    runs.persist(run_id)
    persisted = _json(_get(path))
    assert persisted == {
        **json.loads(json.dumps(projections.run_summary(export.events))),
        "persisted": True,
        "expires_at": None,
    }
    # Live and persisted agree on everything the live state knows.
    for field in ("run_id", "host", "name", "question_set_id", "join_code", "config", "questions", "status"):
        assert waiting[field] == persisted[field], field
    assert runs.engine.redis.zcard(host_runs_key(HOST)) == 0


def test_the_hosts_runs_live_and_past_newest_first_in_pages(runs: Runs) -> None:
    persisted = []
    for n in range(3):
        run_id = runs.open(name=f"Past {n}")
        runs.join(run_id, "Ann")
        runs.complete(run_id)
        persisted.append(run_id)
    runs.persist(persisted[0])
    runs.persist(persisted[2])  # persisted[1]: completed, its results still being saved
    running = runs.open(name="Running")
    runs.act(running, "start")
    someone_elses = runs.open(host=OTHER_HOST, name="Not yours")
    lobby = runs.open(name="Lobby")
    newest_first = [lobby, running, *reversed(persisted)]

    seen: list[dict[str, Any]] = []
    cursor: str | None = None
    pages = 0
    while True:
        page = _json(_get("/api/speedruns", query={"limit": "2", **({"cursor": cursor} if cursor else {})}))
        seen += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [item["run_id"] for item in seen] == newest_first
    assert pages == 3
    by_id = {item["run_id"]: item for item in seen}
    assert (by_id[lobby]["status"], by_id[lobby]["persisted"]) == ("lobby", False)
    assert by_id[lobby]["expires_at"] is not None
    assert (by_id[running]["status"], by_id[running]["persisted"]) == ("running", False)
    assert (by_id[persisted[1]]["status"], by_id[persisted[1]]["persisted"]) == ("completed", False)
    for run_id in (persisted[0], persisted[2]):
        item = by_id[run_id]
        assert (item["status"], item["persisted"], item["completion_reason"]) == ("completed", True, "host_ended")
        assert (item["participant_count"], item["question_count"]) == (1, 3)
        assert item["completed_at"] is not None
    assert by_id[lobby]["join_code"] == runs.join_code(lobby)
    # Live and persisted entries have the same fields.
    assert {tuple(sorted(item)) for item in seen} == {tuple(sorted(seen[0]))}

    whole = _json(_get("/api/speedruns"))
    assert [item["run_id"] for item in whole["items"]] == newest_first
    assert whole["next_cursor"] is None
    assert [item["run_id"] for item in _json(_get("/api/speedruns", sub=OTHER_HOST))["items"]] == [someone_elses]
    assert _json(_get("/api/speedruns", sub="a-new-host")) == {"items": [], "next_cursor": None}
    assert _get("/api/speedruns", sub=None)["statusCode"] == 401


def test_a_run_cursor_is_the_hosts_own_and_bad_cursors_are_refused(runs: Runs) -> None:
    for _ in range(3):
        runs.open()
    cursor = _json(_get("/api/speedruns", query={"limit": "1"}))["next_cursor"]
    assert cursor
    for sub, bad in ((OTHER_HOST, cursor), (HOST, "%%%"), (HOST, "bm90IGpzb24")):
        response = _get("/api/speedruns", sub=sub, query={"cursor": bad})
        assert response["statusCode"] == 400
        assert json.loads(response["body"])["error"]["code"] == "bad_request"
    assert _get("/api/speedruns", query={"limit": "0"})["statusCode"] == 400
    assert _get("/api/speedruns", query={"limit": "101"})["statusCode"] == 400


def test_a_run_that_is_gone_from_redis_is_not_listed_and_leaves_the_index(runs: Runs) -> None:
    kept = runs.open(name="Kept")
    expired = runs.open(name="Expired")
    # A lobby that expired unstarted: every key of the run is gone, its index member is not.
    runs.engine.redis.delete(*runs.engine.redis.keys(f"run:{{{expired}}}:*"))
    assert runs.engine.redis.zcard(host_runs_key(HOST)) == 2

    assert [item["run_id"] for item in _json(_get("/api/speedruns"))["items"]] == [kept]
    assert runs.engine.redis.zcard(host_runs_key(HOST)) == 1
    assert _get(f"/api/speedruns/{expired}")["statusCode"] == 404


def test_persisted_runs_need_no_redis_and_live_ones_say_unavailable(
    runs: Runs, monkeypatch: pytest.MonkeyPatch
) -> None:
    done = runs.open()
    runs.complete(done)
    runs.persist(done)
    live = runs.open()
    unreachable = redis.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    monkeypatch.setattr(results_lambda, "live_runs", lambda: LiveRunReader(unreachable))

    assert _json(_get(f"/api/speedruns/{done}"))["persisted"] is True
    for path in (f"/api/speedruns/{live}", "/api/speedruns"):
        response = _get(path)
        assert response["statusCode"] == 503
        assert json.loads(response["body"])["error"]["code"] == "unavailable"


# --- B: a player's game history: the player's, and each host's own runs ---------------------------------

HANDLE = "player-2"
PLAYER = "player-2-sub"


def _claim(handle: str, owner: str) -> None:
    PlayerModel(
        handle,
        owner=owner,
        profile={"display_name": handle},
        updated_at="2026-01-01T00:00:00.000Z",
        version=1,
        last_request_id="claim",
    ).save()


def _persist_games() -> dict[str, list[str]]:
    """Five runs with `player-2` in each: three hosted by HOST, two by OTHER_HOST (newest last)."""
    live = CompletedRuns()
    reporter = Reporter(live, BatchWriter(client("dynamodb")))
    hosted: dict[str, list[str]] = {HOST: [], OTHER_HOST: []}
    for n in range(5):
        host = HOST if n % 2 == 0 else OTHER_HOST
        run_id = f"RUN{n:09d}"
        live.runs[run_id] = simulate_run(
            run_id=run_id, participants=3, questions=2, host=host, start_ms=START_MS + n * 3_600_000
        )
        reporter.report(run_id)
        hosted[host].append(run_id)
    return hosted


def _games(handle: str, sub: str, limit: int = 2) -> list[str]:
    seen: list[str] = []
    cursor: str | None = None
    while True:
        query = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        page = _json(_get(f"/api/players/{handle}/games", sub=sub, query=query))
        seen += [game["run_id"] for game in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen


def test_the_player_who_claimed_the_handle_reads_every_game(stores: MotoQueues) -> None:
    hosted = _persist_games()
    _claim(HANDLE, PLAYER)
    assert _games(HANDLE, PLAYER) == sorted(hosted[HOST] + hosted[OTHER_HOST], reverse=True)
    # A player's history never tells who hosted.
    body = _get(f"/api/players/{HANDLE}/games", sub=PLAYER)["body"]
    assert HOST not in body and OTHER_HOST not in body


def test_an_unrelated_account_gets_404_as_for_a_handle_without_games(stores: MotoQueues) -> None:
    _persist_games()
    _claim(HANDLE, PLAYER)
    _claim("other-player", "other-player-sub")
    for path in (f"/api/players/{HANDLE}/games", "/api/players/never-played/games"):
        response = _get(path, sub="other-player-sub")
        assert response["statusCode"] == 404, path
        assert json.loads(response["body"])["error"]["code"] == "not_found"
    assert _get(f"/api/players/{HANDLE}/games", sub=None)["statusCode"] == 401


@pytest.mark.parametrize("claimed", [True, False], ids=["claimed-handle", "unclaimed-handle"])
def test_a_host_reads_only_the_games_of_their_own_runs(stores: MotoQueues, claimed: bool) -> None:
    hosted = _persist_games()
    if claimed:
        _claim(HANDLE, PLAYER)
    assert _games(HANDLE, HOST) == sorted(hosted[HOST], reverse=True)
    assert _games(HANDLE, OTHER_HOST, limit=1) == sorted(hosted[OTHER_HOST], reverse=True)
    # Each game of the host view is exactly the player's own entry for it.
    items = _json(_get(f"/api/players/{HANDLE}/games", sub=HOST, query={"limit": "1"}))["items"]
    assert set(items[0]) == {
        "run_id",
        "run_name",
        "completed_at",
        "score",
        "rank",
        "participant_count",
        "question_count",
        "correct_count",
    }
    assert {game.host for game in PlayerGameModel.query(HANDLE)} == {HOST, OTHER_HOST}


def test_a_cursor_of_one_view_is_refused_by_the_other(stores: MotoQueues) -> None:
    _persist_games()
    _claim(HANDLE, PLAYER)
    host_cursor = _json(_get(f"/api/players/{HANDLE}/games", sub=HOST, query={"limit": "1"}))["next_cursor"]
    owner_cursor = _json(_get(f"/api/players/{HANDLE}/games", sub=PLAYER, query={"limit": "1"}))["next_cursor"]
    assert host_cursor and owner_cursor
    refused = (
        (PLAYER, host_cursor),
        (HOST, owner_cursor),
        (OTHER_HOST, host_cursor),
    )
    for sub, cursor in refused:
        assert _get(f"/api/players/{HANDLE}/games", sub=sub, query={"cursor": cursor})["statusCode"] == 400


def test_a_host_of_no_listed_run_who_pages_on_sees_nothing(stores: MotoQueues) -> None:
    """A host cursor names the host: another host cannot page into someone else's view by forging one."""
    _persist_games()
    forged = json.dumps({"handle": {"S": HANDLE}, "game_key": {"S": "9999"}, "host_handle": {"S": f"{HOST}#{HANDLE}"}})
    cursor = base64.urlsafe_b64encode(forged.encode()).decode()
    assert _get(f"/api/players/{HANDLE}/games", sub="stranger", query={"cursor": cursor})["statusCode"] == 400

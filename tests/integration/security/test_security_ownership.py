"""Ownership (IDOR) across two hosts and two players, through the local stack: every route that takes
an id or a handle, plus the ids carried in bodies (a question set id at run creation, a player
handle at join). Someone else's thing is a 404 (hosts' sets and runs: their existence is not
revealed) or a 403 (player handles, which are public names), and a refusal changes nothing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest

from local_stack import events
from local_stack.client import RunSocket, multipart_body
from local_stack.demo import demo_question_set
from speedrun import manifest
from tests.support.security_world import OpenRun, SecurityWorld, security_world, wait_until

COVERED_ROUTES = {
    "GET /api/question-sets/{set_id}",
    "GET /api/question-sets/{set_id}/content",
    "PUT /api/question-sets/{set_id}",
    "DELETE /api/question-sets/{set_id}",
    "POST /api/question-sets/{set_id}/copy",
    "GET /api/speedruns/{run_id}",
    "GET /api/speedruns/{run_id}/results",
    "GET /api/players/{handle}/games",
    "GET /api/players/{handle}",
    "PUT /api/players/{handle}",
    "POST /api/players/{handle}/progress",
}
HANDLE_A = "player-a"


def _complete(world: SecurityWorld, run: OpenRun) -> None:
    async def play() -> None:
        host = await RunSocket.connect(world.stack.ws_url, run.host_token, "host")
        assert (await host.request("start"))["type"] == "started"
        assert (await host.request("end"))["type"] == "completed"
        await host.close()

    asyncio.run(play())


@pytest.fixture(scope="module")
def world(redis_server_url: str) -> Iterator[SecurityWorld]:
    with security_world(redis_server_url) as running:
        running.join(running.run_b.join_code, "Bo")
        claimed = running.request(
            "PUT", f"/api/players/{HANDLE_A}", token=running.player_a.id_token, json_body={"display_name": "A"}
        )
        assert claimed.status == 202, claimed.body
        for run in (running.run_a, running.run_b):
            _complete(running, run)
        host_of = {running.run_a.speedrun_id: running.host_a, running.run_b.speedrun_id: running.host_b}
        for run_id, host in host_of.items():
            # The summary is served while the run is live too: wait for the persisted one.
            wait_until(
                lambda run_id=run_id, host=host: (
                    running.request("GET", f"/api/speedruns/{run_id}", token=host.id_token).json().get("persisted")
                ),
                f"run {run_id} persisted",
            )
        wait_until(
            lambda: running.request("GET", f"/api/players/{HANDLE_A}", token=running.player_a.id_token).status == 200,
            "player-a's profile applied",
        )
        running.settle()
        yield running


def test_every_route_with_an_id_or_handle_is_covered_here() -> None:
    with_ids = {route.route_key for route, _spec in manifest.http_routes() if "{" in route.path}
    assert with_ids == COVERED_ROUTES


def test_a_host_sees_only_their_own_question_sets(world: SecurityWorld) -> None:
    assert world.request("GET", f"/api/question-sets/{world.set_a}", token=world.host_a.id_token).status == 200
    other = world.request("GET", f"/api/question-sets/{world.set_a}", token=world.host_b.id_token)
    assert other.status == 404
    assert other.json()["error"]["code"] == "not_found"
    listed_b = world.request("GET", "/api/question-sets", token=world.host_b.id_token).json()["items"]
    listed_a = world.request("GET", "/api/question-sets", token=world.host_a.id_token).json()["items"]
    assert [item["id"] for item in listed_b] == [world.set_b]
    assert [item["id"] for item in listed_a] == [world.set_a]


def test_a_host_reads_changes_copies_and_deletes_only_their_own_question_sets(world: SecurityWorld) -> None:
    content = f"/api/question-sets/{world.set_a}/content"
    assert world.request("GET", content, token=world.host_a.id_token).status == 200
    body, content_type = multipart_body({"name": "Taken"}, "set.json", json.dumps(demo_question_set(2)).encode())
    attempts: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", content, {}),
        ("PUT", f"/api/question-sets/{world.set_a}", {"data": body, "headers": {"content-type": content_type}}),
        ("DELETE", f"/api/question-sets/{world.set_a}", {}),
        ("POST", f"/api/question-sets/{world.set_a}/copy", {}),
        ("POST", f"/api/question-sets/{world.set_a}/copy", {"json_body": {"name": "Mine now"}}),
    ]
    before = world.snapshot()
    for method, path, options in attempts:
        reply = world.request(method, path, token=world.host_b.id_token, **options)
        assert reply.status == 404, (method, path, reply.body)
        assert reply.json()["error"] == {"code": "not_found", "message": f"question set {world.set_a} not found"}
    assert world.snapshot() == before
    assert world.request("GET", f"/api/question-sets/{world.set_a}", token=world.host_a.id_token).json()["version"] == 1


def test_a_run_from_someone_elses_set_is_404_and_opens_nothing(world: SecurityWorld) -> None:
    before = world.snapshot()
    reply = world.request(
        "POST", "/api/signon/speedruns", token=world.host_b.id_token, json_body={"question_set_id": world.set_a}
    )
    assert reply.status == 404
    assert world.snapshot() == before


def test_a_host_reads_only_their_own_run_summary_and_results(world: SecurityWorld) -> None:
    run_a = world.run_a.speedrun_id
    summary, results = f"/api/speedruns/{run_a}", f"/api/speedruns/{run_a}/results"
    assert world.request("GET", summary, token=world.host_a.id_token).status == 200
    assert world.request("GET", results, token=world.host_a.id_token).status == 200
    assert world.request("GET", results, token=world.run_a.host_token).status == 200
    assert world.request("GET", f"{results}?format=csv", token=world.run_a.host_token).status == 200

    assert world.request("GET", summary, token=world.host_b.id_token).status == 404
    assert world.request("GET", results, token=world.host_b.id_token).status == 404
    assert world.request("GET", f"{results}?format=csv", token=world.host_b.id_token).status == 404
    assert world.request("GET", results, token=world.run_b.host_token).status == 403
    assert world.request("GET", results, token=world.participant_token).status == 403


def _results_in_function(world: SecurityWorld, run_id: str, token: str) -> int:
    """The results route as deployed: API Gateway verified nothing, the function checks the ID token."""
    assert world.stack.gateway is not None
    path = f"/api/speedruns/{run_id}/results"
    event = events.http_api_event(
        route_key="GET /api/speedruns/{run_id}/results",
        method="GET",
        raw_path=path,
        raw_query_string="",
        headers=[("authorization", f"Bearer {token}")],
        query=[],
        path_parameters={"run_id": run_id},
        body=b"",
        source_ip="192.0.2.10",
        domain_name="api.example",
        jwt_claims=None,
    )
    assert world.stack.lambdas is not None
    reply = world.stack.lambdas.invoke_sync("results", event)
    return int(reply["statusCode"])


def test_results_verify_the_cognito_token_in_the_function(world: SecurityWorld) -> None:
    run_a = world.run_a.speedrun_id
    assert _results_in_function(world, run_a, world.host_a.id_token) == 200
    assert _results_in_function(world, run_a, world.host_b.id_token) == 404
    assert _results_in_function(world, run_a, world.cognito_token(world.host_a.sub, own_key=True)) == 401
    assert _results_in_function(world, run_a, world.cognito_token(world.host_a.sub, expires_in_s=-5)) == 401
    assert _results_in_function(world, run_a, world.cognito_token(world.host_a.sub, kid="rotated-away")) == 401
    # A token signed with the pool's own key (as Cognito would) for host A's sub is accepted: the signature counts.
    assert _results_in_function(world, run_a, world.cognito_token(world.host_a.sub)) == 200


def test_a_player_writes_only_their_own_profile_and_progress(world: SecurityWorld) -> None:
    before = world.snapshot()
    profile = world.request(
        "PUT", f"/api/players/{HANDLE_A}", token=world.player_b.id_token, json_body={"display_name": "Mallory"}
    )
    progress = world.request(
        "POST",
        f"/api/players/{HANDLE_A}/progress",
        token=world.player_b.id_token,
        json_body={"kind": "badge", "value": "stolen"},
    )
    assert (profile.status, progress.status) == (403, 403)
    assert profile.json()["error"]["code"] == progress.json()["error"]["code"] == "forbidden"
    assert world.snapshot() == before
    own = world.request(
        "POST",
        f"/api/players/{HANDLE_A}/progress",
        token=world.player_a.id_token,
        json_body={"kind": "badge", "value": "earned"},
    )
    assert own.status == 202


def test_a_new_handle_goes_to_the_first_account_and_stays_there(world: SecurityWorld) -> None:
    handle = "contested"
    first = world.request(
        "PUT", f"/api/players/{handle}", token=world.player_b.id_token, json_body={"display_name": "B"}
    )
    assert first.status == 202
    wait_until(
        lambda: world.request("GET", f"/api/players/{handle}", token=world.player_b.id_token).status == 200,
        "the contested handle applied",
    )
    late = world.request(
        "PUT", f"/api/players/{handle}", token=world.player_a.id_token, json_body={"display_name": "A"}
    )
    assert late.status == 403
    profile = world.request("GET", f"/api/players/{handle}", token=world.player_a.id_token).json()
    assert profile["display_name"] == "B"


def test_profiles_are_public_to_signed_in_accounts_and_reveal_no_account(world: SecurityWorld) -> None:
    """Profiles are public game records (by handle); only writes are the owner's."""
    profile = world.request("GET", f"/api/players/{HANDLE_A}", token=world.player_b.id_token)
    assert profile.status == 200
    assert world.player_a.sub not in profile.body.decode()
    assert "owner" not in profile.json()


def test_game_history_is_the_players_own_and_another_account_gets_404(world: SecurityWorld) -> None:
    """Issue 17 item 5: the history is the claiming account's (hosts read their runs' entries:
    test_security_live_runs_and_history.py); anyone else is told nothing, as for a handle without games."""
    own = world.request("GET", f"/api/players/{HANDLE_A}/games", token=world.player_a.id_token)
    assert own.status == 200
    for account in (world.player_b, world.host_a):
        other = world.request("GET", f"/api/players/{HANDLE_A}/games", token=account.id_token)
        assert other.status == 404
        assert other.json()["error"]["code"] == "not_found"
        assert world.player_a.sub not in other.body.decode()


def test_a_claimed_handle_joins_only_with_its_owners_token(world: SecurityWorld) -> None:
    reply = world.request(
        "POST", "/api/signon/speedruns", token=world.host_a.id_token, json_body={"question_set_id": world.set_a}
    )
    join_code = reply.json()["join_code"]

    def join(name: str, handle: str, token: str | None) -> Any:
        return world.request(
            "POST",
            "/api/signon/join",
            token=token,
            json_body={"join_code": join_code, "name": name, "player_handle": handle},
        )

    before = world.snapshot()
    anonymous = join("Eve", HANDLE_A, None)
    other_player = join("Eve", HANDLE_A, world.player_b.id_token)
    forged = join("Eve", HANDLE_A, world.cognito_token(world.player_a.sub, own_key=True))
    assert (anonymous.status, other_player.status, forged.status) == (403, 403, 401)
    assert world.snapshot() == before
    assert join("Alice", HANDLE_A, world.player_a.id_token).status == 201
    assert join("Newbie", "unclaimed-handle", None).status == 201
    # The snapshot does see a join: the refusals above changed nothing, these two did.
    assert world.snapshot() != before

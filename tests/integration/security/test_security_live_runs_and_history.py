"""Through the local stack (every function from its synthesized asset, real Redis, moto): a host's
live runs are served and listed to that host only (issue 12 item 5), and a player's game history is
the player's own, each host reading only the entries of the runs they hosted (issue 17 item 5)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from local_stack.client import RunSocket
from tests.support.security_world import Account, OpenRun, SecurityWorld, security_world, wait_until

HANDLE = "history-a"


@pytest.fixture(scope="module")
def world(redis_server_url: str) -> Iterator[SecurityWorld]:
    with security_world(redis_server_url) as running:
        yield running


def _open(world: SecurityWorld, host: Account, set_id: str, name: str) -> OpenRun:
    reply = world.request(
        "POST", "/api/signon/speedruns", token=host.id_token, json_body={"question_set_id": set_id, "name": name}
    )
    assert reply.status == 201, reply.body
    body = reply.json()
    return OpenRun(body["speedrun_id"], body["join_code"], body["host_token"])


def _complete(world: SecurityWorld, run: OpenRun) -> None:
    async def play() -> None:
        host = await RunSocket.connect(world.stack.ws_url, run.host_token, "host")
        assert (await host.request("start"))["type"] == "started"
        assert (await host.request("end"))["type"] == "completed"
        await host.close()

    asyncio.run(play())


def _summary(world: SecurityWorld, run: OpenRun, account: Account) -> Any:
    return world.request("GET", f"/api/speedruns/{run.speedrun_id}", token=account.id_token)


def _listed(world: SecurityWorld, account: Account) -> dict[str, dict[str, Any]]:
    reply = world.request("GET", "/api/speedruns?limit=100", token=account.id_token)
    assert reply.status == 200, reply.body
    return {item["run_id"]: item for item in reply.json()["items"]}


def test_a_live_run_is_served_and_listed_to_its_host_only(world: SecurityWorld) -> None:
    run = _open(world, world.host_a, world.set_a, "Live one")
    world.join(run.join_code, "Kim")

    mine = _summary(world, run, world.host_a)
    assert mine.status == 200, mine.body
    summary = mine.json()
    assert (summary["status"], summary["persisted"], summary["participant_count"]) == ("lobby", False, 1)
    assert summary["join_code"] == run.join_code
    assert _summary(world, run, world.host_b).status == 404
    assert _summary(world, run, world.player_a).status == 404

    listed_a, listed_b = _listed(world, world.host_a), _listed(world, world.host_b)
    assert (listed_a[run.speedrun_id]["status"], listed_a[run.speedrun_id]["persisted"]) == ("lobby", False)
    assert run.speedrun_id not in listed_b
    assert world.run_b.speedrun_id in listed_b and world.run_b.speedrun_id not in listed_a
    assert _listed(world, world.player_b) == {}

    _complete(world, run)
    wait_until(lambda: _summary(world, run, world.host_a).json().get("persisted"), "the run persisted")
    assert _listed(world, world.host_a)[run.speedrun_id]["persisted"] is True
    assert run.speedrun_id not in _listed(world, world.host_b)
    assert _summary(world, run, world.host_b).status == 404


def _games(world: SecurityWorld, account: Account) -> Any:
    return world.request("GET", f"/api/players/{HANDLE}/games", token=account.id_token)


def test_a_players_history_is_theirs_and_each_host_reads_only_their_runs(world: SecurityWorld) -> None:
    claimed = world.request(
        "PUT", f"/api/players/{HANDLE}", token=world.player_a.id_token, json_body={"display_name": "History A"}
    )
    assert claimed.status == 202, claimed.body
    wait_until(
        lambda: world.request("GET", f"/api/players/{HANDLE}", token=world.player_a.id_token).status == 200,
        "the handle claimed",
    )
    run_a = _open(world, world.host_a, world.set_a, "Host A's run")
    run_b = _open(world, world.host_b, world.set_b, "Host B's run")
    for run in (run_a, run_b):
        joined = world.request(
            "POST",
            "/api/signon/join",
            token=world.player_a.id_token,
            json_body={"join_code": run.join_code, "name": "Ann", "player_handle": HANDLE},
        )
        assert joined.status == 201, joined.body
        _complete(world, run)
    for run, host in ((run_a, world.host_a), (run_b, world.host_b)):
        wait_until(lambda run=run, host=host: _summary(world, run, host).json().get("persisted"), "persisted")
    wait_until(lambda: len(_games(world, world.player_a).json()["items"]) == 2, "both games in the history")

    def run_ids(account: Account) -> list[str]:
        reply = _games(world, account)
        assert reply.status == 200, reply.body
        return [game["run_id"] for game in reply.json()["items"]]

    assert sorted(run_ids(world.player_a)) == sorted([run_a.speedrun_id, run_b.speedrun_id])
    assert run_ids(world.host_a) == [run_a.speedrun_id]
    assert run_ids(world.host_b) == [run_b.speedrun_id]
    refused = _games(world, world.player_b)
    assert refused.status == 404
    assert refused.json()["error"]["code"] == "not_found"
    for reply in (refused, _games(world, world.host_a)):
        assert world.player_a.sub not in reply.body.decode()

"""Kicks and connections, against the real engine (Lua on the test Redis) through the WebSocket
handler: a kick is for good, one live connection per identity, stale and gone connections,
unknown runs."""

from __future__ import annotations

from tests.support.engine_harness import Client, EngineWorld, drain
from tests.support.engine_rules import frames_of, start_run
from tests.support.engine_rules_world import rules_sqs, rules_world  # noqa: F401 (the fixtures `sqs` and `world`)


def test_a_kicked_participant_is_gone_for_good(world: EngineWorld) -> None:
    run_id, host, (kept, kicked) = start_run(world)
    reply = world.send(host, "kick", participant_id=kicked.participant_id, request_id="k")
    assert reply == {
        "type": "participant_left",
        "participant_id": kicked.participant_id,
        "reason": "kicked",
        "participant_count": 1,
        "request_id": "k",
    }
    assert frames_of(world, kept, "participant_left") == [{k: v for k, v in reply.items() if k != "request_id"}]
    assert frames_of(world, kicked, "participant_left") == []
    assert kicked.connection_id in world.pusher.closed
    assert world.engine.connection_allowed(run_id, "participant", kicked.participant_id) is False
    assert world.engine.connection_allowed(run_id, "participant", kept.participant_id) is True
    assert world.reconnect(kicked) == 403
    assert world.send(kicked, "sync")["code"] == "forbidden"
    assert world.send(host, "kick", participant_id=kicked.participant_id)["code"] == "not_found"
    state = world.send(host, "sync")
    assert [p["participant_id"] for p in state["participants"]] == [kept.participant_id]
    assert [e["participant_id"] for e in state["leaderboard"]] == [kept.participant_id]


def test_kicking_the_last_unfinished_participant_completes_the_run(world: EngineWorld) -> None:
    run_id, host, (done, idle) = start_run(world, questions=1)
    world.send(done, "question", index=0)
    assert world.send(done, "answer", index=0, selected=[0])["finished"] is True
    world.send(host, "kick", participant_id=idle.participant_id)
    (completed,) = frames_of(world, host, "completed")
    assert completed["reason"] == "all_finished"
    assert [e["participant_id"] for e in completed["leaderboard"]] == [done.participant_id]
    assert drain(world.sqs, "completion") == [{"run_id": run_id}]


def test_one_live_connection_per_identity(world: EngineWorld) -> None:
    _run_id, host, (player, _other) = start_run(world)
    old_connection = player.connection_id
    assert world.reconnect(player) == 200
    assert world.pusher.closed == [old_connection]
    stale = Client(player.run_id, player.role, player.participant_id, old_connection)
    world.disconnect(stale)  # the old socket's $disconnect must not unregister the new one
    entry = next(p for p in world.send(host, "sync")["participants"] if p["participant_id"] == player.participant_id)
    assert entry["connected"] is True
    world.disconnect(player)
    entry = next(p for p in world.send(host, "sync")["participants"] if p["participant_id"] == player.participant_id)
    assert entry["connected"] is False


def test_a_connection_that_answers_gone_is_forgotten_with_one_extra_call(world: EngineWorld) -> None:
    run_id, code, host = world.create(2)
    alive, vanished = world.join(code, "Alive"), world.join(code, "Vanished")
    world.pusher.gone.add(vanished.connection_id)
    world.engine.call("forget", run_id)  # loads the script (once per server) before counting
    world.redis.commands.clear()
    world.send(host, "start")
    # start, keeping the join code for late joins; the fan-out forgets the gone connection
    assert world.redis.commands == ["EVALSHA", "PERSIST"]
    assert world.fanout.report.gone == 1
    world.redis.commands.clear()
    world.send(alive, "message", to="all", content="anyone?")
    assert world.redis.commands == ["EVALSHA"]  # nothing gone any more: no extra call
    flags = {p["name"]: p["connected"] for p in world.send(host, "sync")["participants"]}
    assert flags == {"Alive": True, "Vanished": False}


def test_unknown_runs_refuse_the_connection(world: EngineWorld) -> None:
    ghost = Client("nosuchrun000", "host", None, "conn-ghost")
    assert world.connect(ghost) == 403
    assert world.send(ghost, "sync")["code"] == "not_found"

"""One live connection per token (protocol.md; docs/engine.md, Connections; issue 17 item 3), against the real engine
(Lua on the test Redis) through `lambdas.speedrun.handler`: the newest connection of a token is the
only one that may act, every other one is refused in the same script call and closed, a kick closes
every connection of the participant, and a push racing a handshake does not cut the new socket off.
The deployed code path (the real `ConnectionsPusher` against a management API that answers 410 until
a connection's `$connect` returned) is in test_one_connection_per_token_deployed.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest

import lambdas.speedrun.handler as speedrun_lambda
from speedrun.engine.keys import run_keys
from speedrun.engine.scripts import SCRIPT_NAMES, script_source
from speedrun.engine.service import SpeedRunService
from tests.support.engine_harness import Client, EngineWorld, engine_queues
from tests.support.fakes import RecordingPusher

HANDSHAKES = 120


@pytest.fixture(scope="module")
def sqs() -> Iterator[Any]:
    with engine_queues() as client:
        yield client


@pytest.fixture
def world(redis_url: str, sqs: Any, monkeypatch: pytest.MonkeyPatch) -> EngineWorld:
    world = EngineWorld(redis_url, sqs)
    # Patched once for the whole test: the harness patches it again per call, which racing threads
    # may interleave; every value they can leave behind is then this world's service.
    monkeypatch.setattr(speedrun_lambda, "service_from_settings", lambda: world.service)
    return world


def start_run(world: EngineWorld, players: int = 2, questions: int = 3) -> tuple[str, Client, list[Client]]:
    run_id, code, host = world.create(questions)
    clients = [world.join(code, f"Player {k}") for k in range(players)]
    assert world.send(host, "start")["type"] == "started"
    return run_id, host, clients


def socket_of(client: Client, connection_id: str) -> Client:
    """Another socket opened with `client`'s token."""
    return Client(client.run_id, client.role, client.participant_id, connection_id, client.name, [connection_id])


def reopen(world: EngineWorld, client: Client, connection_id: str) -> Client:
    """A new socket with the same token (a reconnect); the old `client` keeps its socket."""
    newer = socket_of(client, connection_id)
    assert world.connect(newer) == 200
    return newer


def registered(world: EngineWorld, run_id: str) -> dict[str, str]:
    """The run's connection registry, field by field."""
    return {str(field): str(value) for field, value in world.redis.hgetall(run_keys(run_id)[6]).items()}


def errors_pushed(world: EngineWorld, connection_id: str) -> list[dict[str, Any]]:
    return [f for f in world.pusher.inbox.get(connection_id, []) if f["type"] == "error"]


# --- the rule, action by action -----------------------------------------------------------------


def test_a_replaced_participant_connection_is_refused_for_every_action_changes_nothing_and_is_closed(
    world: EngineWorld,
) -> None:
    run_id, _host, (player, _other) = start_run(world)
    assert world.send(player, "question", index=0)["type"] == "question"
    newer = reopen(world, player, "newer=")
    assert world.pusher.closed == [player.connection_id]  # closed when replaced
    world.pusher.closed.clear()
    for name in SCRIPT_NAMES:  # loaded once per server: before counting round trips
        world.redis.script_load(script_source(name))
    frames: list[tuple[str, dict[str, Any]]] = [
        ("sync", {}),
        ("question", {"index": 0}),
        ("answer", {"index": 0, "selected": [0]}),
        ("timeout", {"index": 0}),
        ("message", {"to": "all", "content": "still here?"}),
        ("results", {}),
    ]
    for sent, (action, fields) in enumerate(frames, start=1):
        before = world.dump(run_id)
        world.redis.commands.clear()
        reply = world.send(player, action, request_id=f"old-{action}", **fields)
        assert (reply["type"], reply["code"], reply["request_id"]) == ("error", "unauthorized", f"old-{action}")
        assert world.redis.commands == ["EVALSHA"], (action, world.redis.commands)  # checked in the same call
        assert world.dump(run_id) == before, action
        assert world.pusher.closed[-1] == player.connection_id, action  # closed on its frame
        # told why before the close (pushed: the route response cannot reach a closed connection)
        errors = errors_pushed(world, player.connection_id)
        assert len(errors) == 2 * sent and errors[-2:] == [reply, reply]  # the push, the harness's copy
    # the newest connection is the token's: it still answers the question being answered
    assert world.send(newer, "sync")["current_question"]["index"] == 0
    assert world.send(newer, "answer", index=0, selected=[0])["type"] == "answer_result"


def test_a_replaced_host_connection_cannot_start_end_kick_chat_or_sync(world: EngineWorld) -> None:
    run_id, code, host = world.create(3)
    player = world.join(code, "Ada")
    newer_host = reopen(world, host, "host-newer=")
    refused: list[tuple[str, dict[str, Any]]] = [
        ("start", {}),
        ("sync", {}),
        ("kick", {"participant_id": player.participant_id}),
        ("message", {"to": "all", "content": "hi"}),
    ]
    for action, fields in refused:
        before = world.dump(run_id)
        reply = world.send(host, action, **fields)
        assert (reply["type"], reply["code"]) == ("error", "unauthorized"), action
        assert world.dump(run_id) == before, action
    assert world.send(newer_host, "start")["type"] == "started"
    before = world.dump(run_id)
    assert world.send(host, "end")["code"] == "unauthorized"
    assert world.dump(run_id) == before
    assert world.send(newer_host, "end")["type"] == "completed"


def test_concurrent_handshakes_with_one_token_leave_exactly_one_connection_that_may_act(world: EngineWorld) -> None:
    run_id, code, _host = world.create(3)
    player = world.join(code, "Racer", connect=False)
    sockets = [socket_of(player, f"race-{n:03d}=") for n in range(HANDSHAKES)]
    barrier = threading.Barrier(HANDSHAKES)
    statuses: list[int] = []

    def handshake(socket: Client) -> None:
        barrier.wait()
        statuses.append(world.connect(socket))

    threads = [threading.Thread(target=handshake, args=(socket,)) for socket in sockets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200] * HANDSHAKES  # each was admitted, then replaced by the next
    closed_by_handshakes = set(world.pusher.closed)

    replies: dict[str, dict[str, Any]] = {}

    def sync(socket: Client) -> None:
        replies[socket.connection_id] = world.send(socket, "sync")

    threads = [threading.Thread(target=sync, args=(socket,)) for socket in sockets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    able = [cid for cid, reply in replies.items() if reply["type"] == "state"]
    assert len(able) == 1, able
    (winner,) = able
    assert registered(world, run_id)[player.participant_id or ""] == winner
    assert {reply["code"] for cid, reply in replies.items() if cid != winner} == {"unauthorized"}
    losers = {socket.connection_id for socket in sockets} - {winner}
    assert closed_by_handshakes == losers  # every replaced one was closed by a later handshake
    assert winner not in world.pusher.closed


def test_a_kick_closes_every_connection_of_the_participant_and_none_of_them_can_act(world: EngineWorld) -> None:
    run_id, host, (player, other) = start_run(world)
    second = reopen(world, player, "second=")
    third = reopen(world, player, "third=")  # three sockets: two replaced, none seen closed yet
    world.pusher.closed.clear()
    assert world.send(host, "kick", participant_id=player.participant_id)["type"] == "participant_left"
    assert sorted(world.pusher.closed) == sorted([player.connection_id, second.connection_id, third.connection_id])
    assert [field for field in registered(world, run_id) if str(player.participant_id) in field] == []
    for socket in (player, second, third):
        before = world.dump(run_id)
        reply = world.send(socket, "sync")
        assert (reply["type"], reply["code"]) == ("error", "forbidden")
        assert world.dump(run_id) == before
    assert world.send(other, "sync")["type"] == "state"


def test_a_replaced_connection_seen_closed_is_not_closed_again(world: EngineWorld) -> None:
    run_id, _host, (player, _other) = start_run(world)
    newer = reopen(world, player, "newer=")
    assert world.disconnect(player) == 200  # its $disconnect: it is gone
    world.pusher.closed.clear()
    newest = reopen(world, newer, "newest=")
    assert world.pusher.closed == [newer.connection_id]
    assert world.send(newest, "sync")["type"] == "state"
    assert world.disconnect(newest) == 200
    assert world.disconnect(newer) == 200
    assert [field for field in registered(world, run_id) if str(player.participant_id) in field] == []


def test_a_reconnect_closes_the_one_it_replaces_and_later_ones_ask_again_for_any_still_open(
    world: EngineWorld,
) -> None:
    """Racing handshakes cost one close each (a connection just asked to close is not asked again
    for 2 s); a replaced connection still open after that (no $disconnect came) is asked again by
    the next connect, and a kick closes all of them. At most the newest 32 are kept per token."""
    _run_id, host, (player, _other) = start_run(world)
    latest = player
    for n in range(40):
        world.clock.advance(1)
        world.pusher.closed.clear()
        newer = reopen(world, player, f"again-{n:02d}=")
        assert world.pusher.closed == [latest.connection_id]
        latest = newer
    world.clock.advance(2_000)
    world.pusher.closed.clear()
    last = reopen(world, latest, "last=")
    assert sorted(world.pusher.closed) == [f"again-{n:02d}=" for n in range(8, 40)]
    world.pusher.closed.clear()
    world.send(host, "kick", participant_id=player.participant_id)
    assert sorted(world.pusher.closed) == sorted([last.connection_id] + [f"again-{n:02d}=" for n in range(9, 40)])


def test_a_push_that_races_a_handshake_does_not_cut_the_new_socket_off(world: EngineWorld) -> None:
    """API Gateway answers 410 to a push until the connection's $connect has returned: the engine
    stops pushing to it, but it stays the token's connection, and its `sync` (a client's first
    frame) makes it current again."""
    run_id, host, (player, _other) = start_run(world)
    fresh = reopen(world, player, "fresh=")
    world.pusher.gone.add(fresh.connection_id)
    assert world.send(host, "message", to=player.participant_id, content="welcome")["type"] == "message"
    assert "fresh=" not in registered(world, run_id).values()  # not pushed to any more
    world.pusher.gone.clear()  # registered by now
    assert world.send(fresh, "question", index=0)["type"] == "question"  # it may act
    assert world.send(host, "message", to=player.participant_id, content="lost")["type"] == "message"
    world.redis.commands.clear()
    assert world.send(fresh, "sync")["type"] == "state"
    assert world.redis.commands == ["EVALSHA"]
    assert registered(world, run_id)[str(player.participant_id)] == "fresh="
    assert world.send(host, "message", to=player.participant_id, content="again")["type"] == "message"
    assert [f["content"] for f in world.pusher.inbox["fresh="] if f["type"] == "message"] == ["again"]
    assert world.send(player, "sync")["code"] == "unauthorized"  # the replaced one stays refused


def test_a_truly_gone_connection_is_replaced_by_the_next_connect_and_refused_after(world: EngineWorld) -> None:
    run_id, host, (player, _other) = start_run(world)
    world.pusher.gone.add(player.connection_id)
    world.send(host, "message", to="all", content="anyone?")
    world.pusher.closed.clear()
    newer = reopen(world, player, "back=")
    assert world.pusher.closed == [player.connection_id]
    assert registered(world, run_id)[str(player.participant_id)] == "back="
    assert world.send(newer, "sync")["type"] == "state"
    assert world.disconnect(newer) == 200
    assert world.send(player, "sync")["code"] == "unauthorized"  # no longer unreached: replaced


# --- closing a connection that API Gateway has not registered yet ------------------------------


class GatewayPusher(RecordingPusher):
    """@connections as API Gateway answers it: a connection exists only once registered (its
    $connect returned); until then, and after a DELETE, every call answers 410. `closed` holds the
    DELETEs that closed one."""

    def __init__(self) -> None:
        super().__init__()
        self.registered: set[str] = set()

    def _is_gone(self, connection_id: str) -> bool:
        return connection_id not in self.registered

    def close(self, connection_id: str) -> bool:
        with self._lock:
            if connection_id not in self.registered:
                return False
            self.registered.discard(connection_id)
        super().close(connection_id)
        return True


def test_a_replaced_connection_still_inside_its_connect_is_closed_once_registered(world: EngineWorld) -> None:
    _run_id, _code, _host = world.create(3)
    player = world.join(_code, "Ada", connect=False)
    gateway = GatewayPusher()
    pauses: list[float] = []
    first = socket_of(player, "first=")

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        gateway.registered.add(first.connection_id)  # the first $connect returns meanwhile

    world.service = SpeedRunService(world.engine, gateway, world.jobs, world.fanout, sleep=pause)
    assert world.connect(first) == 200  # admitted; not registered yet (its $connect "is still running")
    second = socket_of(player, "second=")
    assert world.connect(second) == 200
    gateway.registered.add(second.connection_id)
    assert gateway.closed == [first.connection_id]
    assert len(pauses) == 1  # one 410, one pause, then closed
    assert world.send(second, "sync")["type"] == "state"


def test_a_replaced_connection_registered_too_late_is_closed_on_its_first_frame(world: EngineWorld) -> None:
    _run_id, code, host = world.create(3)
    player = world.join(code, "Ada", connect=False)
    gateway = GatewayPusher()
    gateway.registered.add(host.connection_id)
    pauses: list[float] = []
    world.service = SpeedRunService(world.engine, gateway, world.jobs, world.fanout, sleep=pauses.append)
    slow, quick = socket_of(player, "slow="), socket_of(player, "quick=")
    assert world.connect(slow) == 200
    assert world.connect(quick) == 200  # closes `slow`: 410 on every attempt, it is still connecting
    gateway.registered.add(quick.connection_id)
    assert pauses == [0.05, 0.1, 0.2, 0.4]
    assert gateway.closed == []
    gateway.registered.add(slow.connection_id)  # its $connect returned at last: a live socket...
    reply = world.send(slow, "sync", request_id="s")
    assert (reply["code"], reply["request_id"]) == ("unauthorized", "s")  # ...that cannot act
    assert gateway.inbox[slow.connection_id] == [reply]  # it is told why, then closed
    assert gateway.closed == [slow.connection_id]
    assert world.disconnect(slow) == 200  # API Gateway's $disconnect after the DELETE
    assert world.send(quick, "sync")["type"] == "state"
    # the kick closes the participant's only connection left, registered: at once
    assert world.send(host, "kick", participant_id=player.participant_id)["type"] == "participant_left"
    assert gateway.closed == [slow.connection_id, quick.connection_id]
    assert pauses == [0.05, 0.1, 0.2, 0.4]


def test_connections_of_runs_made_before_open_lists_are_still_replaced_and_kicked(world: EngineWorld) -> None:
    """Live runs whose registry holds only `<slot>` fields (written before this rule) keep working."""
    run_id, host, (player, _other) = start_run(world)
    conns = run_keys(run_id)[6]
    world.redis.hdel(conns, f"open:{player.participant_id}")
    world.pusher.closed.clear()
    newer = reopen(world, player, "newer=")
    assert world.pusher.closed == [player.connection_id]
    world.redis.hdel(conns, f"open:{player.participant_id}")
    world.pusher.closed.clear()
    world.send(host, "kick", participant_id=player.participant_id)
    assert world.pusher.closed == [newer.connection_id]
    assert world.send(newer, "sync")["code"] == "forbidden"


def test_server_side_calls_without_a_connection_are_not_checked(world: EngineWorld) -> None:
    run_id, _code, _host = world.create(2)
    world.engine.call("start", run_id).raise_error()  # tools and tests drive the engine directly
    assert world.engine.export(run_id) is not None

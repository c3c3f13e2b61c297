"""The pushes a script's effects call for (protocol revision 2), for whoever sends them: the
speed-run service after an action, the fan-out function after a flush.

Effects name their recipients as `conns` (slot -> connection id; the slot `host` gets the host's
frame). Each distinct frame is one object shared by its recipients, so it is encoded once.
"""

from __future__ import annotations

from typing import Any

from speedrun.adapters.connections import Push
from speedrun.engine import frames
from speedrun.engine.models import HOST

Frame = dict[str, Any]


def broadcast(
    conns: dict[str, str], host_frame: Frame, participant_frame: Frame, *, exclude: str | None = None
) -> list[Push]:
    """One push per connection; the host gets its own frame."""
    return [
        Push(conn, host_frame if slot == HOST else participant_frame) for slot, conn in conns.items() if conn != exclude
    ]


def effect_pushes(effects: dict[str, Any], *, exclude_from_completed: str | None = None) -> list[Push]:
    """What the effects send, in order: the host's notifications, the lobby update, the watchers'
    board, `completed` (a connection gets its frames in this order)."""
    pushes: list[Push] = []
    feed = effects.get("host_feed")
    if feed and feed.get("conn"):
        pushes += [Push(feed["conn"], frame) for frame in frames.host_notifications(feed)]
    lobby = effects.get("lobby")
    if lobby:
        update = frames.lobby(lobby)
        pushes += [Push(conn, update) for conn in lobby["conns"].values()]
    board = effects.get("leaderboard")
    if board:
        pushes += broadcast(
            board["conns"],
            frames.leaderboard(board["entries"], board["participant_count"], host=True),
            frames.leaderboard(board["entries"], board["participant_count"], host=False),
        )
    completed = effects.get("completed")
    if completed:
        pushes += broadcast(
            completed["conns"],
            frames.completed(completed, host=True),
            frames.completed(completed, host=False),
            exclude=exclude_from_completed,
        )
    return pushes


def flush_delay_ms(effects: dict[str, Any]) -> int | None:
    """When the run wants its next flush (None: no flush asked for)."""
    delay = effects.get("flush_in_ms")
    return None if delay is None else int(delay)

"""The players query side: a profile by point read."""

from __future__ import annotations

from typing import Any

from speedrun.adapters.tables import PlayerModel
from speedrun.errors import NotFound


def read_profile(handle: str) -> dict[str, Any]:
    try:
        player = PlayerModel.get(handle)
    except PlayerModel.DoesNotExist:
        raise NotFound("no player with this handle") from None
    return {"handle": player.handle, **player.profile, "updated_at": player.updated_at, "version": int(player.version)}

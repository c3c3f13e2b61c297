"""Players: profile and progress commands (queued), the worker that applies them, point reads."""

from speedrun.players.commands import PlayerCommand, PlayerCommands, ProfileBody, ProgressBody
from speedrun.players.queries import read_profile
from speedrun.players.worker import PlayerWorker, idempotency_config, make_idempotent_apply, process_player_commands

__all__ = [
    "PlayerCommand",
    "PlayerCommands",
    "PlayerWorker",
    "ProfileBody",
    "ProgressBody",
    "idempotency_config",
    "make_idempotent_apply",
    "process_player_commands",
    "read_profile",
]

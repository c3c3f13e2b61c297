"""Replay: rebuild read models from the event store alone (architecture rule 5).

    python -m speedrun.replay --run <run id> | --player <handle> | --all [--target-endpoint URL]

Run read models (summary, results, player games) come from the run streams through the same
projections as the reporter; profiles and progress from the player streams, folded the same way the
players worker applies them. Every write is a deterministic put, so a replay over intact tables
rewrites identical items. With `--target-endpoint`, the read models (and the events replayed, so the
target has an event store too) are written to another DynamoDB endpoint under the logical table
names: that is how a deployed run is debugged on the local stack (docs/results-and-players.md).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from speedrun import projections
from speedrun.errors import NotFound
from speedrun.players.worker import profile_model, progress_model
from speedrun.reporting import BatchWriter, PutRequest, dynamodb_client, event_store
from speedrun.reporting.read_models import model_put, player_game_puts, run_read_model_puts
from speedrun.tables import MODELS


class ProgressBar:
    """A one-line progress bar on stderr (no dependency)."""

    def __init__(self, total: int, *, stream: TextIO | None = None, width: int = 30) -> None:
        self._total = max(total, 1)
        self._done = 0
        self._stream = stream or sys.stderr
        self._width = width

    def advance(self, label: str) -> None:
        self._done += 1
        filled = self._width * self._done // self._total
        bar = "#" * filled + "-" * (self._width - filled)
        self._stream.write(f"\r[{bar}] {self._done}/{self._total} {label[:40]:<40}")
        self._stream.flush()

    def finish(self) -> None:
        self._stream.write("\n")
        self._stream.flush()


@dataclass
class ReplayStats:
    runs: int = 0
    players: int = 0
    items: int = 0


def logical_table_names() -> Callable[[str], str]:
    """Configured table name -> logical name (the local stack's table names)."""
    by_configured = {model.Meta.table_name: logical for logical, model in MODELS.items()}
    return lambda name: by_configured.get(name, name)


class Replayer:
    def __init__(
        self,
        writer: BatchWriter,
        *,
        copy_events: bool = False,
        table_name: Callable[[str], str] = lambda name: name,
    ) -> None:
        self._writer = writer
        self._copy_events = copy_events
        self._table_name = table_name
        self.stats = ReplayStats()

    def replay_run(self, run_id: str) -> None:
        aggregate = projections.run_aggregate(run_id)
        events = event_store.read_stream(aggregate)
        if not events:
            raise NotFound(f"no events for run {run_id}")
        puts = run_read_model_puts(events)
        if self._copy_events:
            puts += [event_store.event_put(aggregate, event) for event in events]
        self._write(puts)
        self.stats.runs += 1

    def replay_player(self, handle: str, *, with_games: bool = True) -> None:
        """Profile and progress from the player's stream; with_games also rebuilds the player's game
        history from the run streams its `game_completed` events name."""
        aggregate = projections.player_aggregate(handle)
        events = event_store.read_stream(aggregate)
        if not events:
            raise NotFound(f"no events for player {handle}")
        puts: list[PutRequest] = []
        profile = profile_model(handle, events)
        if profile is not None:
            puts.append(model_put(profile))
        puts += [
            model_put(progress_model(handle, event))
            for event in events
            if event["type"] == projections.PROGRESS_RECORDED
        ]
        if with_games:
            for event in events:
                if event["type"] == projections.GAME_COMPLETED:
                    run_events = event_store.read_stream(projections.run_aggregate(event["data"]["run_id"]))
                    games = [game for game in projections.player_games(run_events) if game["handle"] == handle]
                    puts += player_game_puts(games)
        if self._copy_events:
            puts += [event_store.event_put(aggregate, event) for event in events]
        self._write(puts)
        self.stats.players += 1

    def replay_all(self, progress: ProgressBar | None = None) -> None:
        """Every run, then every player (their games come with the runs)."""
        aggregates = sorted(event_store.aggregate_ids())
        progress = progress or ProgressBar(len(aggregates))
        for aggregate in aggregates:
            kind, _, key = aggregate.partition("#")
            if kind == "run":
                self.replay_run(key)
            elif kind == "player":
                self.replay_player(key, with_games=False)
            progress.advance(aggregate)
        progress.finish()

    def _write(self, puts: Sequence[PutRequest]) -> None:
        self._writer.put_all(PutRequest(self._table_name(put.table), put.item) for put in puts)
        self.stats.items += len(puts)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m speedrun.replay", description=__doc__.split("\n\n")[0])
    scope = parser.add_mutually_exclusive_group(required=True)
    scope.add_argument("--run", metavar="RUN_ID", help="rebuild one run's summary, results and player games")
    scope.add_argument("--player", metavar="HANDLE", help="rebuild one player's profile, progress and games")
    scope.add_argument("--all", action="store_true", help="rebuild every read model")
    parser.add_argument(
        "--target-endpoint",
        metavar="URL",
        help="write to this DynamoDB endpoint (e.g. the local stack's) under the logical table names",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    target: dict[str, Any] = {}
    if args.target_endpoint:
        target = {"copy_events": True, "table_name": logical_table_names()}
    replayer = Replayer(BatchWriter(dynamodb_client(endpoint_url=args.target_endpoint)), **target)
    try:
        if args.run:
            replayer.replay_run(args.run)
        elif args.player:
            replayer.replay_player(args.player)
        else:
            replayer.replay_all()
    except NotFound as error:
        print(f"replay: {error.message}", file=sys.stderr)
        return 2
    stats = replayer.stats
    print(f"replayed {stats.runs} run(s), {stats.players} player(s): {stats.items} item(s) written", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())

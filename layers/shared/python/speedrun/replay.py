"""Replay: rebuild read models from the event store alone (architecture rule 5).

    python -m speedrun.replay --run <run id> | --player <handle> | --all
        [--target-endpoint URL [--target-region REGION] [--owner SUB | local-host | user:NAME [--user-pool-id ID]]]

Run read models (summary, results, player games) come from the run streams through the same
projections as the reporter; profiles and progress from the player streams, folded the same way the
players worker applies them. Every write is a deterministic put, so a replay over intact tables
rewrites identical items. With `--target-endpoint`, the read models (and the events replayed, so the
target has an event store too) are written to another DynamoDB endpoint under the logical table
names: that is how a deployed run is debugged on the local stack (docs/results-and-players.md).

`--owner` (only with `--target-endpoint`) gives what is replayed to another account: every owner
field that authorizes access (a run's `host`, a profile's `owner`) is rewritten in the events before
they are projected, so the read models and the copied events agree, and each rewritten event keeps
the original sub in an item attribute of its own (`replay_original_owner`) for debugging.
`local-host` and `user:NAME` are looked up in the target endpoint's Cognito (the local stack's moto).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from speedrun.adapters.tables import MODELS
from speedrun.errors import NotFound
from speedrun.events import (
    GAME_COMPLETED,
    PROFILE_UPSERTED,
    PROGRESS_RECORDED,
    RUN_CREATED,
    player_aggregate,
    run_aggregate,
)
from speedrun.players.worker import profile_model, progress_model
from speedrun.reporting import event_store, projections
from speedrun.reporting.batch_writer import BatchWriter, PutRequest, dynamodb_client
from speedrun.reporting.read_models import model_put, player_game_puts, run_read_model_puts

LOCAL_STACK_REGION = "us-east-1"
"""The local stack's region (`LocalStackOptions.region`): its tables and user pool live there in moto."""
LOCAL_HOST = "local-host"
LOCAL_HOST_USERNAME = "host"
"""The local stack's host account (`local_stack.aws.HOST_USERNAME`; the shared layer cannot import the local stack)."""
USER_PREFIX = "user:"
SUB_PATTERN = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
"""A Cognito `sub` is a UUID."""
OWNER_FIELDS = {RUN_CREATED: "host", PROFILE_UPSERTED: "owner"}
"""The event fields holding the Cognito sub that authorizes access: everything the read models
owner-check comes from them (`runs.host` and the summary's `host` from `run_created`, which also
authorize the results and the CSV; `players.owner` from `profile_upserted`)."""
ORIGINAL_OWNER_ATTRIBUTE = "replay_original_owner"
"""On a copied event whose owner field `--owner` rewrote: the original sub (outside `data`, so
the event itself reads as the target's own and `EventModel` ignores the attribute)."""


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
    original_owners: dict[str, int] = field(default_factory=dict)
    """With an owner mapping: each original sub -> how many owner fields of it were rewritten."""


def logical_table_names() -> Callable[[str], str]:
    """Configured table name -> logical name (the local stack's table names)."""
    by_configured = {model.Meta.table_name: logical for logical, model in MODELS.items()}
    return lambda name: by_configured.get(name, name)


class OwnerNotResolved(Exception):
    """`--owner` names no account that can be found."""


@dataclass(frozen=True)
class OwnerSpec:
    """What `--owner` said: a sub as it is, or a user name to look up in the target's Cognito."""

    sub: str | None = None
    username: str | None = None

    def __str__(self) -> str:
        return self.sub or f"user {self.username!r}"


def owner_spec(value: str) -> OwnerSpec:
    """`--owner`: a Cognito sub (a UUID), `local-host` (the local stack's host account) or `user:NAME`."""
    if value == LOCAL_HOST:
        return OwnerSpec(username=LOCAL_HOST_USERNAME)
    if value.startswith(USER_PREFIX):
        username = value[len(USER_PREFIX) :]
        if not username.strip():
            raise argparse.ArgumentTypeError(f"{value!r} names no user: user:<name>, e.g. user:{LOCAL_HOST_USERNAME}")
        return OwnerSpec(username=username)
    if SUB_PATTERN.match(value):
        return OwnerSpec(sub=value.lower())
    raise argparse.ArgumentTypeError(
        f"{value!r} is not a Cognito sub (a UUID such as 3f2c1a9e-8b7d-4c6e-9f01-23456789abcd), "
        f"{LOCAL_HOST!r} or 'user:<name>'"
    )


def resolve_owner(spec: OwnerSpec, cognito: Any, *, user_pool_id: str | None = None, where: str = "") -> str:
    """The sub `spec` stands for. A user name is looked up (AdminGetUser) in `user_pool_id`, else in the
    only user pool `cognito` has (the local stack's moto has one). OwnerNotResolved otherwise."""
    if spec.sub is not None:
        return spec.sub
    username = spec.username or ""
    at = f" at {where}" if where else ""
    try:
        pool = user_pool_id or _only_user_pool(cognito, at)
    except (ClientError, BotoCoreError) as error:
        raise OwnerNotResolved(f"could not read the Cognito user pools{at}: {error}") from None
    try:
        user = cognito.admin_get_user(UserPoolId=pool, Username=username)
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "")
        if code == "UserNotFoundException":
            raise OwnerNotResolved(f"no user {username!r} in user pool {pool}{at}") from None
        if code == "ResourceNotFoundException":
            raise OwnerNotResolved(f"no user pool {pool}{at}") from None
        raise OwnerNotResolved(f"could not look up user {username!r} in user pool {pool}{at}: {error}") from None
    except BotoCoreError as error:
        raise OwnerNotResolved(f"could not look up user {username!r} in user pool {pool}{at}: {error}") from None
    attributes = {attribute["Name"]: attribute["Value"] for attribute in user.get("UserAttributes", [])}
    sub = str(attributes.get("sub", ""))
    if not SUB_PATTERN.match(sub):
        raise OwnerNotResolved(f"user {username!r} of user pool {pool}{at} has no Cognito sub (got {sub!r})")
    return sub.lower()


def _only_user_pool(cognito: Any, at: str) -> str:
    pools: list[str] = []
    for page in cognito.get_paginator("list_user_pools").paginate(PaginationConfig={"PageSize": 60}):
        pools.extend(pool["Id"] for pool in page.get("UserPools", []))
    if not pools:
        raise OwnerNotResolved(
            f"no Cognito user pool{at}: is it the local stack's AWS endpoint (the `AWS (moto)` line `make run` "
            "prints) and region (--target-region)? Or pass the owner's sub"
        )
    if len(pools) > 1:
        raise OwnerNotResolved(f"{len(pools)} user pools{at} ({', '.join(sorted(pools))}): pass --user-pool-id")
    return pools[0]


class Replayer:
    def __init__(
        self,
        writer: BatchWriter,
        *,
        copy_events: bool = False,
        table_name: Callable[[str], str] = lambda name: name,
        owner: str | None = None,
    ) -> None:
        """`owner`: the sub every owner field of the replayed events is rewritten to (None: as they are)."""
        self._writer = writer
        self._copy_events = copy_events
        self._table_name = table_name
        self._owner = owner
        self.stats = ReplayStats()

    @property
    def owner(self) -> str | None:
        return self._owner

    def replay_run(self, run_id: str) -> None:
        aggregate = run_aggregate(run_id)
        events, originals = self._owned(event_store.read_stream(aggregate))
        if not events:
            raise NotFound(f"no events for run {run_id}")
        puts = run_read_model_puts(events)
        if self._copy_events:
            puts += [self._event_put(aggregate, event, originals) for event in events]
        self._write(puts)
        self.stats.runs += 1

    def replay_player(self, handle: str, *, with_games: bool = True) -> None:
        """Profile and progress from the player's stream; with_games also rebuilds the player's game
        history from the run streams its `game_completed` events name."""
        aggregate = player_aggregate(handle)
        events, originals = self._owned(event_store.read_stream(aggregate))
        if not events:
            raise NotFound(f"no events for player {handle}")
        puts: list[PutRequest] = []
        profile = profile_model(handle, events)
        if profile is not None:
            puts.append(model_put(profile))
        puts += [model_put(progress_model(handle, event)) for event in events if event["type"] == PROGRESS_RECORDED]
        if with_games:
            for event in events:
                if event["type"] == GAME_COMPLETED:
                    run_stream = event_store.read_stream(run_aggregate(event["data"]["run_id"]))
                    run_events, _ = self._owned(run_stream, count=False)  # games name their run's host
                    games = [game for game in projections.player_games(run_events) if game["handle"] == handle]
                    puts += player_game_puts(games)
        if self._copy_events:
            puts += [self._event_put(aggregate, event, originals) for event in events]
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

    def _owned(
        self, events: list[dict[str, Any]], *, count: bool = True
    ) -> tuple[list[dict[str, Any]], dict[int, str]]:
        """The events with every owner field set to the mapped owner, and seq -> original sub of the
        events it changed (the events as they are without a mapping). Every stream a read model is
        projected from goes through here, so whatever the projections derive from an owner field
        (the summary's and the run item's `host`, a game's `host`, ...) names the mapped owner."""
        if self._owner is None:
            return events, {}
        owned: list[dict[str, Any]] = []
        originals: dict[int, str] = {}
        for event in events:
            name = OWNER_FIELDS.get(event["type"])
            if name is None or name not in event["data"]:
                owned.append(event)
                continue
            original = str(event["data"][name])
            originals[int(event["seq"])] = original
            if count:
                self.stats.original_owners[original] = self.stats.original_owners.get(original, 0) + 1
            owned.append({**event, "data": {**event["data"], name: self._owner}})
        return owned, originals

    @staticmethod
    def _event_put(aggregate: str, event: dict[str, Any], originals: dict[int, str]) -> PutRequest:
        put = event_store.event_put(aggregate, event)
        original = originals.get(int(event["seq"]))
        if original is None:
            return put
        return PutRequest(put.table, {**put.item, ORIGINAL_OWNER_ATTRIBUTE: {"S": original}})

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
    parser.add_argument(
        "--target-region",
        metavar="REGION",
        help=f"the target endpoint's region (default {LOCAL_STACK_REGION}, the local stack's)",
    )
    parser.add_argument(
        "--owner",
        type=owner_spec,
        metavar="SUB|local-host|user:NAME",
        help="with --target-endpoint: give the replayed runs and profiles to this Cognito sub; "
        "local-host is the local stack's host account, user:NAME any user of the target's user pool",
    )
    parser.add_argument(
        "--user-pool-id",
        metavar="ID",
        help="with --owner local-host|user:NAME: the user pool to look the user up in (default: the target's only one)",
    )
    return parser


def target_cognito(endpoint_url: str, region: str) -> Any:
    """Cognito at the target endpoint, for one lookup: no retries (a wrong URL fails at once)."""
    config = Config(connect_timeout=5, read_timeout=30, retries={"total_max_attempts": 1})
    return boto3.client("cognito-idp", region_name=region, endpoint_url=endpoint_url, config=config)


def _check_flags(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """The flags that only make sense together (argparse cannot say so): exits with the usage error."""
    if not args.target_endpoint:
        for given, flag in ((args.owner, "--owner"), (args.target_region, "--target-region")):
            if given is not None:
                parser.error(
                    f"{flag} needs --target-endpoint (a replay in place rebuilds the read models as they were)"
                )
    if args.user_pool_id is not None and (args.owner is None or args.owner.username is None):
        parser.error("--user-pool-id goes with --owner local-host or --owner user:NAME")


def _replayer(args: argparse.Namespace) -> Replayer:
    """In place, or into the target endpoint's logical tables (events copied), owned by `--owner` if given.

    Raises OwnerNotResolved when `--owner` names no user of the target."""
    if not args.target_endpoint:
        return Replayer(BatchWriter(dynamodb_client()))
    region = args.target_region or LOCAL_STACK_REGION
    owner: str | None = None
    if args.owner is not None:
        owner = resolve_owner(
            args.owner,
            target_cognito(args.target_endpoint, region),
            user_pool_id=args.user_pool_id,
            where=f"{args.target_endpoint} ({region})",
        )
    target = boto3.client("dynamodb", region_name=region, endpoint_url=args.target_endpoint)
    return Replayer(BatchWriter(target), copy_events=True, table_name=logical_table_names(), owner=owner)


def _replay_scope(replayer: Replayer, args: argparse.Namespace) -> None:
    """Rebuild what `--run`, `--player` or `--all` names (raises NotFound for an unknown one)."""
    if args.run:
        replayer.replay_run(args.run)
    elif args.player:
        replayer.replay_player(args.player)
    else:
        replayer.replay_all()


def _print_summary(replayer: Replayer) -> None:
    stats = replayer.stats
    print(f"replayed {stats.runs} run(s), {stats.players} player(s): {stats.items} item(s) written", file=sys.stderr)
    if replayer.owner is not None:
        originals = ", ".join(f"{sub} ({count})" for sub, count in sorted(stats.original_owners.items()))
        print(f"owner {replayer.owner} in place of: {originals or 'no owner field'}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    _check_flags(parser, args)
    try:
        replayer = _replayer(args)
    except OwnerNotResolved as error:
        print(f"replay: --owner {args.owner}: {error}", file=sys.stderr)
        return 2
    try:
        _replay_scope(replayer, args)
    except NotFound as error:
        print(f"replay: {error.message}", file=sys.stderr)
        return 2
    _print_summary(replayer)
    return 0


if __name__ == "__main__":
    sys.exit(main())

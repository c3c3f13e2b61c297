"""Join-flood protection that never refuses a classroom (http-api.md, Sign-on; docs/signon-and-tokens.md).

A whole school behind one public address (a NAT; deployed, also every viewer near one CloudFront
edge) must be able to fill a run within a minute, so nothing here caps successful joins below the
run's own capacity. What a script does differently is fail: it guesses codes, repeats names, keeps
going once the run is full. The limits count those failures, keyed on the viewer address CloudFront
reports (speedrun.signon.viewer) and on the run, in fixed one-minute windows (the epoch minute):

- **unknown join codes per viewer** (`JOIN_UNKNOWN_CODES_PER_VIEWER_PER_MINUTE`, default 100): once a
  viewer has named that many codes that lead to no run, every join from it is refused (429) until
  the minute ends, whatever code it names, so the 429 tells a guesser nothing;
- **per viewer and run**: successful joins up to the run's `max_participants` (the run's capacity is
  the hard cap anyway: 403 once full; this bounds rejoining after kicks), and refused ones (name
  taken, run full or closed, a claimed `player_handle`) up to 20 plus one for every 10 joins the
  viewer made into the run in the minute (a school of 1,000 may have 120 name clashes and retries).

Every check is one round trip: the viewer's counter is one key, and a run's counters are one hash
per window carrying the run's hash tag `{<run id>}`, read in one script together with the run's
`max_participants` (same slot on a Redis Cluster). A join admitted into a run counts as joined at
once (a burst of a class in flight is never mistaken for refusals) and is moved to `refused` if it
is refused. A burst straddling two windows may get up to twice a limit through; the point is to
stop scripts, not exact metering.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NoReturn

import redis
from aws_lambda_powertools import Logger

from speedrun.adapters.redis_client import RedisClient
from speedrun.clock import now_ms
from speedrun.engine.keys import RUN_KEY_PARTS, run_keys
from speedrun.engine.scripts import redis_errors_as_unavailable
from speedrun.errors import DomainError, NotFound, RateLimited

logger = Logger(child=True)

WINDOW_MS = 60_000
KEY_TTL_S = 120
"""Longer than a window, so a counter never expires while its window is current."""
UNKNOWN_CODES_PER_VIEWER_PER_MINUTE = 100
"""The default of `JOIN_UNKNOWN_CODES_PER_VIEWER_PER_MINUTE` (speedrun.settings)."""
REFUSALS_PER_VIEWER_PER_RUN = 20
"""Refused joins into one run one viewer may make in a minute before any join of it into the run is
refused, plus one for every `JOINS_PER_EXTRA_REFUSAL` joins it made into the run that minute."""
JOINS_PER_EXTRA_REFUSAL = 10

_META_KEY_INDEX = RUN_KEY_PARTS.index("meta")
_FIELD_SEPARATOR = "|"
"""Between the viewer and the counter name in a run's hash (an IPv6 key holds `:` and `/`)."""

# KEYS[1]: the run's meta hash (speedrun.engine.keys), KEYS[2]: the run's join counters of the window;
# both carry the run's hash tag. ARGV: viewer, key TTL (s), refusals base, joins per extra refusal.
# Answers {admitted (1/0), why not (1: seats, 2: refusals, 3: the run is gone)}.
_ADMIT_TO_RUN = """
local capacity = tonumber(redis.call('HGET', KEYS[1], 'max_participants'))
if not capacity then return {0, 3} end
local joined_field, refused_field = ARGV[1] .. '|joined', ARGV[1] .. '|refused'
local counts = redis.call('HMGET', KEYS[2], joined_field, refused_field)
local joined, refused = tonumber(counts[1]) or 0, tonumber(counts[2]) or 0
if joined >= capacity then return {0, 1} end
if refused >= tonumber(ARGV[3]) + math.floor(joined / tonumber(ARGV[4])) then return {0, 2} end
redis.call('HINCRBY', KEYS[2], joined_field, 1)
redis.call('EXPIRE', KEYS[2], tonumber(ARGV[2]))
return {1, 0}
"""
_SEATS, _REFUSALS, _GONE = 1, 2, 3


def join_window_key(viewer: str, window: int) -> str:
    """The viewer's counter of unknown join codes in a window (every key here starts `joins:`)."""
    return f"joins:viewer:{viewer}:{window}"


def run_window_key(run_id: str, window: int) -> str:
    """A run's join counters in a window: a hash of `<viewer>|joined` and `<viewer>|refused`."""
    return f"joins:{{{run_id}}}:{window}"


def run_field(viewer: str, counter: str) -> str:
    return f"{viewer}{_FIELD_SEPARATOR}{counter}"


@dataclass(frozen=True)
class Admission:
    """One join let through: settled with the join's outcome, in the window it was admitted in."""

    viewer: str
    window: int
    run_id: str


class JoinLimiter:
    def __init__(
        self,
        redis: RedisClient,
        *,
        unknown_codes_per_minute: int = UNKNOWN_CODES_PER_VIEWER_PER_MINUTE,
        refusals_per_run: int = REFUSALS_PER_VIEWER_PER_RUN,
        joins_per_extra_refusal: int = JOINS_PER_EXTRA_REFUSAL,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.redis = redis
        self.unknown_codes_per_minute = unknown_codes_per_minute
        self.refusals_per_run = refusals_per_run
        self.joins_per_extra_refusal = joins_per_extra_refusal
        self.clock = clock
        self._admit_to_run = redis.register_script(_ADMIT_TO_RUN)

    def admit(self, viewer: str, resolve: Callable[[], str]) -> Admission:
        """Lets one join from `viewer` through, or raises RateLimited (429). `resolve` maps the join's
        code to its run id (NotFound for an unknown code, which is counted and re-raised)."""
        now = self.clock()
        window = now // WINDOW_MS
        with redis_errors_as_unavailable():
            unknown = self.redis.get(join_window_key(viewer, window))
        if unknown is not None and int(unknown) >= self.unknown_codes_per_minute:
            self._refuse("unknown_codes", None, now, "too many unknown join codes from this address")
        try:
            run_id = resolve()
        except NotFound:
            self._count_unknown_code(viewer, window)
            raise
        meta_key = run_keys(run_id)[_META_KEY_INDEX]
        with redis_errors_as_unavailable():
            admitted, limit = self._admit_to_run(
                keys=[meta_key, run_window_key(run_id, window)],
                args=[viewer, KEY_TTL_S, self.refusals_per_run, self.joins_per_extra_refusal],
            )
        if not int(admitted):
            if int(limit) == _GONE:
                # Its code outlived it for a moment: as unknown as any other code.
                self._count_unknown_code(viewer, window)
                raise NotFound("unknown join code")
            if int(limit) == _SEATS:
                self._refuse("seats", run_id, now, "as many joins from this address as the speed-run has places")
            self._refuse("refusals", run_id, now, "too many refused joins into this speed-run from this address")
        return Admission(viewer, window, run_id)

    def settle(self, admission: Admission, error: BaseException | None) -> None:
        """Counts the admitted join's outcome: None (joined: already counted), a refusal (a 4xx of
        sign-on or the engine: moved from joined to refused; NotFound, the run gone meanwhile, counts
        as an unknown code instead), or anything else (not the caller's doing: the join is uncounted).
        Best effort: the join's own outcome stands even if this cannot be written."""
        if error is None:
            return
        try:
            gone = isinstance(error, NotFound)
            if gone:
                # The run went away between resolving its code and joining it.
                self._count_unknown_code(admission.viewer, admission.window)
            key = run_window_key(admission.run_id, admission.window)
            pipeline = self.redis.pipeline(transaction=False)
            pipeline.hincrby(key, run_field(admission.viewer, "joined"), -1)
            if _is_refusal(error) and not gone:
                pipeline.hincrby(key, run_field(admission.viewer, "refused"), 1)
            pipeline.expire(key, KEY_TTL_S)
            with redis_errors_as_unavailable():
                pipeline.execute()
        except (DomainError, redis.RedisError):
            logger.warning("join outcome not counted", extra={"run_id": admission.run_id})

    def _count_unknown_code(self, viewer: str, window: int) -> None:
        key = join_window_key(viewer, window)
        pipeline = self.redis.pipeline(transaction=False)
        pipeline.incr(key)
        pipeline.expire(key, KEY_TTL_S)
        with redis_errors_as_unavailable():
            pipeline.execute()

    @staticmethod
    def _refuse(limit: str, run_id: str | None, now: int, reason: str) -> NoReturn:
        retry_s = -(-(WINDOW_MS - now % WINDOW_MS) // 1000)
        logger.warning("join refused by the join-flood limit", extra={"limit": limit, "run_id": run_id})
        raise RateLimited(f"{reason}; try again in {retry_s} s")


def _is_refusal(error: BaseException) -> bool:
    return isinstance(error, DomainError) and 400 <= error.status < 500 and not isinstance(error, RateLimited)

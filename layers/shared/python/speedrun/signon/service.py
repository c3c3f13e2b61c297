"""Sign-on: open a speed-run (freeze its questions into the engine, issue the host token) and join
one (issue a participant token, tell everyone in the run); and the $connect check of a token."""

from __future__ import annotations

from collections.abc import Callable

from aws_lambda_powertools import Logger

from speedrun.adapters.redis_client import redis_from_settings
from speedrun.adapters.tokens import RunTokens, run_tokens_from_settings
from speedrun.clock import iso_from_ms, now_ms
from speedrun.engine.models import CreatedRun, Joined, RunConfig
from speedrun.engine.store import LOBBY_TTL_MS, RunEngine
from speedrun.fanout.publisher import FanOut, FanOutQueue
from speedrun.players.commands import check_owner
from speedrun.question_sets.models import StoredQuestionSet
from speedrun.question_sets.service import load_questions as load_stored_questions
from speedrun.reporting.live_runs import HostRunIndex
from speedrun.settings import Settings, get_settings
from speedrun.signon.join_limit import Admission, JoinLimiter
from speedrun.signon.models import MAX_DURATION_S, CreateSpeedRunRequest, JoinRequest, RunJoined, SpeedRunCreated
from speedrun.signon.selection import select_questions

logger = Logger(child=True)

QuestionLoader = Callable[[str, str], StoredQuestionSet]
"""`(owner, set_id) -> the stored set`; NotFound for an unknown set or someone else's."""
HandleCheck = Callable[[str, str], object]
"""`(player handle, caller's Cognito sub or "") -> ...`; Forbidden when the handle is another account's."""

LONGEST_RUN_MS = MAX_DURATION_S * 1000
"""Once started, no run lasts longer than the largest `duration_s` sign-on accepts (the engine gives
runs without one the same bound, and a WebSocket connection lives at most that long too)."""
PARTICIPANT_TOKEN_LIFETIME_MS = LOBBY_TTL_MS + LONGEST_RUN_MS


def host_token_expiry_ms(created: CreatedRun) -> int:
    """The run must start before its lobby expires, and then lasts at most the longest run."""
    return created.expires_at_ms + LONGEST_RUN_MS


def participant_token_expiry_ms(joined_at_ms: int) -> int:
    """Join does not learn when the run was opened or started, so the widest bound: a day in the
    lobby and the longest run. The authorizer refuses a token of a run that is gone anyway."""
    return joined_at_ms + PARTICIPANT_TOKEN_LIFETIME_MS


class SignOnService:
    def __init__(
        self,
        engine: RunEngine,
        tokens: RunTokens,
        fanout: FanOut,
        *,
        ws_url: str,
        load_questions: QuestionLoader = load_stored_questions,
        join_limiter: JoinLimiter | None = None,
        check_handle: HandleCheck | None = None,
        host_index: HostRunIndex | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.engine = engine
        self.host_index = host_index
        self.join_limiter = join_limiter
        self.check_handle = check_handle
        self.tokens = tokens
        self.fanout = fanout
        self.ws_url = ws_url
        self.load_questions = load_questions
        self.clock = clock

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> SignOnService:
        """Everything from the environment; the token keys and Redis client are the process's own
        when `settings` is None."""
        redis = redis_from_settings(settings)
        resolved = settings or get_settings()
        return cls(
            RunEngine(redis),
            run_tokens_from_settings(settings),
            FanOutQueue(settings=resolved),
            ws_url=resolved.require("ws_url"),
            join_limiter=JoinLimiter(redis, unknown_codes_per_minute=resolved.join_unknown_codes_per_viewer_per_minute),
            check_handle=check_owner,
            host_index=HostRunIndex(redis),
        )

    def create_speedrun(self, host: str, request: CreateSpeedRunRequest) -> SpeedRunCreated:
        question_set = self.load_questions(host, request.question_set_id)
        questions = select_questions(
            question_set.questions,
            categories=request.categories,
            question_count=request.question_count,
            shuffle=request.shuffle,
        )
        config = RunConfig(
            host=host,
            name=request.name or question_set.name,
            question_set_id=question_set.id,
            question_set_version=question_set.version,
            question_duration_s=request.question_duration_s,
            duration_s=request.duration_s,
            max_participants=request.max_participants,
            chat=request.chat,
            shuffle=request.shuffle,
            categories=request.categories,
            late_join=request.late_join,
            scoring=request.scoring,
            speed_tiebreak=request.speed_tiebreak,
            show_explanations=request.show_explanations,
        )
        created = self.engine.create_run(config, questions)
        self._list_for_host(host, created)
        issued = self.tokens.issue(created.run_id, "host", None, expires_at_ms=host_token_expiry_ms(created))
        logger.info("speed-run opened", extra={"run_id": created.run_id, "question_count": len(questions)})
        return SpeedRunCreated(
            speedrun_id=created.run_id,
            join_code=created.join_code,
            host_token=issued.token,
            ws_url=self.ws_url,
            expires_at=iso_from_ms(issued.expires_at_ms),
        )

    def _list_for_host(self, host: str, created: CreatedRun) -> None:
        """Adds the run to its host's index of live runs (`GET /api/speedruns`). Another slot than the
        run's keys on a cluster, so a round trip of its own after the run's script. If it fails, the
        run still opens (it is served by id, and listed once persisted)."""
        if self.host_index is None:
            return
        try:
            # create_run stamps created_at = now and expires_at = now + LOBBY_TTL_MS from one clock reading.
            self.host_index.add(host, created.run_id, created.expires_at_ms - LOBBY_TTL_MS)
        except Exception:
            logger.exception("run not added to its host's live index", extra={"run_id": created.run_id})

    def join(self, request: JoinRequest, *, viewer: str | None = None, player_sub: str | None = None) -> RunJoined:
        """`viewer` (the caller's address, speedrun.signon.viewer) passes the join-flood limits first
        (speedrun.signon.join_limit) and the join's outcome is counted against them; a
        `player_handle` some account has claimed may only be used by that account (`player_sub`, the
        caller's verified Cognito sub), so nobody plays into another player's history. A refused
        join changes nothing in the run."""
        admission: Admission | None = None
        if self.join_limiter is not None and viewer:
            admission = self.join_limiter.admit(viewer, lambda: self.engine.run_id_for_code(request.join_code))
        try:
            if self.check_handle is not None and request.player_handle is not None:
                self.check_handle(request.player_handle, player_sub or "")
            joined = self.engine.join(request.join_code, request.name, request.player_handle)
        except Exception as error:
            if self.join_limiter is not None and admission is not None:
                self.join_limiter.settle(admission, error)
            raise
        issued = self.tokens.issue(
            joined.run_id,
            "participant",
            joined.participant_id,
            expires_at_ms=participant_token_expiry_ms(self.clock()),
        )
        self._broadcast_join(joined)
        return RunJoined(
            speedrun_id=joined.run_id,
            participant_id=joined.participant_id,
            participant_token=issued.token,
            ws_url=self.ws_url,
        )

    def _broadcast_join(self, joined: Joined) -> None:
        """The host and the lobby hear of the join from the run's next flush (coalesced, protocol
        revision 2); this join asks for it when none is on its way."""
        logger.info("participant joined", extra={"run_id": joined.run_id, "count": joined.participant_count})
        if joined.flush_in_ms is None:
            return
        try:
            self.fanout.request_flush(joined.run_id, joined.flush_in_ms)
        except Exception:
            # The participant is in (and must get their token); the run asks again at its next change.
            logger.exception("flush not requested", extra={"run_id": joined.run_id})

"""The WebSocket side of a speed-run: every route of `lambdas/speedrun.py` and the deadline timer.

Each action is one script call on the run's keys (validate, score, update the board, append the
events); this module turns the script's reply into the direct reply frame, and its effects into
broadcasts handed to the fan-out (`started`, `participant_left`, chat, `completed`), the flush the
run asked for (its coalesced pushes: the host's notifications, the lobby, the watchers' board) and
the completion job. No broadcast is posted here: the reply never waits for one (architecture rule 9).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

from aws_lambda_powertools import Logger

from speedrun.adapters.connections import ConnectionsPusher, Push, Pusher
from speedrun.adapters.queues import JobQueues
from speedrun.adapters.redis_client import redis_from_settings
from speedrun.engine import broadcasts, frames
from speedrun.engine.models import HOST, PARTICIPANT, Caller
from speedrun.engine.requests import (
    AnswerFields,
    ExtraTimeFields,
    KickFields,
    MessageFields,
    QuestionFields,
    parse_fields,
    read_envelope,
)
from speedrun.engine.scripts import Outcome
from speedrun.engine.store import RunEngine
from speedrun.errors import BadRequest, DomainError, Forbidden, NotRunning, Unavailable
from speedrun.fanout.publisher import FanOut, FanOutQueue
from speedrun.manifest import WsAction
from speedrun.reporting import views
from speedrun.settings import get_settings

logger = Logger(child=True)

Frame = dict[str, Any]
Action = Callable[[Caller, dict[str, Any]], Frame]

CLOSE_RETRY_DELAYS_S = (0.05, 0.1, 0.2, 0.4)
"""A connection admitted moments ago answers DELETE with 410 until its own `$connect` has returned
(API Gateway registers it only then): closing it is tried again after these pauses (0.75 s in all,
well inside the engine's RECLOSE_MS)."""
CLOSE_WORKERS = 8


class RefusedConnection(Exception):
    """The engine refused the caller's connection: it is not (any longer) the one its token may act
    on (replaced by a newer connection of the same token, or a kicked participant's)."""

    def __init__(self, error: DomainError) -> None:
        super().__init__(error.message)
        self.error = error


class SpeedRunService:
    def __init__(
        self,
        engine: RunEngine,
        pusher: Pusher,
        jobs: JobQueues,
        fanout: FanOut,
        *,
        close_retry_delays_s: Sequence[float] = CLOSE_RETRY_DELAYS_S,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """`pusher`: this function's own `@connections` calls (closing connections, telling a refused
        one why); `fanout`: every broadcast."""
        self.engine = engine
        self.pusher = pusher
        self.jobs = jobs
        self.fanout = fanout
        self._close_retry_delays_s = tuple(close_retry_delays_s)
        self._sleep = sleep
        self._closer: ThreadPoolExecutor | None = None
        self._closer_lock = threading.Lock()
        self._actions: dict[str, Action] = {
            WsAction.SYNC: self._sync,
            WsAction.PING: lambda _caller, _body: dict(frames.PONG),
            WsAction.START: self._start,
            WsAction.END: self._end,
            WsAction.KICK: self._kick,
            WsAction.EXTRA_TIME: self._extra_time,
            WsAction.QUESTION: self._question,
            WsAction.ANSWER: self._answer,
            WsAction.TIMEOUT: self._timeout,
            WsAction.RESULTS: self._results,
            WsAction.MESSAGE: self._message,
        }

    @property
    def actions(self) -> frozenset[str]:
        return frozenset(self._actions)

    # --- connection lifecycle -----------------------------------------------------------------

    def connect(self, caller: Caller) -> bool:
        """Registers the socket as the caller's one live connection (the newest wins: from now on
        the engine refuses every action from the others) and closes every other open connection of
        the same token."""
        outcome = self.engine.call("connect", caller.run_id, caller.slot, caller.connection_id)
        if outcome.error is not None:
            return False
        self._close_all(outcome.reply.get("close") or {})
        return True

    def disconnect(self, caller: Caller) -> None:
        self.engine.call("disconnect", caller.run_id, caller.slot, caller.connection_id)

    # --- frames -------------------------------------------------------------------------------

    def handle(self, caller: Caller, route_key: str, raw: str | None, *, token_expires_at: int | None = None) -> Frame:
        """One client frame -> the direct reply frame (errors included; nothing raises).
        `token_expires_at`: when the connection's token expires (epoch ms; None: never)."""
        if token_expires_at is not None and self.engine.clock() >= token_expires_at:
            # $connect refuses an expired token; a connection made before it expired stops here.
            return frames.error("unauthorized", "the token of this connection has expired", None)
        request_id: str | None = None
        try:
            envelope = read_envelope(raw)
            request_id = envelope.request_id
            action = self._actions.get(route_key)
            if action is None:
                raise BadRequest(f"unknown action {str(envelope.body.get('action'))[:64]!r}")
            frame = action(caller, envelope.body)
        except RefusedConnection as refused:
            frame = frames.error(refused.error.code, refused.error.message, request_id)
            self._close_refused(caller, frame)
            return frame
        except DomainError as exc:
            if exc.status >= 500:
                logger.warning("action failed", extra={"code": exc.code, "route": route_key})
            return frames.error(exc.code, exc.message, request_id)
        except Exception:
            logger.exception("unhandled error", extra={"route": route_key})
            return frames.error("internal", "internal error", request_id)
        if request_id is not None:
            frame["request_id"] = request_id
        return frame

    def _sync(self, caller: Caller, _body: dict[str, Any]) -> Frame:
        outcome = self._run(caller, "sync", caller.slot, caller.connection_id)
        return frames.state(caller.run_id, outcome.reply, host=caller.role == HOST)

    def _start(self, caller: Caller, _body: dict[str, Any]) -> Frame:
        _require_role(caller, HOST)
        # The timer is armed before the run starts, so a run never runs without one: if the queue is
        # unreachable the start fails (`unavailable`) and nothing changed. The message is due at once;
        # the finalizer reads the real `ends_at` and re-schedules itself for it (a lobby run: ignored).
        try:
            self.jobs.schedule_deadline(caller.run_id, self.engine.clock())
        except Exception as exc:
            logger.exception("deadline timer not armed", extra={"run_id": caller.run_id})
            raise Unavailable("the run could not be started; try again") from exc
        reply = self._run(caller, "start", caller.connection_id).reply
        frame = frames.started(reply)
        self._publish(caller.run_id, broadcasts.broadcast(reply["conns"], frame, frame, exclude=caller.connection_id))
        self.engine.persist_join_code(reply["join_code"])
        return dict(frame)

    def _end(self, caller: Caller, _body: dict[str, Any]) -> Frame:
        _require_role(caller, HOST)
        outcome = self._run(caller, "end", caller.connection_id, reply_is_completed=True)
        return frames.completed(outcome.effects["completed"], host=True)

    def _kick(self, caller: Caller, body: dict[str, Any]) -> Frame:
        _require_role(caller, HOST)
        fields = parse_fields(KickFields, body)
        outcome = self.engine.call("kick", caller.run_id, fields.participant_id, caller.connection_id)
        if outcome.error is not None:
            self._apply(caller.run_id, outcome, [])
            _raise_error(outcome)
        reply = outcome.reply
        self._close_all(reply.get("close") or {})  # every connection of the participant
        left = frames.participant_left(fields.participant_id, reply["participant_count"])
        others = broadcasts.broadcast(reply["conns"], left, left, exclude=caller.connection_id)
        self._apply(caller.run_id, outcome, others)
        return dict(left)

    def _extra_time(self, caller: Caller, body: dict[str, Any]) -> Frame:
        _require_role(caller, HOST)
        fields = parse_fields(ExtraTimeFields, body)
        reply = self._run(
            caller, "extra_time", fields.participant_id, repr(float(fields.multiplier)), caller.connection_id
        ).reply
        if reply.get("conn"):  # one push, to the participant whose deadlines changed
            self._publish(caller.run_id, [Push(reply["conn"], frames.extra_time_granted(reply))])
        return frames.extra_time(reply)

    def _question(self, caller: Caller, body: dict[str, Any]) -> Frame:
        participant_id = _require_role(caller, PARTICIPANT)
        fields = parse_fields(QuestionFields, body)
        outcome = self._run(caller, "question", participant_id, fields.index, caller.connection_id)
        return frames.question(outcome.reply)

    def _answer(self, caller: Caller, body: dict[str, Any]) -> Frame:
        participant_id = _require_role(caller, PARTICIPANT)
        fields = parse_fields(AnswerFields, body)
        answer = fields.script_argument
        outcome = self._run(caller, "answer", participant_id, fields.index, "answer", answer, caller.connection_id)
        return frames.answer_result(outcome.reply)

    def _timeout(self, caller: Caller, body: dict[str, Any]) -> Frame:
        participant_id = _require_role(caller, PARTICIPANT)
        fields = parse_fields(QuestionFields, body)
        outcome = self._run(caller, "answer", participant_id, fields.index, "timeout", "[]", caller.connection_id)
        return frames.answer_result(outcome.reply)

    def _results(self, caller: Caller, _body: dict[str, Any]) -> Frame:
        participant_id = caller.participant_id if caller.role == PARTICIPANT else None
        outcome = self.engine.export_for(caller.run_id, caller.slot, caller.connection_id)
        _raise_error(outcome)
        export = outcome.reply
        if export is None:  # persisted and dropped: the read model has it
            # Imported here: the DynamoDB read models are the only part of the run's life this function
            # reads from the tables, and no frame but a late `results` should pay for them at start.
            from speedrun.reporting.read_models import read_results_view  # noqa: PLC0415

            return read_results_view(caller.run_id, participant_id).model_dump(mode="json")
        if export.status != "completed":
            raise NotRunning("results are available once the speed-run has completed")
        return views.results_view(export.events, participant_id).model_dump(mode="json")

    def _message(self, caller: Caller, body: dict[str, Any]) -> Frame:
        fields = parse_fields(MessageFields, body)
        reply = self._run(caller, "message", caller.slot, fields.to, fields.content, caller.connection_id).reply
        frame = frames.message(reply)
        self._publish(caller.run_id, [Push(conn, frame) for conn in reply["recipients"]])
        return dict(frame)

    # --- the deadline timer -------------------------------------------------------------------

    def finalize(self, run_id: str, due_ms: int) -> None:
        """A deadlines message: complete the run if due and still running, else re-schedule."""
        if self.engine.clock() < due_ms:
            self.jobs.schedule_deadline(run_id, due_ms)
            return
        outcome = self.engine.call("finalize", run_id)
        reply = outcome.reply
        if reply.get("missing"):
            return
        if "completed" in outcome.effects:
            self._apply(run_id, outcome, [], job_failure_raises=True)  # the message is retried
        elif reply["status"] == "completed":
            # Completed by an action: send its job again in case that one was lost after the state
            # changed. The FIFO queue drops it when the first arrived (deduplication id = run id).
            self.jobs.send_completion_job(run_id)
        elif reply["status"] == "running":
            self.jobs.schedule_deadline(run_id, reply["ends_at"])

    # --- effects and delivery -----------------------------------------------------------------

    def _run(self, caller: Caller, script: str, *args: Any, reply_is_completed: bool = False) -> Outcome:
        """Call a script, act on its effects (even when the action was refused), then raise its error.

        Every action script gets the caller's connection id last and refuses a connection that may
        not act (`RefusedConnection`). `reply_is_completed`: the caller's direct reply is the
        `completed` frame, so it is not pushed too.
        """
        outcome = self.engine.call(script, caller.run_id, *args)
        exclude = caller.connection_id if reply_is_completed and outcome.error is None else None
        self._apply(caller.run_id, outcome, [], exclude_from_completed=exclude)
        _raise_error(outcome)
        return outcome

    def _apply(
        self,
        run_id: str,
        outcome: Outcome,
        pushes: list[Push],
        *,
        exclude_from_completed: str | None = None,
        job_failure_raises: bool = False,
    ) -> None:
        """Hand `pushes` plus what the script's effects call for to the fan-out, ask for the flush the
        run wants, and enqueue the completion job.

        A completion job that cannot be sent after an action is logged, not raised: the action
        took effect, and the run's deadline message sends the job again (`finalize`).
        """
        effects = outcome.effects
        self._publish(run_id, pushes + broadcasts.effect_pushes(effects, exclude_from_completed=exclude_from_completed))
        delay_ms = broadcasts.flush_delay_ms(effects)
        if delay_ms is not None:
            try:
                self.fanout.request_flush(run_id, delay_ms)
            except Exception:
                # The run asks again at its next change once FLUSH_STALE_MS has passed (common.lua).
                logger.exception("flush not requested", extra={"run_id": run_id})
        if effects.get("completed"):
            try:
                self.jobs.send_completion_job(run_id)
            except Exception:
                if job_failure_raises:
                    raise
                logger.exception("completion job not sent; the deadline message sends it", extra={"run_id": run_id})

    def _publish(self, run_id: str, pushes: Sequence[Push]) -> None:
        """Hand broadcasts to the fan-out; the action took effect whether or not they could be queued
        (a client that missed one catches up with `sync`)."""
        if not pushes:
            return
        try:
            self.fanout.publish(run_id, pushes)
        except Exception:
            logger.exception("broadcast not queued", extra={"run_id": run_id, "pushes": len(pushes)})

    # --- closing connections ------------------------------------------------------------------

    def _close_refused(self, caller: Caller, frame: Frame) -> None:
        """A frame on a connection that may not act: it is told why (pushed, since the route response
        cannot reach a closed connection), then closed. Sending a frame means API Gateway has
        registered it, so it can be closed at once."""
        try:
            self.pusher.send([Push(caller.connection_id, frame)])
        except Exception:
            logger.exception("push failed", extra={"run_id": caller.run_id, "pushes": 1})
        self._close_all({caller.connection_id: False})

    def _close_all(self, connections: Mapping[str, bool]) -> None:
        """Close every connection (id -> admitted so recently that its `$connect` may still be
        running), in parallel. One of those recent ones that answers 410 may not be registered yet:
        it is tried again after short pauses. One that stays open anyway (its handshake outlasted
        them) can still do nothing: the engine refuses its every action and it is closed on its
        first frame, or by the next connect or a kick of its token."""
        pending = list(connections)
        for pause in (0.0, *self._close_retry_delays_s):
            if pause:
                self._sleep(pause)
            closed = self._close_each(pending)
            pending = [cid for cid, done in zip(pending, closed, strict=True) if done is False and connections[cid]]
            if not pending:
                return
        logger.info("connections not registered yet are refused until they close", extra={"pending": len(pending)})

    def _close_each(self, connection_ids: Sequence[str]) -> list[bool | None]:
        if len(connection_ids) <= 1:
            return [self._close_one(cid) for cid in connection_ids]
        with self._closer_lock:
            if self._closer is None:
                self._closer = ThreadPoolExecutor(max_workers=CLOSE_WORKERS, thread_name_prefix="close")
            closer = self._closer
        return list(closer.map(self._close_one, connection_ids))

    def _close_one(self, connection_id: str) -> bool | None:
        try:
            return self.pusher.close(connection_id)
        except Exception:
            logger.exception("closing a connection failed", extra={"connection_id": connection_id})
            return None


def _raise_error(outcome: Outcome) -> None:
    """The script's refusal as an exception; `RefusedConnection` when the caller's connection is the
    reason (the script asked for it to be closed)."""
    if outcome.error is None:
        return
    if outcome.effects.get("close_caller"):
        raise RefusedConnection(outcome.error)
    raise outcome.error


def _require_role(caller: Caller, role: str) -> str:
    if caller.role != role:
        raise Forbidden(f"only the {role} may do that")
    return caller.participant_id or ""


@cache
def service_from_settings() -> SpeedRunService:
    """The process's service on the configured Redis, `@connections` endpoint and queues."""
    settings = get_settings()
    return SpeedRunService(
        RunEngine(redis_from_settings(settings)),
        ConnectionsPusher(),
        JobQueues(settings=settings),
        FanOutQueue(settings=settings),
    )

"""The run store: a run's live state in Redis, changed only through the engine's Lua scripts."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Sequence
from typing import Any

from speedrun.clock import now_ms
from speedrun.engine import broadcasts
from speedrun.engine.frames import image_list
from speedrun.engine.keys import join_code_key
from speedrun.engine.models import (
    HOST,
    PARTICIPANT,
    CreatedRun,
    FrozenQuestion,
    Joined,
    RunConfig,
    RunExport,
)
from speedrun.engine.scripts import Outcome, RunScripts, redis_errors_as_unavailable
from speedrun.errors import ERRORS_BY_CODE, BadRequest, DomainError, NotFound, Unavailable
from speedrun.question_types import select_count

LOBBY_TTL_MS = 24 * 3600 * 1000
"""A run that never starts is forgotten after a day (its keys expire; `start` persists them)."""
DEFAULT_RUN_DURATION_S = 7200
"""A run without `duration_s` may last as long as sign-on allows any run (and a WebSocket connection) to."""
RUN_ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz234567"
RUN_ID_LENGTH = 12
JOIN_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Easy to read aloud: no 0/O, no 1/I."""
JOIN_CODE_LENGTH = 6
JOIN_CODE_ATTEMPTS = 50
NAME_MAX_CHARS = 24


def new_id() -> str:
    """Url-safe and short; also the run's Redis hash tag, so never `{` or `}`."""
    return "".join(secrets.choice(RUN_ID_ALPHABET) for _ in range(RUN_ID_LENGTH))


def run_duration_s(config: RunConfig) -> int:
    return DEFAULT_RUN_DURATION_S if config.duration_s is None else config.duration_s


class RunEngine:
    def __init__(self, redis: Any, *, clock: Callable[[], int] = now_ms) -> None:
        self.redis = redis
        self.clock = clock
        self.scripts = RunScripts(redis)

    # --- sign-on side -------------------------------------------------------------------------

    def create_run(self, config: RunConfig, questions: Sequence[FrozenQuestion]) -> CreatedRun:
        """Freezes the run's questions into Redis (the hot path never reads the question store)."""
        if not questions:
            raise BadRequest("a speed-run needs at least one question")
        if [q.index for q in questions] != list(range(len(questions))):
            raise BadRequest("question indexes must be 0..n-1 in order")
        now = self.clock()
        expires_at = now + LOBBY_TTL_MS
        run_id = new_id()
        join_code = self._reserve_join_code(run_id, expires_at)
        frozen = [_question_document(q) for q in questions]
        meta = {
            "run_id": run_id,
            "status": "lobby",
            "host": config.host,
            "name": config.name,
            "question_set_id": config.question_set_id,
            "question_count": len(questions),
            "question_duration_s": "" if config.question_duration_s is None else config.question_duration_s,
            "duration_s": "" if config.duration_s is None else config.duration_s,
            "scoring": config.scoring,
            "speed_tiebreak": int(config.speed_tiebreak),
            "show_explanations": int(config.show_explanations),
            "run_duration_ms": run_duration_s(config) * 1000,
            "max_participants": config.max_participants,
            "chat": int(config.chat),
            "shuffle": int(config.shuffle),
            "late_join": int(config.late_join),
            "join_code": join_code,
            "created_at": now,
            "expires_at": expires_at,
            "participant_count": 0,
            "finished_count": 0,
            "join_seq": 0,
            "board_next": 0,
            "images": json.dumps(image_list(frozen)),
        }
        created_event = {
            "run_id": run_id,
            "host": config.host,
            "name": config.name,
            "question_set_id": config.question_set_id,
            "question_set_version": config.question_set_version,
            "join_code": join_code,
            "config": {
                "question_duration_s": config.question_duration_s,
                "duration_s": config.duration_s,
                "max_participants": config.max_participants,
                "chat": config.chat,
                "shuffle": config.shuffle,
                "categories": config.categories,
                "late_join": config.late_join,
                "scoring": config.scoring,
                "speed_tiebreak": config.speed_tiebreak,
                "show_explanations": config.show_explanations,
            },
            "questions": frozen,
        }
        outcome = self.scripts.call(
            "create",
            run_id,
            now,
            json.dumps({key: str(value) for key, value in meta.items()}),
            json.dumps([json.dumps(q) for q in frozen]),
            json.dumps(created_event),
        )
        outcome.raise_error()
        return CreatedRun(run_id=run_id, join_code=join_code, expires_at_ms=expires_at)

    def _reserve_join_code(self, run_id: str, expires_at: int) -> str:
        for _ in range(JOIN_CODE_ATTEMPTS):
            code = "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))
            with redis_errors_as_unavailable():
                if self.redis.set(join_code_key(code), run_id, nx=True, pxat=expires_at):
                    return code
        raise Unavailable("no free join code, retry")

    def run_id_for_code(self, join_code: str) -> str:
        with redis_errors_as_unavailable():
            run_id = self.redis.get(join_code_key(join_code.strip().upper()))
        if not run_id:
            raise NotFound("unknown join code")
        return str(run_id)

    def join(self, join_code: str, name: str, player_handle: str | None) -> Joined:
        """Atomic: the capacity check and the name check happen in the same script as the insert."""
        name = name.strip()
        if not 1 <= len(name) <= NAME_MAX_CHARS:
            raise BadRequest(f"name must be 1..{NAME_MAX_CHARS} characters")
        run_id = self.run_id_for_code(join_code)
        participant_id = new_id()
        outcome = self.scripts.call(
            "join", run_id, self.clock(), participant_id, name, name.casefold(), player_handle or ""
        )
        outcome.raise_error()
        count = int(outcome.reply["participant_count"])
        return Joined(run_id, participant_id, name, count, broadcasts.flush_delay_ms(outcome.effects))

    def connection_allowed(self, run_id: str, role: str, participant_id: str | None) -> bool:
        if role not in (HOST, PARTICIPANT) or (role == PARTICIPANT and not participant_id):
            return False
        outcome = self.scripts.call("allowed", run_id, self.clock(), role, participant_id or "")
        return bool(outcome.reply)

    # --- reporter side ------------------------------------------------------------------------

    def export(self, run_id: str) -> RunExport | None:
        return _run_export(run_id, self.scripts.raw("export", run_id, self.clock()))

    def export_for(self, run_id: str, slot: str, connection_id: str) -> Outcome:
        """`export` for a caller's connection, checked in the same call: the reply is the export (None
        once the run's live state is dropped), or the refusal of a connection that may not act."""
        raw = self.scripts.raw("export", run_id, self.clock(), slot, connection_id)
        if raw and raw[0] == "refused":
            document = json.loads(raw[1])
            error = document["error"]
            error_type = ERRORS_BY_CODE.get(error["code"], DomainError)
            return Outcome(None, error_type(error["message"]), document.get("effects") or {})
        return Outcome(_run_export(run_id, raw), None)

    def drop(self, run_id: str) -> None:
        join_code = self.scripts.raw("drop", run_id, self.clock())
        if join_code:
            key = join_code_key(join_code)
            with redis_errors_as_unavailable():
                if self.redis.get(key) == run_id:
                    self.redis.delete(key)

    # --- WebSocket side (one script call each) ------------------------------------------------

    def call(self, script: str, run_id: str, *args: Any) -> Outcome:
        return self.scripts.call(script, run_id, self.clock(), *args)

    def persist_join_code(self, join_code: str) -> None:
        """A started run keeps its join code (late join) until the reporter drops the run."""
        with redis_errors_as_unavailable():
            self.redis.persist(join_code_key(join_code))


def _run_export(run_id: str, raw: Any) -> RunExport | None:
    if not raw:
        return None
    status, *events = raw
    return RunExport(run_id=run_id, status=status, events=[json.loads(event) for event in events])


def _question_document(question: FrozenQuestion) -> dict[str, Any]:
    document: dict[str, Any] = {
        "index": question.index,
        "type": question.type,
        "category": question.category,
        "text": question.text,
        "options": list(question.options),
        "correct": list(question.correct),
        "select_count": select_count(question.type, len(question.options), len(question.correct)),
        "explanation": question.explanation,
    }
    if question.type == "numeric":
        document["answer"] = question.answer
        document["tolerance"] = question.tolerance or 0
    # Image fields only where there are images: a question without any is frozen as before.
    if question.image:
        document["image"] = question.image
    if question.option_images:
        document["option_images"] = list(question.option_images)
    return document

"""Sign-on (http-api.md, Sign-on): open a speed-run, join one, and check a run token at $connect
(docs/signon-and-tokens.md)."""

from speedrun.signon.join_limit import JoinLimiter
from speedrun.signon.models import (
    PLAYER_HANDLE_PATTERN,
    CreateSpeedRunRequest,
    JoinRequest,
    RunJoined,
    SpeedRunCreated,
    clean_name,
    normalise_join_code,
)
from speedrun.signon.selection import select_questions
from speedrun.signon.service import (
    ConnectionAuthorizer,
    QuestionLoader,
    SignOnService,
    host_token_expiry_ms,
    participant_token_expiry_ms,
)
from speedrun.signon.viewer import viewer_of

__all__ = [
    "PLAYER_HANDLE_PATTERN",
    "ConnectionAuthorizer",
    "CreateSpeedRunRequest",
    "JoinLimiter",
    "JoinRequest",
    "QuestionLoader",
    "RunJoined",
    "SignOnService",
    "SpeedRunCreated",
    "clean_name",
    "host_token_expiry_ms",
    "normalise_join_code",
    "participant_token_expiry_ms",
    "select_questions",
    "viewer_of",
]

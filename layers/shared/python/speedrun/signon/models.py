"""Sign-on request and reply bodies (http-api.md; docs/signon-and-tokens.md). Unknown fields are refused, and every
problem names its field, so a client sees exactly what to fix; no text field takes a lone surrogate
(`speedrun.text.UnicodeModel`)."""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from speedrun.engine.models import Scoring
from speedrun.engine.store import JOIN_CODE_ALPHABET, JOIN_CODE_LENGTH, NAME_MAX_CHARS
from speedrun.players.commands import HANDLE_PATTERN
from speedrun.question_sets.models import MAX_CATEGORY_CHARS, MAX_NAME_CHARS, MAX_QUESTIONS
from speedrun.text import UnicodeModel

PLAYER_HANDLE_PATTERN = HANDLE_PATTERN
"""The players API's own pattern (3..32 of `a-z 0-9 _ -`, starting with a letter or digit), so the
history of every handle given at join can be read back through `/api/players/{handle}/games`."""
JOIN_CODE_PATTERN = re.compile(f"[{JOIN_CODE_ALPHABET}]{{{JOIN_CODE_LENGTH}}}")
_JOIN_CODE_NOISE = re.compile(r"[\s-]+")

MAX_DURATION_S = 7200
"""The longest `duration_s`: API Gateway closes a WebSocket connection after 2 h."""
CategoryName = Annotated[str, Field(min_length=1, max_length=MAX_CATEGORY_CHARS)]


class CreateSpeedRunRequest(UnicodeModel):
    """`POST /api/signon/speedruns`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    question_set_id: str = Field(min_length=1, max_length=64, description="One of the caller's question sets.")
    name: str | None = Field(
        default=None, min_length=1, max_length=MAX_NAME_CHARS, description="Run name (default: the set's name)."
    )
    categories: list[CategoryName] | None = Field(
        default=None,
        min_length=1,
        description="Only questions of these categories (case-insensitive); every one must exist in the set.",
    )
    question_count: int | None = Field(
        default=None, ge=1, le=MAX_QUESTIONS, description="How many questions (default: every matching one)."
    )
    shuffle: bool = Field(default=False, description="Pick and order the questions at random.")
    question_duration_s: int | None = Field(
        default=20,
        ge=5,
        le=300,
        description="Seconds per question; null: untimed questions (the run's `duration_s` still ends the run; "
        "needs `scoring` `accuracy`).",
    )
    scoring: Scoring = Field(
        default="speed",
        validate_default=True,  # the default is checked against untimed questions too
        description="`speed`: a correct answer earns 500..1000 points by how fast it came; `accuracy`: a flat 1,000.",
    )
    speed_tiebreak: bool = Field(
        default=True,
        description="Under `accuracy` scoring, equal scores are ranked by total time (false: by join order). "
        "Under `speed` scoring time always breaks ties.",
    )
    show_explanations: bool = Field(
        default=False, description="Each `answer_result` carries the question's explanation."
    )
    duration_s: int | None = Field(
        default=None, ge=30, le=MAX_DURATION_S, description="The run's deadline after start (default: none)."
    )
    max_participants: int = Field(default=1000, ge=1, le=10000)
    chat: bool = Field(default=False, description="Participants may send messages.")
    late_join: bool = Field(default=True, description="Participants may join once the run is running.")

    @field_validator("name")
    @classmethod
    def _name_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("must not be blank")
        return value.strip() if value is not None else None

    @field_validator("scoring")
    @classmethod
    def _untimed_needs_accuracy(cls, value: Scoring, info: ValidationInfo) -> Scoring:
        if value == "speed" and "question_duration_s" in info.data and info.data["question_duration_s"] is None:
            raise ValueError(
                "untimed questions (question_duration_s null) need scoring 'accuracy': speed points are "
                "counted against a question's time"
            )
        return value


class JoinRequest(UnicodeModel):
    """`POST /api/signon/join`."""

    model_config = ConfigDict(extra="forbid", strict=True)

    join_code: str = Field(
        description=f"{JOIN_CODE_LENGTH} characters as read aloud; case, spaces and dashes do not matter."
    )
    name: str = Field(
        description=f"Nickname, 1..{NAME_MAX_CHARS} characters (Unicode code points) once invisible characters are "
        "removed, spaces collapsed and trimmed and the text put in NFC; unique in the run (case-insensitive)."
    )
    player_handle: str | None = Field(
        default=None,
        pattern=PLAYER_HANDLE_PATTERN,
        description="Optional: records the game in this player's history.",
    )

    @field_validator("join_code")
    @classmethod
    def _normalise_join_code(cls, value: str) -> str:
        code = normalise_join_code(value)
        if not JOIN_CODE_PATTERN.fullmatch(code):
            raise ValueError(f"must be {JOIN_CODE_LENGTH} characters from {JOIN_CODE_ALPHABET}")
        return code

    @field_validator("name")
    @classmethod
    def _clean_name(cls, value: str) -> str:
        name = clean_name(value)
        if not name:
            raise ValueError(
                "must contain a visible character (control, format and other invisible characters are removed "
                "and spaces trimmed first)"
            )
        if len(name) > NAME_MAX_CHARS:
            raise ValueError(
                f"must be at most {NAME_MAX_CHARS} characters, counted as Unicode code points once invisible "
                f"characters are removed (this one has {len(name)})"
            )
        return name


class SpeedRunCreated(BaseModel):
    speedrun_id: str
    join_code: str
    host_token: str
    ws_url: str
    expires_at: str = Field(description="ISO-8601: the host token (and the run at the latest) expires then.")


class RunJoined(BaseModel):
    speedrun_id: str
    participant_id: str
    participant_token: str
    ws_url: str


def normalise_join_code(value: str) -> str:
    """Codes are read aloud and typed back: case, spaces and dashes are noise."""
    return _JOIN_CODE_NOISE.sub("", value).upper()


_INVISIBLE = re.compile(
    "[\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180d\u180f\u3164\ufe00-\ufe0f\uffa0\U000e0100-\U000e01ef]"
)
"""Unicode's Default_Ignorable_Code_Point characters that are not of category `C*` (DerivedCoreProperties.txt):
they render as nothing, so `Ada` + U+034F would look exactly like `Ada`, and U+3164 alone like no name."""
_SPACE_CONTROLS = "\t\n\v\f\r\x85\u2800"
"""Spaces that are not of category `Z*`: the whitespace controls (tab, line breaks, NEL) and U+2800
BRAILLE PATTERN BLANK (category `So`, rendered as a space)."""
_ZWJ = "\u200d"
_EMOJI_VARIATIONS = "\ufe0e\ufe0f"
_KEYCAP = "\u20e3"
_KEYCAP_BASES = "0123456789#*"
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_SUBDIVISION_FLAG = re.compile("\U0001f3f4[\U000e0030-\U000e0039\U000e0061-\U000e007a]{2,6}\U000e007f")
"""An emoji tag sequence: the black flag, a subdivision code in tag letters and digits, CANCEL TAG (🏴 of
England is U+1F3F4 + `gbeng` + U+E007F: 7 code points)."""


def clean_name(value: str) -> str:
    """A nickname as the run shows and compares it (docs/signon-and-tokens.md, "Nicknames"): what renders
    as nothing is removed, so two names that look alike are the same name (`409` once taken).

    1. Removed: every character of Unicode category `C*` (controls C0, DEL and C1; format characters such
       as zero-width spaces, bidi embeddings, overrides, isolates and marks, soft hyphens, tags;
       unassigned; private use) and the other default-ignorable characters (`_INVISIBLE`: the combining
       grapheme joiner, Hangul fillers, variation selectors, ...), except the joiners of an emoji: U+200D
       between two pictographs (`So`, after an optional skin tone or VS16), VS15/VS16 after a pictograph
       (or a keycap base before U+20E3), and the tags of a subdivision flag (U+1F3F4 ... U+E007F).
    2. Every space (category `Z*`: U+00A0, U+3000, U+2028, ...; tab, CR, LF, VT, FF, NEL; U+2800 BRAILLE
       PATTERN BLANK) is one ASCII space; runs of them collapse to one; the ends are trimmed.
    3. NFC, so canonically equivalent spellings (`e` + U+0308 and `ë`) are one name.

    The length limit (`JoinRequest`) counts the result in code points.
    """
    protected = {i for flag in _SUBDIVISION_FLAG.finditer(value) for i in range(flag.start() + 1, flag.end())}
    kept: list[str] = []
    for index, char in enumerate(value):
        following = value[index + 1] if index + 1 < len(value) else ""
        if _space(char):
            kept.append(" ")
        elif index in protected or not _invisible(char) or _joins_an_emoji(char, kept[-1] if kept else "", following):
            kept.append(char)
    return unicodedata.normalize("NFC", " ".join(word for word in "".join(kept).split(" ") if word))


def _space(char: str) -> bool:
    return char in _SPACE_CONTROLS or unicodedata.category(char).startswith("Z")


def _invisible(char: str) -> bool:
    return unicodedata.category(char).startswith("C") or _INVISIBLE.match(char) is not None


def _pictograph(char: str) -> bool:
    return bool(char) and unicodedata.category(char) == "So"


def _joins_an_emoji(char: str, previous: str, following: str) -> bool:
    """Whether an invisible `char` between `previous` (the last character kept) and `following` is part
    of an emoji, and so changes what is shown."""
    if not previous:
        return False
    if char == _ZWJ:
        ends_an_emoji = _pictograph(previous) or previous in _EMOJI_VARIATIONS or ord(previous) in _SKIN_TONES
        return ends_an_emoji and _pictograph(following)
    if char in _EMOJI_VARIATIONS:
        return _pictograph(previous) or (previous in _KEYCAP_BASES and following == _KEYCAP)
    return False

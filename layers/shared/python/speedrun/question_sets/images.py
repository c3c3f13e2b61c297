"""Checking one uploaded image: `check_image(data)` accepts a PNG, JPEG, WebP or GIF and returns it
re-encoded without metadata, or refuses it with the problem (docs/question-sets.md, Images).

In order, each step before the costlier next one:

1. the size of the input (`MAX_IMAGE_BYTES`);
2. the format, by its magic bytes only (the file name and the part's Content-Type are never read);
3. the dimensions and frame count the header declares, before any pixel is decoded
   (`MAX_IMAGE_SIDE`, `MAX_FRAMES`, `MAX_DECODED_PIXELS`); Pillow's own decompression-bomb guard
   is set to the same bound and counts as a refusal too;
4. every frame decoded whole: a truncated or corrupt file is refused, not half shown;
5. re-encoded from the decoded pixels, with the EXIF orientation applied and nothing else kept: no
   EXIF (GPS, camera, times), XMP, ICC profile or text chunks and comments. A file is stored only as
   this module wrote it, so what is served is a plain image whatever the upload carried.

Pillow is imported inside `check_image` only: importing this module costs the question-set
function's cold start nothing (tests/integration/local_stack/test_handler_imports.py).
"""

from __future__ import annotations

import io
import struct
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from speedrun.adapters.image_store import MEDIA_TYPES, content_key
from speedrun.errors import BadRequest, TooLarge

if TYPE_CHECKING:
    from PIL import Image

MAX_IMAGE_BYTES = 2 * 1024 * 1024
"""An uploaded image (as sent, before re-encoding)."""
MAX_IMAGE_SIDE = 4096
"""Width and height, in pixels, of the image (of an animation's canvas)."""
MAX_FRAMES = 500
MAX_DECODED_PIXELS = 2 * MAX_IMAGE_SIDE * MAX_IMAGE_SIDE
"""Pixels of all frames together (each frame decodes to the whole canvas): two full-size frames'
worth, ~130 MB as RGBA, decoded and re-encoded within the function's 512 MB."""
WEBP_LOSSY_QUALITY = 90
"""A lossy WebP has no way to keep its own quantization: re-encoded at a quality that hides the
second pass. A lossless WebP stays lossless."""

_FIELD = "image"
_FORMATS = "PNG, JPEG, WebP or GIF"


@dataclass(frozen=True)
class _Kind:
    pillow_format: str
    extension: str

    @property
    def media_type(self) -> str:
        return MEDIA_TYPES[self.extension]


PNG = _Kind("PNG", "png")
JPEG = _Kind("JPEG", "jpg")
WEBP = _Kind("WEBP", "webp")
GIF = _Kind("GIF", "gif")

_ORIENTATION_TAG = 0x0112
_TRANSPOSES = {
    2: "FLIP_LEFT_RIGHT",
    3: "ROTATE_180",
    4: "FLIP_TOP_BOTTOM",
    5: "TRANSPOSE",
    6: "ROTATE_270",
    7: "TRANSVERSE",
    8: "ROTATE_90",
}
"""EXIF orientation -> the `Image.Transpose` that shows the picture upright (as `ImageOps.exif_transpose`)."""


@dataclass(frozen=True)
class CheckedImage:
    """An accepted image as it is stored: re-encoded, without metadata, under its content key."""

    media_type: str
    extension: str
    width: int
    height: int
    data: bytes
    key: str
    """SHA-256 of `data` and the extension: it says nothing about the question or its answer."""


def _problem(reason: str) -> list[dict[str, str]]:
    return [{"field": _FIELD, "reason": reason}]


def _refused(message: str, reason: str) -> BadRequest:
    return BadRequest(message, details=_problem(reason))


def sniff(data: bytes) -> _Kind | None:
    """The format the first bytes announce, or None."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return WEBP
    return None


def check_image(data: bytes) -> CheckedImage:
    """`data` checked and re-encoded; `TooLarge` over `MAX_IMAGE_BYTES`, `BadRequest` naming the
    problem otherwise (details `[{"field": "image", "reason"}]`)."""
    if len(data) > MAX_IMAGE_BYTES:
        raise TooLarge(
            f"the image has {len(data)} bytes; an image may have at most {MAX_IMAGE_BYTES} bytes (2 MiB)",
            details=_problem(f"at most {MAX_IMAGE_BYTES} bytes"),
        )
    kind = sniff(data)
    if kind is None:
        raise _refused(
            f"not a {_FORMATS} image (the format is told by the file's content, not its name)",
            f"not a {_FORMATS} image",
        )
    # Imported here, not at the top: see the module docstring.
    from PIL import Image  # noqa: PLC0415

    Image.MAX_IMAGE_PIXELS = MAX_IMAGE_SIDE * MAX_IMAGE_SIDE
    frames, info = _decode(Image, kind, data)
    try:
        encoded = _encode(kind, frames, info, lossless_webp=kind is WEBP and _webp_is_lossless(data))
    except (OSError, ValueError) as exc:
        # A decodable file whose pixels or tables the encoder will not take (an exotic mode): refused,
        # as a file the platform cannot store, rather than a 5xx.
        raise _refused(
            f"the {kind.pillow_format} image cannot be stored: it cannot be re-encoded ({exc})"[:300],
            "cannot be re-encoded",
        ) from None
    width, height = frames[0].size
    return CheckedImage(
        media_type=kind.media_type,
        extension=kind.extension,
        width=width,
        height=height,
        data=encoded,
        key=content_key(encoded, kind.extension),
    )


def _decode(image_module: Any, kind: _Kind, data: bytes) -> tuple[list[Image.Image], dict[str, Any]]:
    """Every frame decoded whole and upright, without metadata, and what the encoder keeps of the
    source: per-frame `durations`, `loop`, `transparency`, `qtables` and `subsampling` (JPEG)."""
    bomb = (image_module.DecompressionBombError, image_module.DecompressionBombWarning)
    with warnings.catch_warnings():
        warnings.simplefilter("error", image_module.DecompressionBombWarning)
        try:
            # verify() reads the whole structure (a PNG's every chunk and checksum) without decoding.
            with image_module.open(io.BytesIO(data), formats=[kind.pillow_format]) as probe:
                probe.verify()
            with image_module.open(io.BytesIO(data), formats=[kind.pillow_format]) as source:
                _check_dimensions(source)
                return _frames(image_module, kind, source)
        except bomb:
            raise _too_many_pixels() from None
        # Pillow's decoders answer hostile input with many exception types; each is the file's fault.
        except (OSError, SyntaxError, ValueError, EOFError, IndexError, KeyError, TypeError, struct.error) as exc:
            raise _refused(
                f"the {kind.pillow_format} image is truncated or corrupt: it cannot be decoded ({exc})"[:300],
                "truncated or corrupt",
            ) from None


def _too_many_pixels() -> BadRequest:
    return _refused(
        f"the image declares more pixels than allowed: at most {MAX_IMAGE_SIDE} x {MAX_IMAGE_SIDE}",
        f"at most {MAX_IMAGE_SIDE} pixels a side",
    )


def _check_dimensions(source: Image.Image) -> None:
    """The header's dimensions and frame count, before any pixel is decoded."""
    width, height = source.size
    if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE:
        raise _refused(
            f"the image is {width} x {height} pixels; at most {MAX_IMAGE_SIDE} pixels a side",
            f"at most {MAX_IMAGE_SIDE} pixels a side (is {width} x {height})",
        )
    frame_count = int(getattr(source, "n_frames", 1))
    if frame_count > MAX_FRAMES or frame_count * width * height > MAX_DECODED_PIXELS:
        raise _refused(
            f"the animation has {frame_count} frames of {width} x {height} pixels; at most {MAX_FRAMES} frames "
            f"and {MAX_DECODED_PIXELS} pixels in all frames together",
            f"at most {MAX_FRAMES} frames and {MAX_DECODED_PIXELS} pixels in all frames",
        )


def _frames(image_module: Any, kind: _Kind, source: Image.Image) -> tuple[list[Image.Image], dict[str, Any]]:
    orientation = source.getexif().get(_ORIENTATION_TAG)
    transpose = _TRANSPOSES.get(orientation) if isinstance(orientation, int) else None
    frame_count = int(getattr(source, "n_frames", 1))
    info: dict[str, Any] = {"durations": [], "loop": source.info.get("loop")}
    if kind is JPEG:
        info["qtables"] = getattr(source, "quantization", None) or None
        info["subsampling"] = _jpeg_sampling(source)
    frames: list[Image.Image] = []
    for index in range(frame_count):
        source.seek(index)
        frame = source.copy()  # decodes the whole frame (a truncated one raises)
        if frame_count == 1 and "transparency" in source.info:
            info["transparency"] = source.info["transparency"]
        elif frame_count > 1:
            # Frames of one animation share one mode, their transparency in the pixels.
            frame = frame.convert("RGBA")
        info["durations"].append(int(source.info.get("duration", 0)))
        if transpose is not None:
            frame = frame.transpose(getattr(image_module.Transpose, transpose))
        frame.info = {}
        frames.append(frame)
    return frames, info


def _jpeg_sampling(source: Image.Image) -> int:
    from PIL import JpegImagePlugin  # noqa: PLC0415 (see the module docstring)

    return int(JpegImagePlugin.get_sampling(source))


def _encode(kind: _Kind, frames: list[Image.Image], info: dict[str, Any], *, lossless_webp: bool) -> bytes:
    """The frames written in their own format, with only what `info` carries over."""
    options: dict[str, Any] = {}
    if len(frames) > 1:
        options = {"save_all": True, "append_images": frames[1:], "duration": info["durations"]}
        if info["loop"] is not None:
            options["loop"] = info["loop"]
    elif info.get("transparency") is not None:
        options["transparency"] = info["transparency"]
    if kind is JPEG:
        # What quality="keep" does (the source's quantization tables and subsampling), also for a
        # turned copy: the pixels are not quantized a second time, only re-entropy-coded.
        if info["qtables"] is not None:
            options.update(qtables=info["qtables"], subsampling=info["subsampling"])
    elif kind is WEBP and lossless_webp:
        options["lossless"] = True
    elif kind is WEBP:
        options["quality"] = WEBP_LOSSY_QUALITY
    elif kind is GIF and len(frames) > 1:
        # Whole frames, each replacing the last: the writer stores only what changed.
        options["disposal"] = 2
    out = io.BytesIO()
    frames[0].save(out, kind.pillow_format, **options)
    return out.getvalue()


def _webp_is_lossless(data: bytes) -> bool:
    """Whether a WebP's (first) image is VP8L (lossless) rather than VP8 (lossy): its RIFF chunks,
    looking into an animation's first frame."""
    offset = 12
    while offset + 8 <= len(data):
        fourcc = data[offset : offset + 4]
        size = int.from_bytes(data[offset + 4 : offset + 8], "little")
        if fourcc in (b"VP8L", b"VP8 "):
            return fourcc == b"VP8L"
        if fourcc == b"ANMF":
            # A frame: 16 bytes of its own header, then its chunks (ALPH, VP8 or VP8L).
            offset += 8 + 16
            continue
        offset += 8 + size + (size & 1)
    return False

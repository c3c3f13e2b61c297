"""Images built with Pillow for the image tests: encoded files, a PNG whose header declares any size,
and the chunk and marker lists that say what metadata a file carries."""

from __future__ import annotations

import io
import struct
import zlib
from typing import Any

from PIL import Image


def encoded(image: Image.Image, image_format: str, **options: Any) -> bytes:
    out = io.BytesIO()
    image.save(out, image_format, **options)
    return out.getvalue()


def small_png(color: tuple[int, int, int] = (200, 30, 30), size: tuple[int, int] = (24, 16)) -> bytes:
    return encoded(Image.new("RGB", size, color), "PNG")


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_declaring(width: int, height: int) -> bytes:
    """A well-formed PNG header declaring `width` x `height` pixels, with one row of data: what a
    decompression bomb looks like before anything is decoded."""
    header = png_chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
    data = png_chunk(b"IDAT", zlib.compress(b"\x00" * (width + 1)))
    return b"\x89PNG\r\n\x1a\n" + header + data + png_chunk(b"IEND", b"")


def png_chunk_types(data: bytes) -> list[bytes]:
    """The chunk types of a PNG, in order."""
    kinds, offset = [], 8
    while offset + 8 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kinds.append(data[offset + 4 : offset + 8])
        offset += 12 + length
    return kinds


def jpeg_markers(data: bytes) -> list[int]:
    """The marker bytes of a JPEG's segments before its scan (APPn, COM, DQT, SOF, ...)."""
    markers, offset = [], 2
    while offset + 4 <= len(data) and data[offset] == 0xFF:
        marker = data[offset + 1]
        markers.append(marker)
        if marker == 0xDA:  # start of scan: entropy-coded data follows
            break
        (length,) = struct.unpack(">H", data[offset + 2 : offset + 4])
        offset += 2 + length
    return markers


def riff_chunks(data: bytes) -> list[bytes]:
    """The top-level chunk FourCCs of a WebP (RIFF) file."""
    kinds, offset = [], 12
    while offset + 8 <= len(data):
        size = int.from_bytes(data[offset + 4 : offset + 8], "little")
        kinds.append(data[offset : offset + 4])
        offset += 8 + size + (size & 1)
    return kinds


def frames_of(data: bytes) -> list[tuple[list[Any], Any]]:
    """Each frame's RGBA pixels and duration."""
    frames = []
    with Image.open(io.BytesIO(data)) as image:
        for index in range(getattr(image, "n_frames", 1)):
            image.seek(index)
            image.load()
            frames.append((list(image.convert("RGBA").get_flattened_data()), image.info.get("duration")))
    return frames


def gif_declaring(width: int, height: int, frame_count: int) -> bytes:
    """A GIF whose canvas is `width` x `height` with `frame_count` frames of one pixel each: a few
    hundred bytes whose frames would decode to `frame_count` whole canvases."""
    one = encoded(Image.new("P", (1, 1), 1), "GIF")
    flags = one[10]
    table_end = 13 + (3 * 2 ** ((flags & 7) + 1) if flags & 0x80 else 0)
    screen = one[:6] + struct.pack("<HH", width, height) + one[10:table_end]
    return screen + one[table_end:-1] * frame_count + b";"

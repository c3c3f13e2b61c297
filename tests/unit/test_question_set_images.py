"""Checking an image (speedrun.question_sets.images): told by content, bounded before decoding, decoded
whole, re-encoded upright and without metadata, keyed by the hash of what is stored."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms, JpegImagePlugin
from PIL.PngImagePlugin import PngInfo

from speedrun.adapters.image_store import KEY_PATTERN, content_key
from speedrun.errors import BadRequest, TooLarge
from speedrun.question_sets.images import (
    MAX_DECODED_PIXELS,
    MAX_FRAMES,
    MAX_IMAGE_BYTES,
    MAX_IMAGE_SIDE,
    CheckedImage,
    check_image,
)
from tests.support.images import (
    encoded,
    frames_of,
    gif_declaring,
    jpeg_markers,
    png_chunk_types,
    png_declaring,
    riff_chunks,
    small_png,
)

ROOT = Path(__file__).resolve().parents[2]
GPS_IFD = 0x8825
ORIENTATION = 0x0112
SRGB_PROFILE = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description>secret-xmp</rdf:Description></x:xmpmeta>'
METADATA_PNG_CHUNKS = {b"iCCP", b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME", b"pHYs"}
APP1, APP2, APP13, COM = 0xE1, 0xE2, 0xED, 0xFE


def refusal(data: bytes) -> BadRequest:
    with pytest.raises(BadRequest) as refused:
        check_image(data)
    return refused.value


def reopened(checked: CheckedImage) -> Image.Image:
    image = Image.open(io.BytesIO(checked.data))
    image.load()
    return image


def half_red_half_blue(size: tuple[int, int]) -> Image.Image:
    """The left half red, the right half blue."""
    image = Image.new("RGB", size, (0, 0, 255))
    image.paste((255, 0, 0), (0, 0, size[0] // 2, size[1]))
    return image


def exif_with_gps_and_orientation(orientation: int) -> Image.Exif:
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "SecretCam"  # Make
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (48.0, 51.0, 29.0), 3: "E", 4: (2.0, 17.0, 40.0)})
    return exif


# --- the format, by content only ---


@pytest.mark.parametrize(
    ("data", "media_type", "extension"),
    [
        (small_png(size=(20, 10)), "image/png", "png"),
        (encoded(Image.new("RGB", (20, 10), "green"), "JPEG"), "image/jpeg", "jpg"),
        (encoded(Image.new("RGBA", (20, 10), (0, 0, 255, 128)), "WEBP", lossless=True), "image/webp", "webp"),
        (encoded(Image.new("P", (20, 10), 3), "GIF"), "image/gif", "gif"),
    ],
    ids=["png", "jpeg", "webp", "gif"],
)
def test_each_format_is_accepted_and_told_by_its_content(data: bytes, media_type: str, extension: str) -> None:
    checked = check_image(data)
    assert (checked.media_type, checked.extension, checked.width, checked.height) == (media_type, extension, 20, 10)
    assert reopened(checked).format == {"jpg": "JPEG"}.get(extension, extension.upper())
    assert checked.key == f"{hashlib.sha256(checked.data).hexdigest()}.{extension}"
    assert KEY_PATTERN.match(checked.key)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"a text file named picture.png\n",
        b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
        encoded(Image.new("RGB", (8, 8)), "BMP"),
        encoded(Image.new("RGB", (8, 8)), "TIFF"),
        b"%PDF-1.7\n",
    ],
    ids=["empty", "text", "svg", "bmp", "tiff", "pdf"],
)
def test_anything_but_png_jpeg_webp_or_gif_is_refused(data: bytes) -> None:
    refused = refusal(data)
    assert "not a PNG, JPEG, WebP or GIF image" in refused.message
    assert refused.details == [{"field": "image", "reason": "not a PNG, JPEG, WebP or GIF image"}]


def test_a_jpeg_header_on_png_data_is_refused_as_corrupt_not_guessed() -> None:
    # The magic bytes choose the one decoder tried: a PNG behind a JPEG signature is not read as a PNG.
    refused = refusal(b"\xff\xd8\xff" + small_png())
    assert refused.details == [{"field": "image", "reason": "truncated or corrupt"}]


# --- bounds before decoding ---


def test_over_2_mib_is_too_large_before_anything_is_read() -> None:
    with pytest.raises(TooLarge) as refused:
        check_image(small_png() + b"\0" * MAX_IMAGE_BYTES)
    assert "at most 2097152 bytes (2 MiB)" in refused.value.message
    assert refused.value.details == [{"field": "image", "reason": f"at most {MAX_IMAGE_BYTES} bytes"}]


@pytest.mark.parametrize("size", [(MAX_IMAGE_SIDE + 1, 1), (1, MAX_IMAGE_SIDE + 1)], ids=["wide", "tall"])
def test_a_side_over_4096_pixels_is_refused(size: tuple[int, int]) -> None:
    refused = refusal(encoded(Image.new("L", size), "PNG"))
    width, height = size
    assert refused.message == f"the image is {width} x {height} pixels; at most 4096 pixels a side"
    assert refused.details == [{"field": "image", "reason": f"at most 4096 pixels a side (is {width} x {height})"}]


def test_4096_pixels_a_side_is_accepted() -> None:
    checked = check_image(encoded(Image.new("L", (MAX_IMAGE_SIDE, 2)), "PNG"))
    assert (checked.width, checked.height) == (MAX_IMAGE_SIDE, 2)


@pytest.mark.parametrize("size", [(30_000, 30_000), (5000, 5000)], ids=["far-over-pillows-guard", "over-the-bound"])
def test_a_decompression_bomb_is_refused_from_its_header(size: tuple[int, int]) -> None:
    bomb = png_declaring(*size)
    assert len(bomb) < 50_000
    refused = refusal(bomb)
    assert refused.details == [{"field": "image", "reason": "at most 4096 pixels a side"}]


def test_an_animation_over_the_frame_count_is_refused() -> None:
    # Each frame differs from the last, or the writer would merge them.
    frames = [Image.new("RGB", (2, 2), (index % 256, index // 256, 0)) for index in range(MAX_FRAMES + 1)]
    data = encoded(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=10)
    refused = refusal(data)
    assert f"{MAX_FRAMES + 1} frames" in refused.message


def test_an_animation_over_the_pixel_total_is_refused_before_a_frame_is_decoded() -> None:
    side = 2048
    count = MAX_DECODED_PIXELS // (side * side) + 1
    refused = refusal(gif_declaring(side, side, count))
    assert f"the animation has {count} frames of {side} x {side} pixels" in refused.message


# --- decoded whole ---


@pytest.mark.parametrize(
    "data",
    [
        encoded(Image.effect_noise((64, 64), 60).convert("RGB"), "PNG"),
        encoded(Image.effect_noise((64, 64), 60).convert("RGB"), "JPEG"),
        encoded(Image.effect_noise((64, 64), 60).convert("RGB"), "WEBP"),
        encoded(Image.effect_noise((64, 64), 60).convert("P"), "GIF"),
    ],
    ids=["png", "jpeg", "webp", "gif"],
)
def test_a_truncated_image_is_refused(data: bytes) -> None:
    refused = refusal(data[: len(data) // 2])
    assert "truncated or corrupt" in refused.message
    assert refused.details == [{"field": "image", "reason": "truncated or corrupt"}]


def test_a_png_with_a_damaged_chunk_is_refused() -> None:
    data = bytearray(small_png())
    data[-20] ^= 0xFF  # inside the image data: its checksum no longer matches
    assert refusal(bytes(data)).details == [{"field": "image", "reason": "truncated or corrupt"}]


def test_an_image_the_encoder_will_not_take_is_a_refusal_not_a_server_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def encoder_fails(*_args: object, **_kwargs: object) -> None:
        raise OSError("encoder error -2 when writing image file")

    decodable = small_png()
    monkeypatch.setattr(Image.Image, "save", encoder_fails)
    refused = refusal(decodable)
    assert refused.details == [{"field": "image", "reason": "cannot be re-encoded"}]


SEEDS = [
    encoded(Image.effect_noise((24, 16), 50).convert("RGB"), "PNG"),
    encoded(Image.effect_noise((24, 16), 50).convert("RGB"), "JPEG", exif=exif_with_gps_and_orientation(6)),
    encoded(
        Image.effect_noise((24, 16), 50).convert("P"), "GIF", save_all=True, append_images=[Image.new("P", (24, 16))]
    ),
    encoded(Image.effect_noise((24, 16), 50).convert("RGB"), "WEBP", lossless=True),
]


@settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.sampled_from(SEEDS),
    flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 255)), min_size=1, max_size=6),
    cut=st.one_of(st.none(), st.integers(8, 400)),
)
def test_a_damaged_image_is_accepted_re_encoded_or_refused_never_an_error(
    seed: bytes, flips: list[tuple[int, int]], cut: int | None
) -> None:
    damaged = bytearray(seed)
    for offset, value in flips:
        damaged[offset % len(damaged)] = value
    try:
        checked = check_image(bytes(damaged[:cut] if cut else damaged))
    except BadRequest as refused:
        assert refused.details[0]["field"] == "image"
    else:
        assert checked.key == content_key(checked.data, checked.extension)
        assert reopened(checked).size == (checked.width, checked.height)


# --- re-encoded without metadata ---


def test_exif_and_gps_are_removed_and_the_orientation_applied() -> None:
    # Orientation 6: the camera was turned; the picture must be rotated 90 degrees clockwise to be upright.
    photo = encoded(half_red_half_blue((64, 32)), "JPEG", exif=exif_with_gps_and_orientation(6), quality=95)
    assert b"SecretCam" in photo
    checked = check_image(photo)
    assert (checked.width, checked.height) == (32, 64)
    upright = reopened(checked).convert("RGB")
    top, bottom = upright.getpixel((16, 8)), upright.getpixel((16, 56))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    assert top[0] > 200 and top[2] < 60, "the left half (red) is now the top half"
    assert bottom[2] > 200 and bottom[0] < 60
    assert b"SecretCam" not in checked.data
    assert b"Exif\x00\x00" not in checked.data
    assert dict(reopened(checked).getexif()) == {}
    assert APP1 not in jpeg_markers(checked.data)


@pytest.mark.parametrize(
    ("orientation", "pixel"),
    [(1, (0, 0)), (3, (63, 31)), (8, (0, 63))],
    ids=["upright", "upside-down", "turned-left"],
)
def test_every_orientation_puts_the_pictures_first_pixel_where_it_belongs(
    orientation: int, pixel: tuple[int, int]
) -> None:
    image = Image.new("RGB", (64, 32), (0, 0, 0))
    image.paste((255, 255, 255), (0, 0, 8, 8))  # a white corner at the stored top left
    upright = reopened(check_image(encoded(image, "PNG", exif=exif_with_gps_and_orientation(orientation))))
    assert upright.convert("L").getpixel(pixel) == 255
    assert "exif" not in upright.info


def test_icc_profile_comment_and_xmp_are_removed_from_a_jpeg() -> None:
    photo = encoded(
        Image.new("RGB", (32, 32), (10, 120, 200)),
        "JPEG",
        icc_profile=SRGB_PROFILE,
        comment="secret comment",
        xmp=XMP,
    )
    assert {APP1, APP2, COM} <= set(jpeg_markers(photo))
    checked = check_image(photo)
    assert set(jpeg_markers(checked.data)).isdisjoint({APP1, APP2, APP13, COM})
    assert b"secret" not in checked.data
    assert reopened(checked).info.get("icc_profile") is None


def test_text_chunks_icc_xmp_and_exif_are_removed_from_a_png() -> None:
    info = PngInfo()
    info.add_text("Author", "secret author")
    info.add_text("Comment", "secret comment", zip=True)
    info.add_itxt("XML:com.adobe.xmp", XMP.decode())
    exif = exif_with_gps_and_orientation(1)
    source = encoded(
        Image.new("RGBA", (16, 16), (1, 2, 3, 200)), "PNG", pnginfo=info, icc_profile=SRGB_PROFILE, exif=exif
    )
    assert METADATA_PNG_CHUNKS & set(png_chunk_types(source)) >= {b"iCCP", b"tEXt", b"zTXt", b"iTXt", b"eXIf"}
    checked = check_image(source)
    assert set(png_chunk_types(checked.data)).isdisjoint(METADATA_PNG_CHUNKS)
    assert b"secret" not in checked.data
    assert frames_of(checked.data) == frames_of(source), "PNG is re-encoded losslessly"


def test_exif_icc_and_xmp_are_removed_from_a_webp() -> None:
    source = encoded(
        Image.new("RGB", (16, 16), "orange"),
        "WEBP",
        lossless=True,
        exif=exif_with_gps_and_orientation(1),
        icc_profile=SRGB_PROFILE,
        xmp=XMP,
    )
    assert {b"EXIF", b"ICCP", b"XMP "} <= set(riff_chunks(source))
    checked = check_image(source)
    assert set(riff_chunks(checked.data)).isdisjoint({b"EXIF", b"ICCP", b"XMP "})
    assert b"secret" not in checked.data


def test_a_gif_comment_is_removed() -> None:
    checked = check_image(encoded(Image.new("P", (8, 8), 1), "GIF", comment=b"secret comment"))
    assert b"secret" not in checked.data


# --- what is kept ---


def test_a_png_keeps_its_pixels_and_a_palettes_transparency() -> None:
    image = Image.new("P", (16, 16), 0)
    image.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    image.paste(1, (0, 0, 8, 16))
    source = encoded(image, "PNG", transparency=0)
    checked = check_image(source)
    assert reopened(checked).mode == "P"
    assert frames_of(checked.data) == frames_of(source)
    assert frames_of(checked.data)[0][0][-1] == (255, 0, 0, 0), "index 0 is still transparent"


@pytest.mark.parametrize("mode", ["L", "LA", "RGB", "RGBA", "I;16"])
def test_a_png_keeps_its_mode_and_pixels(mode: str) -> None:
    source = encoded(Image.effect_noise((24, 24), 50).convert("L").convert(mode), "PNG")
    checked = check_image(source)
    with Image.open(io.BytesIO(source)) as before:
        assert reopened(checked).mode == before.mode
        assert list(reopened(checked).get_flattened_data()) == list(before.get_flattened_data())


def test_a_jpeg_keeps_its_quantization_tables_and_subsampling() -> None:
    source = encoded(Image.effect_noise((64, 48), 40).convert("RGB"), "JPEG", quality=62, subsampling="4:2:2")
    checked = check_image(source)
    with Image.open(io.BytesIO(source)) as before:
        after = reopened(checked)
        assert after.quantization == before.quantization  # type: ignore[attr-defined]
        assert JpegImagePlugin.get_sampling(after) == JpegImagePlugin.get_sampling(before) == 1


def test_a_cmyk_jpeg_is_accepted() -> None:
    checked = check_image(encoded(Image.new("CMYK", (16, 8), (0, 255, 255, 0)), "JPEG"))
    assert (checked.media_type, reopened(checked).mode) == ("image/jpeg", "CMYK")


def test_a_gif_animation_keeps_every_frame_its_durations_its_loop_and_transparency() -> None:
    frames = []
    for index in range(4):
        frame = Image.new("RGBA", (40, 30), (0, 0, 0, 0))
        frame.paste((255, 60 * index, 0, 255), (10 * index, 0, 10 * index + 10, 30))
        frames.append(frame)
    source = encoded(
        frames[0], "GIF", save_all=True, append_images=frames[1:], duration=[100, 200, 300, 400], loop=0, disposal=2
    )
    checked = check_image(source)
    assert frames_of(checked.data) == frames_of(source)
    assert [duration for _, duration in frames_of(checked.data)] == [100, 200, 300, 400]
    assert reopened(checked).info["loop"] == 0


@pytest.mark.parametrize("lossless", [True, False], ids=["lossless", "lossy"])
def test_a_webp_animation_keeps_its_frames_and_a_lossless_one_stays_lossless(lossless: bool) -> None:
    frames = [Image.new("RGBA", (24, 24), (50 * index, 0, 200, 255)) for index in range(3)]
    options = {"lossless": True} if lossless else {"quality": 80}
    source = encoded(frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=[100, 150, 200], **options)
    checked = check_image(source)
    assert [duration for _, duration in frames_of(checked.data)] == [100, 150, 200]
    assert (b"VP8L" in checked.data) is lossless
    if lossless:
        assert frames_of(checked.data) == frames_of(source)


@pytest.mark.parametrize("lossless", [True, False], ids=["lossless", "lossy"])
def test_a_still_webp_stays_lossless_or_lossy(lossless: bool) -> None:
    image = Image.effect_noise((32, 32), 40).convert("RGB")
    options = {"lossless": True} if lossless else {"quality": 70}
    checked = check_image(encoded(image, "WEBP", **options))
    image_chunk = next(kind for kind in riff_chunks(checked.data) if kind in (b"VP8L", b"VP8 "))
    assert (image_chunk == b"VP8L") is lossless


def test_an_apng_keeps_its_frames() -> None:
    frames = [Image.new("RGB", (12, 12), (0, 80 * index, 0)) for index in range(3)]
    source = encoded(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=[50, 60, 70])
    checked = check_image(source)
    assert frames_of(checked.data) == frames_of(source)


# --- the key ---


def test_the_same_image_twice_has_the_same_key_and_another_image_another() -> None:
    first, again = check_image(small_png()), check_image(small_png())
    assert first.key == again.key
    assert first.data == again.data
    assert check_image(small_png(color=(0, 0, 0))).key != first.key


def test_the_key_is_the_hash_of_the_stored_bytes_not_of_the_upload() -> None:
    with_metadata = encoded(Image.new("RGB", (8, 8), "red"), "PNG", icc_profile=SRGB_PROFILE)
    without = encoded(Image.new("RGB", (8, 8), "red"), "PNG")
    assert with_metadata != without
    assert check_image(with_metadata).key == check_image(without).key


# --- cold start ---


def test_importing_the_check_and_the_handler_loads_no_pillow() -> None:
    probe = (
        "import sys, speedrun.question_sets.images, lambdas.question_sets.handler; "
        "print(sorted(m for m in sys.modules if m == 'PIL' or m.startswith('PIL.')))"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "layers" / "shared" / "python")])}
    result = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "[]"

"""`POST /api/images` end to end through the question-set function: API Gateway v2 events in, the image
store in a folder (as the local stack has it) or in moto's S3 (as deployed)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from PIL import Image

import lambdas.question_sets.handler as question_sets_function
from speedrun.adapters.image_store import CACHE_CONTROL, OBJECT_PREFIX, S3ImageStore, content_key
from speedrun.errors import Unavailable
from speedrun.manifest import IMAGE_STORE_ENV
from speedrun.question_sets.image_service import default_image_service
from speedrun.question_sets.images import MAX_IMAGE_BYTES
from speedrun.settings import get_settings
from tests.support.fakes import FakeLambdaContext
from tests.support.images import encoded, small_png
from tests.support.question_sets import BOUNDARY, body_of, http_event, multipart_body

BUCKET = "speedrun-test-images"
IMAGES = "/api/images"


def image_event(
    content: bytes, *, filename: str = "picture.png", content_type: str = "image/png", **kwargs: Any
) -> dict[str, Any]:
    return http_event(
        "POST",
        IMAGES,
        body=multipart_body(content, filename=filename, content_type=content_type),
        content_type=f"multipart/form-data; boundary={BOUNDARY}",
        **kwargs,
    )


@dataclass
class Api:
    stored: Any
    """() -> {key: bytes} of what the store holds."""

    def call(self, event: dict[str, Any]) -> dict[str, Any]:
        return question_sets_function.handler(event, FakeLambdaContext())

    def upload(self, content: bytes, **kwargs: Any) -> dict[str, Any]:
        return self.call(image_event(content, **kwargs))


def _store_at(url: str, patch: pytest.MonkeyPatch) -> None:
    patch.setenv(IMAGE_STORE_ENV, url)
    get_settings.cache_clear()
    default_image_service.cache_clear()


@pytest.fixture
def folder_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    folder = tmp_path / "images"
    _store_at(folder.as_uri(), monkeypatch)
    yield Api(stored=lambda: {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else {})
    get_settings.cache_clear()
    default_image_service.cache_clear()


@pytest.fixture
def s3_api(monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)

        def stored() -> dict[str, bytes]:
            listed = s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])
            return {item["Key"]: s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read() for item in listed}

        _store_at(f"s3://{BUCKET}", monkeypatch)
        yield Api(stored=stored)
        get_settings.cache_clear()
        default_image_service.cache_clear()


@pytest.fixture(params=["folder", "s3"])
def api(request: pytest.FixtureRequest) -> Api:
    return request.getfixturevalue(f"{request.param}_api")


def test_a_png_named_jpg_is_stored_as_a_png_under_its_content_key(api: Api) -> None:
    response = api.upload(small_png(size=(30, 20)), filename="holiday.jpg", content_type="image/jpeg")
    assert response["statusCode"] == 201, response["body"]
    created = body_of(response)
    [(stored_key, data)] = api.stored().items()
    key = f"{hashlib.sha256(data).hexdigest()}.png"
    assert created == {
        "image": key,
        "url": f"/images/{key}",
        "media_type": "image/png",
        "width": 30,
        "height": 20,
        "bytes": len(data),
    }
    assert stored_key.endswith(key)
    assert "holiday" not in response["body"], "the upload's name is never part of the key or the URL"


def test_the_same_image_uploaded_twice_is_one_stored_image(api: Api) -> None:
    first = body_of(api.upload(small_png(), sub="host-1"))
    second = body_of(api.upload(small_png(), filename="other.gif", sub="host-2"))
    assert first == second
    assert len(api.stored()) == 1


@pytest.mark.parametrize(
    ("content", "filename"),
    [(b"just some text\n", "picture.png"), (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "logo.svg")],
    ids=["text-named-png", "svg"],
)
def test_a_file_that_is_not_an_image_is_a_400_with_the_problem_and_nothing_is_stored(
    api: Api, content: bytes, filename: str
) -> None:
    response = api.upload(content, filename=filename)
    assert response["statusCode"] == 400
    error = body_of(response)["error"]
    assert error["code"] == "bad_request"
    assert error["details"] == [{"field": "image", "reason": "not a PNG, JPEG, WebP or GIF image"}]
    assert api.stored() == {}


def test_an_oversized_image_is_refused(api: Api) -> None:
    response = api.upload(encoded(Image.new("L", (4097, 1)), "PNG"))
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["details"] == [
        {"field": "image", "reason": "at most 4096 pixels a side (is 4097 x 1)"}
    ]
    assert api.stored() == {}


def test_a_body_over_2_mib_and_its_allowance_is_413_before_it_is_parsed(folder_api: Api) -> None:
    response = folder_api.upload(b"\x89PNG\r\n\x1a\n" + b"\0" * (MAX_IMAGE_BYTES + 100 * 1024))
    assert response["statusCode"] == 413
    error = body_of(response)["error"]
    assert error["code"] == "too_large"
    assert "an image may have at most 2097152 bytes (2 MiB)" in error["message"]
    assert folder_api.stored() == {}


def test_a_file_just_over_2_mib_inside_the_allowance_is_413_from_the_check(folder_api: Api) -> None:
    response = folder_api.upload(small_png() + b"\0" * MAX_IMAGE_BYTES)
    assert response["statusCode"] == 413
    assert body_of(response)["error"]["details"] == [{"field": "image", "reason": f"at most {MAX_IMAGE_BYTES} bytes"}]


def test_a_body_that_is_not_multipart_is_a_400(folder_api: Api) -> None:
    response = folder_api.call(http_event("POST", IMAGES, body=small_png(), content_type="image/png"))
    assert response["statusCode"] == 400
    assert body_of(response)["error"]["details"] == [{"field": "content-type", "reason": "got image/png"}]


def test_an_unsigned_caller_is_401_and_nothing_is_stored(folder_api: Api) -> None:
    response = folder_api.call(image_event(small_png(), sub=None))
    assert response["statusCode"] == 401
    assert body_of(response)["error"]["code"] == "unauthorized"
    assert folder_api.stored() == {}


def test_s3_objects_carry_their_type_and_the_long_cache_control_under_images(s3_api: Api) -> None:
    key = body_of(s3_api.upload(encoded(Image.new("RGB", (8, 8), "red"), "GIF")))["image"]
    head = boto3.client("s3", region_name="us-east-1").head_object(Bucket=BUCKET, Key=OBJECT_PREFIX + key)
    assert (head["ContentType"], head["CacheControl"]) == ("image/gif", CACHE_CONTROL)
    assert list(s3_api.stored()) == [f"images/{key}"]


def test_the_s3_store_tells_stored_keys_from_missing_ones(s3_api: Api) -> None:
    store = S3ImageStore(BUCKET, region="us-east-1")
    key = body_of(s3_api.upload(small_png()))["image"]
    assert store.exists(key)
    assert not store.exists(content_key(b"never stored", "png"))


def test_a_missing_object_reads_as_missing_without_list_permission() -> None:
    # Deployed, the function has no s3:ListBucket: S3 answers a missing key with 403, not 404.
    store = S3ImageStore(BUCKET, region="us-east-1")
    with Stubber(store.client) as stubbed:
        stubbed.add_client_error("head_object", service_error_code="403", http_status_code=403)
        assert not store.exists(content_key(b"x", "png"))
        stubbed.add_client_error("head_object", service_error_code="SlowDown", http_status_code=503)
        with pytest.raises(Unavailable):
            store.exists(content_key(b"x", "png"))


def test_a_failed_s3_put_is_unavailable_to_try_again() -> None:
    with mock_aws():  # no bucket: S3 refuses the put
        store = S3ImageStore("no-such-bucket", region="us-east-1")
        with pytest.raises(Unavailable, match="could not store the image"):
            store.put(content_key(b"x", "png"), b"x", "image/png")

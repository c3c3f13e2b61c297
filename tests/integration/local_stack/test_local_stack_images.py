"""Question images on the local stack: the gateway serves the image folder at `/images/<key>` as
CloudFront serves the bucket (type, Cache-Control, the security headers), and the question-set
function, run from its synthesized assets, writes that folder (its `IMAGE_STORE_URL` points there)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image

from infra.security_headers import content_security_policy, response_headers
from local_stack.client import bearer
from local_stack.stack import LocalStack, LocalStackOptions
from speedrun import manifest
from speedrun.adapters.image_store import CACHE_CONTROL, FolderImageStore, content_key
from tests.support.images import encoded
from tests.support.local_gateway import gateway_alone

GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
Request = Callable[[str, str], httpx.Response]


@pytest.fixture
def served(tmp_path: Path) -> tuple[Request, FolderImageStore]:
    """Requests to the gateway alone (its ASGI app; no function started), its image folder in `tmp_path/images`."""
    gateway = gateway_alone(image_dir=tmp_path / "images")

    def request(method: str, path: str) -> httpx.Response:
        async def send() -> httpx.Response:
            transport = httpx.ASGITransport(app=gateway.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
                return await client.request(method, path)

        return asyncio.run(send())

    return request, FolderImageStore(tmp_path / "images")


def test_a_stored_image_is_served_with_its_type_the_long_cache_control_and_nosniff(
    served: tuple[Request, FolderImageStore],
) -> None:
    request, store = served
    key = content_key(GIF, "gif")
    store.put(key, GIF, "image/gif")
    for method in ("GET", "HEAD"):
        reply = request(method, manifest.image_url(key))
        assert reply.status_code == 200
        assert reply.headers["content-type"] == "image/gif"
        assert reply.headers["cache-control"] == CACHE_CONTROL
        assert reply.headers["x-content-type-options"] == "nosniff"
        expected = response_headers(content_security_policy("", websocket_scheme="ws:"))
        assert {name: reply.headers[name] for name in expected} == expected
    assert request("GET", manifest.image_url(key)).content == GIF


def test_unknown_keys_and_anything_outside_the_folder_are_404(
    served: tuple[Request, FolderImageStore], tmp_path: Path
) -> None:
    request, store = served
    store.put(content_key(GIF, "gif"), GIF, "image/gif")
    (tmp_path / "secret.txt").write_text("outside the folder")
    (tmp_path / "images" / "notes.png").write_bytes(GIF)
    for path in (
        manifest.image_url(content_key(b"never stored", "png")),
        "/images/notes.png",
        "/images/..%2Fsecret.txt",
        "/images/%2e%2e/secret.txt",
        "/images/../secret.txt",
        "/images/",
    ):
        reply = request("GET", path)
        assert reply.status_code == 404, path
        assert b"outside the folder" not in reply.content


@pytest.fixture(scope="module")
def stack(redis_server_url: str) -> Iterator[LocalStack]:
    """The real question-set function, from its synthesized assets, behind the gateway."""
    options = LocalStackOptions(
        port=0,
        functions=(manifest.function("question_sets"),),
        queues=(),
        web_dir=None,
        examples_dir=None,
        redis_url=redis_server_url,
    )
    with LocalStack(options) as running:
        yield running


def test_an_uploaded_image_is_written_to_the_folder_and_served_by_the_gateway(stack: LocalStack) -> None:
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # the camera's make
    photo = encoded(Image.new("RGB", (40, 30), "teal"), "JPEG", exif=exif)
    token = stack.sign_in_host()
    with httpx.Client(base_url=stack.base_url, timeout=30) as http:
        files = {"file": ("holiday.png", photo, "image/png")}
        created = http.post("/api/images", files=files, headers=bearer(token))
        assert created.status_code == 201, created.text
        metadata = created.json()
        assert metadata["media_type"] == "image/jpeg"
        assert stack.image_store is not None
        assert sorted(path.name for path in stack.image_store.iterdir()) == [metadata["image"]]
        served = http.get(metadata["url"])
        assert served.status_code == 200
        assert served.content == (stack.image_store / metadata["image"]).read_bytes()
        assert b"SecretCam" in photo and b"SecretCam" not in served.content
        assert (served.headers["content-type"], served.headers["cache-control"]) == ("image/jpeg", CACHE_CONTROL)
        assert served.headers["x-content-type-options"] == "nosniff"
        unsigned = http.post("/api/images", files=files)
        assert unsigned.status_code == 401
        refused = http.post("/api/images", files={"file": ("x.png", b"text", "image/png")}, headers=bearer(token))
        assert refused.status_code == 400
        assert json.loads(refused.content)["error"]["details"][0]["field"] == "image"

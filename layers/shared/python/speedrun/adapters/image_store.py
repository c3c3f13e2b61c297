"""The image store: content-addressed question images, in S3 when deployed, in a folder locally.

A key is the SHA-256 of the stored bytes and the format's extension (`content_key`): it names the
bytes and nothing else (no set, question or answer), so a key never changes meaning, putting it again
is harmless, and every copy may be cached for a year (`CACHE_CONTROL`). The web origin serves key `k`
at `manifest.image_url(k)`: CloudFront from the bucket's objects `images/<key>`, the local gateway
from the folder. Where the store is comes from `IMAGE_STORE_URL` (`s3://<bucket>` or
`file://<folder>`, `image_store_from_settings`).
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import unquote, urlsplit

from speedrun import manifest
from speedrun.errors import NotFound, Unavailable
from speedrun.settings import Settings

MEDIA_TYPES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp", "gif": "image/gif"}
"""Extension -> media type of every format the store holds: the extension in a key says its type."""
KEY_PATTERN = re.compile(r"^[0-9a-f]{64}\.(?:png|jpg|webp|gif)$")
"""`content_key`'s output; nothing else is a key, so no key can name a path outside the store."""
OBJECT_PREFIX = manifest.IMAGE_PATH_PREFIX.lstrip("/")
"""`images/`: the bucket's objects sit where CloudFront's `/images/*` behaviour looks them up."""
MAX_AGE_S = 365 * 24 * 3600
CACHE_CONTROL = f"public, max-age={MAX_AGE_S}, immutable"
"""Every stored image's Cache-Control: a key's bytes never change (CloudFront's cache policy and
the local gateway follow it)."""


def content_key(data: bytes, extension: str) -> str:
    """The key of `data` stored as `extension` (one of `MEDIA_TYPES`)."""
    if extension not in MEDIA_TYPES:
        raise ValueError(f"not an image extension: {extension!r}")
    return f"{hashlib.sha256(data).hexdigest()}.{extension}"


def media_type_of(key: str) -> str:
    """The media type a valid key's extension names; ValueError for anything that is not a key."""
    if not KEY_PATTERN.match(key):
        raise ValueError(f"invalid image key {key!r}")
    return MEDIA_TYPES[key.rsplit(".", 1)[1]]


def _checked(key: str, media_type: str) -> None:
    if media_type_of(key) != media_type:
        raise ValueError(f"image key {key} is not of type {media_type}")


class ImageStore(Protocol):
    def put(self, key: str, data: bytes, media_type: str) -> None:
        """Store `data` under its content key (an existing key is left as it is: same bytes)."""

    def exists(self, key: str) -> bool:
        """Whether an image is stored under `key`."""


class S3ImageStore:
    """Objects `images/<key>` of the image bucket, with their media type and the long Cache-Control."""

    def __init__(self, bucket: str, *, region: str, endpoint_url: str | None = None) -> None:
        self.bucket = bucket
        self._region = region
        self._endpoint_url = endpoint_url

    @cached_property
    def client(self) -> Any:
        """Made on first use, then reused: boto3 is imported with the first image, not at the
        question-set function's cold start."""
        import boto3  # noqa: PLC0415

        return boto3.client("s3", region_name=self._region, endpoint_url=self._endpoint_url)

    def put(self, key: str, data: bytes, media_type: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 (with boto3, see `client`)

        _checked(key, media_type)
        try:
            self.client.put_object(
                Bucket=self.bucket,
                Key=OBJECT_PREFIX + key,
                Body=data,
                ContentType=media_type,
                CacheControl=CACHE_CONTROL,
            )
        except (BotoCoreError, ClientError) as exc:
            raise Unavailable("could not store the image; try again") from exc

    def exists(self, key: str) -> bool:
        from botocore.exceptions import BotoCoreError, ClientError  # noqa: PLC0415 (with boto3, see `client`)

        media_type_of(key)
        try:
            self.client.head_object(Bucket=self.bucket, Key=OBJECT_PREFIX + key)
        except ClientError as exc:
            # Without s3:ListBucket (not granted: functions reach `images/*` objects only), S3 answers
            # a missing object with 403 rather than 404.
            if exc.response.get("Error", {}).get("Code") in ("403", "404", "NoSuchKey", "NotFound"):
                return False
            raise Unavailable("could not look the image up; try again") from exc
        except BotoCoreError as exc:
            raise Unavailable("could not look the image up; try again") from exc
        return True


class FolderImageStore:
    """One file per key in a folder (the local stack's); the key's extension is its media type.
    Each write goes to a temp file in the folder, then is renamed into place: a reader (the gateway)
    sees the whole image or none."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)

    def path_of(self, key: str) -> Path:
        """The stored file of `key`; NotFound for an unknown key or anything that is not a key."""
        if not KEY_PATTERN.match(key):
            raise NotFound(f"image {key} not found")
        path = self.root / key
        if not path.is_file():
            raise NotFound(f"image {key} not found")
        return path

    def put(self, key: str, data: bytes, media_type: str) -> None:
        _checked(key, media_type)
        self.root.mkdir(parents=True, exist_ok=True)
        if (self.root / key).is_file():
            return
        handle, temp_name = tempfile.mkstemp(dir=self.root, prefix=".incoming-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as temp:
                temp.write(data)
            os.replace(temp_name, self.root / key)
        except BaseException:
            Path(temp_name).unlink(missing_ok=True)
            raise

    def exists(self, key: str) -> bool:
        try:
            self.path_of(key)
        except NotFound:
            return False
        return True


def image_store_from_settings(settings: Settings) -> ImageStore:
    """The store `IMAGE_STORE_URL` names: `s3://<bucket>` or `file://<absolute folder>`."""
    location = urlsplit(settings.require("image_store_url"))
    if location.scheme == "s3" and location.netloc:
        return S3ImageStore(location.netloc, region=settings.aws_region, endpoint_url=settings.aws_endpoint_url)
    if location.scheme == "file" and location.path:
        return FolderImageStore(unquote(location.path))
    raise ValueError(f"{manifest.IMAGE_STORE_ENV} must be s3://<bucket> or file://<folder>, not {location.geturl()!r}")

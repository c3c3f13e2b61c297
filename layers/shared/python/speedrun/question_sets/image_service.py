"""The image upload's use case: check an image (`speedrun.question_sets.images`), store what the check
re-encoded under its content key, and say where the site serves it."""

from __future__ import annotations

from functools import cache

from speedrun.adapters.image_store import ImageStore, image_store_from_settings
from speedrun.manifest import image_url
from speedrun.question_sets.images import check_image
from speedrun.question_sets.models import ImageMetadata
from speedrun.settings import get_settings


class ImageService:
    def __init__(self, store: ImageStore) -> None:
        self.store = store

    def upload(self, data: bytes) -> ImageMetadata:
        """Nothing is stored unless the image passes every check. The same picture uploaded twice (by
        anyone) is one stored image: its key is the hash of what is stored."""
        checked = check_image(data)
        self.store.put(checked.key, checked.data, checked.media_type)
        return ImageMetadata(
            image=checked.key,
            url=image_url(checked.key),
            media_type=checked.media_type,
            width=checked.width,
            height=checked.height,
            bytes=len(checked.data),
        )


@cache
def default_image_service() -> ImageService:
    """The service over the configured image store (built on first use, then reused)."""
    return ImageService(image_store_from_settings(get_settings()))

"""The images an upload brings with its question set, and what a question's `image` reference names.

A set file refers to an image by a file name or by a stored image's key:

- a file name names a file attached to the same request: a further multipart part (`images`, its
  file name) or an entry of a bundle, a `.zip` holding the set file (`.json`, `.csv` or `.xlsx`) and
  its images (by the entry's path in the zip, or by its bare name when only one entry has it);
- a key (`speedrun.adapters.image_store.KEY_PATTERN`, what `POST /api/images` answers and what
  `GET .../content` shows) names an image already stored.

Each attached image a question uses is checked (`speedrun.question_sets.images`) while the set is
parsed, so its refusal is one more problem of the list, located like the others; the checked images
are stored (`store_checked`) only once the whole set passed. Attached files no question uses are
neither checked nor stored.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from speedrun.adapters.image_store import KEY_PATTERN, ImageStore
from speedrun.errors import BadRequest, DomainError
from speedrun.question_sets.images import MAX_IMAGE_BYTES, CheckedImage, check_image
from speedrun.question_sets.models import MAX_FILE_BYTES, Problem
from speedrun.question_sets.parsing import ImageRefused
from speedrun.question_sets.spreadsheet import WORKBOOK_PART, is_workbook, is_zip

SET_FILE_SUFFIXES = (".json", ".csv", ".xlsx")
MAX_BUNDLE_ENTRIES = 1000
MAX_BUNDLE_UNCOMPRESSED_BYTES = MAX_FILE_BYTES + 16 * 1024 * 1024
"""The set file and its images decompressed: the upload itself is at most 4 MiB, and images hardly
compress, so a real bundle stays far below; the bound refuses a zip bomb on its directory alone."""
_SKIPPED_FOLDERS = ("__MACOSX/",)
"""macOS's Archive Utility adds resource forks there; they are neither the set nor its images."""


@dataclass(frozen=True)
class Upload:
    """What an upload request carries: the set file, its name, and the files attached to it by name."""

    set_file: bytes
    filename: str | None
    attached: Mapping[str, bytes] = field(default_factory=dict)


def unpack(content: bytes, filename: str | None, attached: Mapping[str, bytes]) -> Upload:
    """The request's `file` and `images` parts as an upload; a bundle (a zip that is not a workbook)
    opened into its set file and images. Raises `BadRequest` for a bundle that cannot be used."""
    if not is_zip(content) or is_workbook(content):
        return Upload(set_file=content, filename=filename, attached=attached)
    if attached:
        raise _bundle_problem("send either a bundle (.zip) or a set file with its images as parts, not both")
    return _open_bundle(content)


def _open_bundle(content: bytes) -> Upload:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except Exception as exc:  # zipfile raises several kinds for a malformed directory
        raise _bundle_problem(f"not a readable zip archive ({type(exc).__name__})") from None
    with archive:
        entries = [entry for entry in archive.infolist() if _is_content(entry)]
        _check_directory(entries)
        set_entries = [entry for entry in entries if entry.filename.casefold().endswith(SET_FILE_SUFFIXES)]
        if not set_entries:
            raise _bundle_problem(
                f"not an Excel workbook (no {WORKBOOK_PART}), and not a bundle: a bundle holds exactly one .json, "
                ".csv or .xlsx set file (found: none)"
            )
        if len(set_entries) > 1:
            found = ", ".join(entry.filename for entry in set_entries)
            raise _bundle_problem(f"a bundle holds exactly one .json, .csv or .xlsx set file (found: {found})")
        (set_entry,) = set_entries
        try:
            files = {entry.filename: archive.read(entry) for entry in entries}
        except Exception as exc:  # a corrupt entry, a bad CRC, an unsupported method ...
            raise _bundle_problem(f"an entry cannot be read ({type(exc).__name__})") from None
    set_file = files.pop(set_entry.filename)
    return Upload(set_file=set_file, filename=PurePosixPath(set_entry.filename).name, attached=files)


def _is_content(entry: zipfile.ZipInfo) -> bool:
    name = PurePosixPath(entry.filename).name
    return not entry.is_dir() and not name.startswith(".") and not entry.filename.startswith(_SKIPPED_FOLDERS)


def _check_directory(entries: list[zipfile.ZipInfo]) -> None:
    if len(entries) > MAX_BUNDLE_ENTRIES:
        raise _bundle_problem(f"at most {MAX_BUNDLE_ENTRIES} files (has {len(entries)})")
    total = sum(entry.file_size for entry in entries)
    if total > MAX_BUNDLE_UNCOMPRESSED_BYTES:
        raise _bundle_problem(f"its files hold {total} bytes uncompressed; at most {MAX_BUNDLE_UNCOMPRESSED_BYTES}")
    for entry in entries:
        is_set_file = entry.filename.casefold().endswith(SET_FILE_SUFFIXES)
        limit = MAX_FILE_BYTES if is_set_file else MAX_IMAGE_BYTES
        if entry.file_size > limit:
            raise _bundle_problem(f"{entry.filename} has {entry.file_size} bytes; at most {limit}")


def _bundle_problem(reason: str) -> BadRequest:
    return BadRequest(f"cannot use the zip: {reason}", details=[Problem(field="file", reason=reason).as_detail()])


class UploadImages:
    """Resolves a set file's image references (`speedrun.question_sets.parsing.ImageResolver`)
    against the upload's attached files and the image store."""

    def __init__(self, attached: Mapping[str, bytes], store: ImageStore) -> None:
        self.store = store
        self._attached = {_normalized(name): data for name, data in attached.items()}
        self._by_bare_name: dict[str, list[str]] = {}
        for name in self._attached:
            self._by_bare_name.setdefault(PurePosixPath(name).name, []).append(name)
        self._stored: set[str] = set()
        self._keys_by_name: dict[str, str] = {}
        self.checked: dict[str, CheckedImage] = {}
        """Attached images a question uses, by key: stored by `store_checked`."""

    def resolve(self, reference: str) -> str:
        name = self._attached_name(reference)
        if name is not None:
            return self._checked_key(name)
        if KEY_PATTERN.match(reference) and self._is_stored(reference):
            return reference
        raise ImageRefused(
            f"no image {reference!r}: attach a file of that name to the upload (a part or a bundle entry), "
            "or upload the image first (POST /api/images) and use the key it answers"
        )

    def store_checked(self) -> None:
        for checked in self.checked.values():
            self.store.put(checked.key, checked.data, checked.media_type)

    def _attached_name(self, reference: str) -> str | None:
        normalized = _normalized(reference)
        if normalized in self._attached:
            return normalized
        same_name = self._by_bare_name.get(normalized, [])
        if len(same_name) > 1:
            raise ImageRefused(f"{len(same_name)} attached files are named {reference!r}: use the path in the zip")
        return same_name[0] if same_name else None

    def _checked_key(self, name: str) -> str:
        if name not in self._keys_by_name:
            try:
                checked = check_image(self._attached[name])
            except DomainError as refused:
                reasons = "; ".join(str(detail.get("reason")) for detail in refused.details or [])
                raise ImageRefused(f"{name}: {reasons or refused.message}") from None
            self.checked[checked.key] = checked
            self._keys_by_name[name] = checked.key
        return self._keys_by_name[name]

    def _is_stored(self, key: str) -> bool:
        if key not in self._stored and self.store.exists(key):
            self._stored.add(key)
        return key in self._stored


def _normalized(name: str) -> str:
    """Zip tools differ: Windows ones write backslashes, some a leading `./`."""
    normalized = name.replace("\\", "/")
    while normalized.startswith("./"):
        normalized = normalized[2:]
    return normalized

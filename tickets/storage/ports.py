"""The storage port for attachments (photos, voice messages, call recordings): bytes under a relative key.

Adapters: a local folder (``local.py``, the default) and an S3-compatible bucket (``s3.py``), so several
web and worker hosts can share the same files. The same contract tests run against both.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from kernel.errors import DomainError, Invalid, NotFound

CHUNK_BYTES = 64 * 1024
MAX_KEY_CHARS = 300  # Attachment.storage_key


class MissingFile(NotFound):
    def __init__(self, key: str) -> None:
        super().__init__(f"tệp {key} không có trong kho lưu trữ (file not in storage)", key=key)


class StorageUnavailable(DomainError):
    """The store could not be reached or refused us; the request may succeed later."""

    status_code = 503


class FileStore(Protocol):
    location: str  # where the files are, for messages: a folder or s3://bucket/prefix

    def put(self, key: str, data: bytes) -> None:
        """Store (or replace) the bytes under key; a reader never sees a half-written file."""

    def get(self, key: str) -> bytes:
        """All the bytes; MissingFile when there is nothing under key."""

    def open(self, key: str) -> Iterator[bytes]:
        """The bytes in chunks, to stream; MissingFile at once (before the first chunk) when absent."""

    def exists(self, key: str) -> bool: ...

    def delete(self, key: str) -> None:
        """Remove the file; nothing happens when it is already gone."""


def checked_key(key: str) -> str:
    """Keys are relative slash-separated paths without '.' or '..' parts, the same on every adapter."""
    parts = key.split("/")
    if (
        not key
        or len(key) > MAX_KEY_CHARS
        or "\\" in key
        or "\x00" in key
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise Invalid(f"khóa lưu trữ không hợp lệ: {key!r} (bad storage key)", field="key")
    return key

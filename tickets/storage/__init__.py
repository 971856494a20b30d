"""Where attachment bytes live, chosen by settings: ``CIVICDESK_STORAGE=local`` (default) or ``s3``."""

from __future__ import annotations

from functools import lru_cache

from kernel.settings import Settings, get_settings
from tickets.storage.local import LocalFileStore
from tickets.storage.ports import FileStore, MissingFile, StorageUnavailable, checked_key

__all__ = [
    "FileStore",
    "LocalFileStore",
    "MissingFile",
    "StorageUnavailable",
    "checked_key",
    "default_store",
    "store_for",
]


def store_for(settings: Settings) -> FileStore:
    if settings.storage == "s3":
        return _s3_store(
            settings.s3_bucket,
            settings.s3_prefix,
            settings.s3_endpoint_url,
            settings.s3_region,
            settings.s3_access_key_id,
            settings.s3_secret_access_key,
        )
    return LocalFileStore(settings.attachments_path)


def default_store() -> FileStore:
    """The configured store (a FastAPI dependency too: ``web.deps.StoreDep``)."""
    return store_for(get_settings())


@lru_cache(maxsize=4)
def _s3_store(
    bucket: str, prefix: str, endpoint_url: str, region: str, access_key_id: str, secret_access_key: str
) -> FileStore:
    # Making a boto3 client reads config files and endpoint data: once per configuration, not per file.
    from tickets.storage.s3 import S3FileStore

    return S3FileStore(
        bucket=bucket,
        prefix=prefix,
        endpoint_url=endpoint_url,
        region=region,
        access_key_id=access_key_id,
        secret_access_key=secret_access_key,
    )

"""Attachments in an S3-compatible bucket (AWS S3, MinIO, Ceph, Garage…), shared by every host.

boto3 is the reference S3 client: request signing, retries and streaming bodies are its job, not ours.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tickets.storage.ports import CHUNK_BYTES, MissingFile, StorageUnavailable, checked_key

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import GetObjectOutputTypeDef

T = TypeVar("T")
NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})


class S3FileStore:
    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.location = f"s3://{bucket}/{self.prefix}"
        # A self-hosted endpoint (MinIO and the like) is addressed by path, not by bucket subdomain.
        config = Config(
            connect_timeout=5,
            read_timeout=30,
            retries={"max_attempts": 3, "mode": "standard"},
            s3={"addressing_style": "path" if endpoint_url else "auto"},
        )
        # Empty credentials: boto3's own chain (environment, instance role) decides.
        self.client: S3Client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint_url or None,
            region_name=region or None,
            aws_access_key_id=access_key_id or None,
            aws_secret_access_key=secret_access_key or None,
            config=config,
        )

    def _object_key(self, key: str) -> str:
        return self.prefix + checked_key(key)

    def put(self, key: str, data: bytes) -> None:
        object_key = self._object_key(key)
        self._call(key, lambda: self.client.put_object(Bucket=self.bucket, Key=object_key, Body=data))

    def get(self, key: str) -> bytes:
        return b"".join(self.open(key))

    def open(self, key: str) -> Iterator[bytes]:
        object_key = self._object_key(key)
        reply = self._call(key, lambda: self.client.get_object(Bucket=self.bucket, Key=object_key))
        return self._chunks(key, reply)

    def exists(self, key: str) -> bool:
        object_key = self._object_key(key)
        try:
            self._call(key, lambda: self.client.head_object(Bucket=self.bucket, Key=object_key))
        except MissingFile:
            return False
        return True

    def delete(self, key: str) -> None:
        object_key = self._object_key(key)
        self._call(key, lambda: self.client.delete_object(Bucket=self.bucket, Key=object_key))

    def _chunks(self, key: str, reply: GetObjectOutputTypeDef) -> Iterator[bytes]:
        body = reply["Body"]
        try:
            yield from body.iter_chunks(CHUNK_BYTES)
        except BotoCoreError as exc:
            raise StorageUnavailable(f"đọc {key} từ {self.location} bị ngắt (read cut off: {exc})") from exc
        finally:
            body.close()

    def _call(self, key: str, request: Callable[[], T]) -> T:
        """One S3 request, its failures said in our terms: a missing object, or a store that failed."""
        try:
            return request()
        except ClientError as exc:
            code = _error_code(exc.response)
            if code in NOT_FOUND_CODES:
                raise MissingFile(key) from exc
            raise StorageUnavailable(
                f"kho S3 {self.location} từ chối yêu cầu ({code}) (the S3 store refused: {exc})"
            ) from exc
        except BotoCoreError as exc:
            raise StorageUnavailable(
                f"không kết nối được kho S3 {self.location} (S3 store unreachable: {exc})"
            ) from exc


def _error_code(response: Any) -> str:
    return str(response.get("Error", {}).get("Code", "unknown"))

"""The attachment storage port (tickets.storage.ports.FileStore): one contract, run against the local
folder (the embedded run's store, and the simulator of a shared bucket) and against the S3 adapter talking
to moto's S3 server on loopback (tests/s3_fake.py, the S3 wire protocol over real HTTP); then settings
choosing between them."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError
from s3_fake import S3Server, store_on

from kernel.errors import Invalid
from kernel.settings import Settings
from tickets.storage import FileStore, LocalFileStore, MissingFile, store_for
from tickets.storage.ports import CHUNK_BYTES
from tickets.storage.s3 import S3FileStore

KEY = "ab/ab12cd34"


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> FileStore:
    if request.param == "local":
        return LocalFileStore(tmp_path / "attachments")
    server: S3Server = request.getfixturevalue("s3_server")
    return store_on(server, server.new_bucket())


def test_put_then_get_and_exists(store: FileStore) -> None:
    assert not store.exists(KEY)
    store.put(KEY, b"\xff\xd8 photo bytes")
    assert store.exists(KEY)
    assert store.get(KEY) == b"\xff\xd8 photo bytes"


def test_put_replaces_what_was_there(store: FileStore) -> None:
    store.put(KEY, b"first")
    store.put(KEY, b"second")
    assert store.get(KEY) == b"second"


def test_open_streams_a_large_file_in_chunks(store: FileStore) -> None:
    data = bytes(range(256)) * (3 * CHUNK_BYTES // 256 + 7)
    store.put(KEY, data)
    chunks = list(store.open(KEY))
    assert len(chunks) >= 3
    assert b"".join(chunks) == data


def test_a_missing_file_is_said_at_once(store: FileStore) -> None:
    with pytest.raises(MissingFile):
        store.get("no/such-file")
    with pytest.raises(MissingFile):
        store.open("no/such-file")  # before the first chunk, so a page can still answer 404
    assert not store.exists("no/such-file")


def test_delete_removes_and_is_harmless_when_repeated(store: FileStore) -> None:
    store.put(KEY, b"bytes")
    store.delete(KEY)
    assert not store.exists(KEY)
    store.delete(KEY)
    with pytest.raises(MissingFile):
        store.get(KEY)


@pytest.mark.parametrize("key", ["", "../escape", "/absolute", "a//b", "a/./b", "a\\b", "x" * 301])
def test_bad_keys_are_refused_by_every_adapter(store: FileStore, key: str) -> None:
    with pytest.raises(Invalid):
        store.put(key, b"bytes")
    with pytest.raises(Invalid):
        store.exists(key)


def test_settings_choose_the_adapter(tmp_path: Path, s3_server: S3Server) -> None:
    local = store_for(Settings(attachment_dir=tmp_path))
    assert isinstance(local, LocalFileStore) and local.root == tmp_path
    chosen = store_for(Settings(storage="s3", s3_bucket="photos", s3_endpoint_url=s3_server.endpoint_url))
    assert isinstance(chosen, S3FileStore) and chosen.location == "s3://photos/attachments/"
    with pytest.raises(ValidationError, match="CIVICDESK_S3_BUCKET"):
        Settings(storage="s3")

"""The S3 adapter's own behaviour (its prefix, an unreachable server), then the web app configured with S3
taking a photo on a report and serving it. The storage port's contract, run against the local folder and
S3 alike, is tests/contracts/test_storage_port.py."""

from __future__ import annotations

import io
import re
import socket
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from s3_fake import ACCESS_KEY, REGION, SECRET_KEY, S3Server, store_on
from sqlalchemy.engine import Engine
from sqlmodel import select

from kernel.db import unit_of_work
from kernel.settings import get_settings
from nlp.speech import SpeechError, Transcript
from telephony import voicemail
from telephony.models import Call
from tickets.models import Attachment, Ticket
from tickets.storage import (
    StorageUnavailable,
    default_store,
)
from tickets.storage.s3 import S3FileStore

KEY = "ab/ab12cd34"


def test_s3_objects_live_under_the_prefix(s3_server: S3Server) -> None:
    bucket = s3_server.new_bucket()
    store_on(s3_server, bucket, prefix="city-pr").put(KEY, b"bytes")
    listed = s3_server.client().list_objects_v2(Bucket=bucket)
    assert [item["Key"] for item in listed.get("Contents", [])] == [f"city-pr/{KEY}"]


def test_an_unreachable_s3_store_is_a_clear_error() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    store = S3FileStore(
        bucket="b", endpoint_url=f"http://127.0.0.1:{port}", access_key_id="k", secret_access_key="s"
    )
    with pytest.raises(StorageUnavailable, match="S3"):
        store.put(KEY, b"bytes")


# --- the app on S3 ----------------------------------------------------------------------------------


@pytest.fixture
def s3_bucket(monkeypatch: pytest.MonkeyPatch, s3_server: S3Server, tmp_path: Path) -> Iterator[str]:
    bucket = s3_server.new_bucket()
    settings = {
        "STORAGE": "s3",
        "S3_ENDPOINT_URL": s3_server.endpoint_url,
        "S3_BUCKET": bucket,
        "S3_REGION": REGION,
        "S3_ACCESS_KEY_ID": ACCESS_KEY,
        "S3_SECRET_ACCESS_KEY": SECRET_KEY,
        "ATTACHMENT_DIR": str(tmp_path / "must-stay-empty"),
    }
    for name, value in settings.items():
        monkeypatch.setenv(f"CIVICDESK_{name}", value)
    get_settings.cache_clear()
    yield bucket
    get_settings.cache_clear()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (20, 10), (200, 40, 40)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_the_app_on_s3_takes_a_photo_with_a_report_and_serves_it_back(
    client: TestClient,
    engine: Engine,
    s3_server: S3Server,
    s3_bucket: str,
    tmp_path: Path,
    admin: dict[str, str],
) -> None:
    photo = png()
    response = client.post(
        "/report",
        data={"text": "Cây đổ chắn ngang đường Trần Phú"},
        files=[("photos", ("tree.png", photo, "image/png"))],
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/t/([A-Za-z0-9_-]+)\?new=1", response.headers["location"])
    assert match
    token = match.group(1)
    with unit_of_work(engine) as session:
        ticket = session.exec(select(Ticket).where(Ticket.tracking_token == token)).one()
        attachment = session.exec(select(Attachment).where(Attachment.ticket_id == ticket.id)).one()
    stored = s3_server.client().get_object(Bucket=s3_bucket, Key=f"attachments/{attachment.storage_key}")
    in_bucket = stored["Body"].read()
    assert not (tmp_path / "must-stay-empty").exists()

    served = client.get(f"/t/{token}/photos/{attachment.id}")
    assert served.status_code == 200 and served.headers["content-type"] == "image/png"
    assert served.content == in_bucket
    assert Image.open(io.BytesIO(served.content)).size == (20, 10)
    staff = client.get(f"/api/v1/attachments/{attachment.id}", headers=admin)
    assert staff.status_code == 200 and staff.content == in_bucket


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_a_photo_gone_from_the_store_is_a_404_not_a_crash(
    client: TestClient, engine: Engine, s3_server: S3Server, s3_bucket: str
) -> None:
    response = client.post(
        "/report",
        data={"text": "Đèn đường hỏng ở hẻm 5"},
        files=[("photos", ("lamp.png", png(), "image/png"))],
        follow_redirects=False,
    )
    token = response.headers["location"].split("/")[2].split("?")[0]
    with unit_of_work(engine) as session:
        attachment = session.exec(select(Attachment)).one()
    s3_server.client().delete_object(Bucket=s3_bucket, Key=f"attachments/{attachment.storage_key}")
    assert client.get(f"/t/{token}/photos/{attachment.id}").status_code == 404


class WordsByFileName:
    """The speech port's fake: the words each audio file (by name) is known to contain."""

    def __init__(self, words: dict[str, str]) -> None:
        self.words = words

    def transcribe(self, audio: Path) -> Transcript:
        if not audio.is_file() or audio.name not in self.words:
            raise SpeechError(f"the audio file {audio} does not exist")
        return Transcript(text=self.words[audio.name], confidence=0.9, audio_seconds=1.0)


def wav(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x01\x00" * 8000)
    return path.read_bytes()


@pytest.mark.parametrize("engine", ["postgresql"], indirect=True)
def test_a_worker_that_cannot_see_asterisks_spool_files_voicemail_from_the_store(
    engine: Engine, s3_bucket: str, tmp_path: Path
) -> None:
    spool = tmp_path / "spool" / "msg0007.wav"
    audio = wav(spool)
    with unit_of_work(engine) as session:
        call = Call(
            uniqueid="1795000100.7", linkedid="1795000100.7", caller_number="0905123456", outcome="voicemail"
        )
        call.voicemail_file = str(spool)
        session.add(call)
        session.flush()
        call_id = call.id or 0
        voicemail.stage_audio(session, call_id)  # the listener, next to Asterisk, before queueing the task
    spool.unlink()  # the worker runs on another host
    words = WordsByFileName({"msg0007.wav": "cống hẻm 12 Thống Nhất bị tắc, nước tràn lên đường"})
    ticket = voicemail.transcribe_voicemail(call_id, words, engine)
    with unit_of_work(engine) as session:
        attached = session.exec(select(Attachment).where(Attachment.ticket_id == ticket.id)).one()
    assert ticket.description == words.words["msg0007.wav"]
    assert (attached.purpose, attached.original_name) == ("voicemail", "msg0007.wav")
    assert default_store().get(attached.storage_key) == audio

"""Slow outside work never runs while this process holds a database connection or transaction: speech
recognition of a voicemail or a recorded call, and an IOC source's HTTP answer. SQLAlchemy's own pool and
connection events count what is open at the moment the recogniser runs or the source is asked."""

from __future__ import annotations

import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fakes import serve
from fastapi.testclient import TestClient
from openness import Openness
from sqlalchemy.engine import Engine
from sqlmodel import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ioc import service as ioc
from ioc.models import Connector, MetricPoint
from kernel.db import unit_of_work
from kernel.timeutil import utcnow
from nlp.speech import Transcript
from telephony import voicemail
from telephony.models import Call, CallTicket


@pytest.fixture
def openness(engine: Engine) -> Openness:
    return Openness(engine)


def test_the_counts_see_a_unit_of_work(engine: Engine, openness: Openness) -> None:
    with unit_of_work(engine) as session:
        session.exec(select(Call.id)).all()
        openness.note()
    openness.note()
    assert openness.seen == [(1, 1), (0, 0)]


class ListeningRecogniser:
    """The speech port's fake: notes what the database has open while it 'listens', then answers."""

    def __init__(self, openness: Openness, words: str) -> None:
        self.openness, self.words = openness, words

    def transcribe(self, audio: Path) -> Transcript:
        self.openness.note()
        return Transcript(text=self.words, confidence=0.9, audio_seconds=2.0)


def audio_file(path: Path) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\x00\x00" * 8000)
    return path


def a_call(engine: Engine, uniqueid: str, **files: str) -> int:
    with unit_of_work(engine) as session:
        call = Call(uniqueid=uniqueid, linkedid=uniqueid, caller_number="0905123456", **files)
        session.add(call)
        session.flush()
        return call.id or 0


WORDS = "đèn đường hẻm 5 Ngô Gia Tự phường Thanh Sơn bị tắt cả tuần nay"


def test_a_voicemail_is_transcribed_with_no_connection_or_transaction_open(
    engine: Engine, openness: Openness, tmp_path: Path
) -> None:
    call_id = a_call(
        engine, "1795000300.1", outcome="voicemail", voicemail_file=str(audio_file(tmp_path / "vm.wav"))
    )
    recogniser = ListeningRecogniser(openness, WORDS)
    ticket = voicemail.transcribe_voicemail(call_id, recogniser, engine)
    assert openness.seen == [(0, 0)]
    assert ticket.description == WORDS
    # once filed, a repeat (a redelivered task) neither listens again nor files a second ticket
    assert voicemail.transcribe_voicemail(call_id, recogniser, engine).id == ticket.id
    assert openness.seen == [(0, 0)]
    with unit_of_work(engine) as session:
        assert session.exec(select(CallTicket.ticket_id).where(CallTicket.call_id == call_id)).all() == [
            ticket.id
        ]


def test_a_recorded_call_is_transcribed_with_no_connection_or_transaction_open(
    engine: Engine, openness: Openness, tmp_path: Path
) -> None:
    call_id = a_call(engine, "1795000300.2", recording_file=str(audio_file(tmp_path / "rec.wav")))
    done = voicemail.transcribe_recording(call_id, ListeningRecogniser(openness, "alo"), engine)
    assert openness.seen == [(0, 0)]
    assert (done.transcript, done.transcription_status) == ("alo", "done")


@pytest.fixture
def listening_source(openness: Openness) -> Iterator[str]:
    async def air(_: Request) -> Response:
        openness.note()  # the worker is waiting for this answer right now
        return JSONResponse({"metrics": [{"metric": "pm25", "dimension": "phan-rang", "value": 42}]})

    with serve(Starlette(routes=[Route("/air.json", air)])) as base:
        yield base


def test_an_ioc_source_is_asked_with_no_connection_or_transaction_open(
    engine: Engine, openness: Openness, listening_source: str
) -> None:
    with unit_of_work(engine) as session:
        ioc.seed(session)
        connector = session.get(Connector, "environment")
        assert connector is not None
        connector.kind, connector.url = "http_json", f"{listening_source}/air.json"
    with httpx.Client(timeout=5) as http:
        assert ioc.pull_connector("environment", http, utcnow(), engine) == 1
    assert openness.seen == [(0, 0)]
    with unit_of_work(engine) as session:
        assert session.exec(
            select(MetricPoint.value).where(MetricPoint.subsystem == "environment")
        ).all() == [42]
        connector = session.get(Connector, "environment")
        assert connector is not None and connector.last_success_at is not None


def test_trying_an_ioc_source_from_the_admin_api_holds_no_transaction(
    client: TestClient, engine: Engine, admin: dict[str, str], openness: Openness, listening_source: str
) -> None:
    with unit_of_work(engine) as session:
        ioc.seed(session)
        connector = session.get(Connector, "environment")
        assert connector is not None
        connector.kind, connector.url = "http_json", f"{listening_source}/air.json"
    tried = client.post("/api/v1/ioc/connectors/environment/test", headers=admin).json()
    assert tried["ok"] is True and tried["readings"] == [
        {"metric": "pm25", "dimension": "phan-rang", "value": 42}
    ]
    assert openness.seen == [(0, 0)]

"""What reaches us through a channel, however odd: old or future timestamps, messages longer than a
ticket's description, control characters, and authentic deliveries of a shape we cannot read."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

from fakes import APP_ID, PAGE_ID, GraphState, ZaloState
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select
from test_channels import (
    OA_SECRET_KEY,
    events_of,
    fb_post,
    messenger,
    process_all,
    providers,
    zalo_event,
    zalo_post,
)

from channels.models import EventState, InboundEvent
from channels.web import WebReport, file_report
from kernel.db import unit_of_work
from kernel.timeutil import as_utc, utcnow
from tickets import service as tickets
from tickets.models import Direction, EventKind, Ticket

__all__ = ["providers"]  # the fixture, shared with test_channels
USER = "4100000000000000077"


def _only_ticket(engine: Engine) -> Ticket:
    with unit_of_work(engine) as session:
        ticket = session.exec(select(Ticket)).one()
        session.expunge(ticket)
        return ticket


def test_a_signed_event_from_2020_is_dated_when_we_received_it_with_a_note(
    client: TestClient, engine: Engine, providers: tuple[ZaloState, GraphState]
) -> None:
    old = zalo_event("old-1", USER, "Cống bị tắc ở đường Ngô Gia Tự")
    old["timestamp"] = str(int(datetime(2020, 3, 1, tzinfo=UTC).timestamp() * 1000))
    assert zalo_post(client, old).status_code == 200
    process_all(engine)
    ticket = _only_ticket(engine)
    assert f"-{utcnow().year}-" in ticket.code and "-2020-" not in ticket.code
    assert utcnow() - as_utc(ticket.created_at) < timedelta(minutes=5)
    with unit_of_work(engine) as session:
        notes = [e.note or "" for e in events_of(session, ticket.id or 0) if e.kind == EventKind.COMMENT]
        assert any("2020-03-01" in note for note in notes)
        assert not any(e.public for e in events_of(session, ticket.id or 0) if e.kind == EventKind.COMMENT)
        assert not [e for e in events_of(session, ticket.id or 0) if e.kind == EventKind.SLA_BREACH]


def test_a_future_timestamp_is_re_dated_and_a_recent_one_is_kept(
    client: TestClient, engine: Engine, providers: tuple[ZaloState, GraphState]
) -> None:
    future = zalo_event("future-1", USER, "Đèn đường hỏng")
    future["timestamp"] = str(int((utcnow() + timedelta(days=400)).timestamp() * 1000))
    assert zalo_post(client, future).status_code == 200
    recent_at = utcnow() - timedelta(hours=3)
    recent = messenger("m_recent", "6500000000000077", "Ổ gà trên đường 16 tháng 4")
    recent["entry"][0]["messaging"][0]["timestamp"] = int(recent_at.timestamp() * 1000)
    assert fb_post(client, recent).status_code == 200
    process_all(engine)
    with unit_of_work(engine) as session:
        by_channel = {t.origin_channel: t for t in session.exec(select(Ticket)).all()}
        assert as_utc(by_channel["zalo"].created_at) <= utcnow()
        kept = as_utc(by_channel["facebook"].created_at)
        assert abs(kept - recent_at) < timedelta(seconds=1)  # within the window: the provider's time


def test_a_6000_character_message_is_kept_whole_and_makes_a_ticket(
    client: TestClient, engine: Engine, providers: tuple[ZaloState, GraphState]
) -> None:
    text = ("Nước thải tràn ra đường Thống Nhất, hẻm 45, đã ba ngày chưa ai xử lý. " * 90)[:6000]
    assert len(text) == 6000
    assert zalo_post(client, zalo_event("long-1", USER, text)).status_code == 200
    [event] = process_all(engine)
    assert event.state == EventState.DONE
    with unit_of_work(engine) as session:
        ticket = session.exec(select(Ticket)).one()
        assert len(ticket.description) <= 5000 and ticket.description.endswith("toàn văn trong hội thoại]")
        [opening] = [
            m for m in tickets.messages_of(session, ticket.id or 0) if m.direction == Direction.INBOUND
        ]
        assert opening.text == text.strip()


def test_nul_and_control_characters_are_stripped_at_intake(
    client: TestClient, engine: Engine, providers: tuple[ZaloState, GraphState]
) -> None:
    body = zalo_event("nul\x00-1", USER, "Rác\x00 ở chợ\x1b[31m Phan Rang\ndòng hai\u0085")
    assert zalo_post(client, body).status_code == 200
    [event] = process_all(engine)
    assert event.state == EventState.DONE and event.event_key == "nul-1"
    ticket = _only_ticket(engine)
    assert ticket.description == "Rác ở chợ[31m Phan Rang\ndòng hai"


def _zalo_signed(client: TestClient, raw: bytes, timestamp: str) -> int:
    mac = hashlib.sha256(APP_ID.encode() + raw + timestamp.encode() + OA_SECRET_KEY.encode()).hexdigest()
    return client.post(
        "/webhooks/zalo", content=raw, headers={"X-ZEvent-Signature": f"mac={mac}"}
    ).status_code


def test_authentic_deliveries_of_an_odd_shape_are_dead_letters_answered_200(
    client: TestClient, engine: Engine, admin: dict[str, str], providers: tuple[ZaloState, GraphState]
) -> None:
    odd_facebook = [
        {"object": "page", "entry": 5},
        {"object": "page", "entry": [{"id": PAGE_ID, "messaging": 7}]},
        {"object": "page", "entry": [{"id": PAGE_ID, "changes": [{"field": "feed", "value": "x"}]}]},
    ]
    for body in odd_facebook:
        assert fb_post(client, body).status_code == 200
        assert fb_post(client, body).status_code == 200  # a resend is stored once
    string_sender = {**zalo_event("odd-1", USER, "x"), "sender": "4100000000000000077"}
    assert zalo_post(client, string_sender).status_code == 200
    with unit_of_work(engine) as session:
        dead = session.exec(select(InboundEvent).where(InboundEvent.state == EventState.DEAD)).all()
        assert len(dead) == 4
        assert all("Error" in (e.last_error or "") for e in dead)  # the reason, with what was raised
        assert {e.channel for e in dead} == {"facebook", "zalo"}
    listed = client.get("/api/v1/channels/dead-letters", headers=admin)
    assert listed.status_code == 200 and len(listed.json()) == 4
    replay = client.post(f"/api/v1/channels/dead-letters/{listed.json()[0]['id']}/replay", headers=admin)
    assert replay.status_code == 409 and "không đọc được" in replay.json()["detail"]


def test_a_timestamp_past_year_9999_is_received_now_not_a_500(
    client: TestClient, engine: Engine, providers: tuple[ZaloState, GraphState]
) -> None:
    body = {**zalo_event("far-1", USER, "Cây đổ chắn đường"), "timestamp": 1e30}
    raw = json.dumps(body, ensure_ascii=False).encode()
    assert _zalo_signed(client, raw, str(1e30)) == 200
    fb = messenger("m_far", "6500000000000078", "Cây đổ")
    fb["entry"][0]["messaging"][0]["timestamp"] = 10**30
    assert fb_post(client, fb).status_code == 200
    process_all(engine)
    with unit_of_work(engine) as session:
        created = [as_utc(t.created_at) for t in session.exec(select(Ticket)).all()]
        assert len(created) == 2 and all(utcnow() - moment < timedelta(minutes=5) for moment in created)


def test_a_body_with_nan_is_refused_as_not_json(
    client: TestClient, providers: tuple[ZaloState, GraphState]
) -> None:
    raw = b'{"app_id": "%s", "timestamp": "1", "x": NaN}' % APP_ID.encode()
    assert _zalo_signed(client, raw, "1") == 400


def test_the_web_form_strips_control_characters_too(engine: Engine) -> None:
    report = WebReport(
        submission_id="nul-web-1", text="Ngập\x00 nước\x07 ở Yên Ninh", address="12\x00 Yên Ninh"
    )
    with unit_of_work(engine) as session:
        ticket = file_report(session, report)
        assert ticket.description == "Ngập nước ở Yên Ninh" and ticket.address_text == "12 Yên Ninh"


def test_a_batched_delivery_is_stored_once_per_event_even_repeated_inside_and_redelivered(
    client: TestClient, engine: Engine, providers: tuple[ZaloState, GraphState]
) -> None:
    """The events of one delivery go in one INSERT: an event repeated inside the batch, and the whole
    batch delivered again, store nothing twice and make no second ticket."""
    batch = messenger("m-batch-1", "6100000000000000001", "Đèn đường hỏng ở đường Thống Nhất")
    second = messenger("m-batch-2", "6100000000000000002", "Rác ùn ứ ở chợ Phan Rang")
    events = batch["entry"][0]["messaging"]
    events.extend([second["entry"][0]["messaging"][0], dict(events[0])])  # the first one twice
    answer = fb_post(client, batch)
    assert answer.status_code == 200 and answer.json() == {"received": 3, "stored": 2}
    assert fb_post(client, batch).json() == {"received": 3, "stored": 0}
    with unit_of_work(engine) as session:
        keys = sorted(e.event_key for e in session.exec(select(InboundEvent)).all())
    assert keys == ["m-batch-1", "m-batch-2"]
    process_all(engine)
    with unit_of_work(engine) as session:
        assert len(session.exec(select(Ticket)).all()) == 2

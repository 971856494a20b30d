"""Zalo OA and Facebook Page end to end: the real webhook endpoints with payloads shaped and signed as
the providers do, processing into tickets, and replies through the real clients to fake provider servers
on loopback that check what we send and answer with the real error shapes."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fakes import APP_ID, APP_SECRET, PAGE_ID, GraphState, ZaloState, build_app, serve
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from channels import service, tokens
from channels.models import EventState, InboundEvent, OutboundMessage, OutboxState
from kernel.db import make_engine, unit_of_work
from kernel.settings import get_settings
from kernel.timeutil import utcnow
from notifications import outbox
from notifications.adapters import notifier_for
from routing import triage
from tickets import service as tickets
from tickets.models import Direction, EventKind, Message, Status, Ticket, TicketEvent
from tickets.service import SYSTEM

OA_SECRET_KEY = "oa-secret-key"
FB_APP_SECRET = "fb-app-secret"
FB_APP_ID = "555000000000001"


@pytest.fixture
def providers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ZaloState, GraphState]]:
    zalo, graph = ZaloState(), GraphState()
    with serve(build_app(zalo, graph)) as base:
        settings = {
            "ZALO_APP_ID": APP_ID,
            "ZALO_APP_SECRET": APP_SECRET,
            "ZALO_OA_SECRET_KEY": OA_SECRET_KEY,
            "ZALO_API_BASE": f"{base}/zalo",
            "ZALO_OAUTH_BASE": f"{base}/zalo-oauth",
            "FACEBOOK_APP_SECRET": FB_APP_SECRET,
            "FACEBOOK_APP_ID": FB_APP_ID,
            "FACEBOOK_PAGE_ID": PAGE_ID,
            "FACEBOOK_PAGE_TOKEN": graph.page_token,
            "FACEBOOK_VERIFY_TOKEN": "verify-me",
            "FACEBOOK_GRAPH_BASE": f"{base}/graph",
        }
        for name, value in settings.items():
            monkeypatch.setenv(f"CIVICDESK_{name}", value)
        get_settings.cache_clear()
        yield zalo, graph
    get_settings.cache_clear()


def zalo_event(
    msg_id: str, user: str, text: str = "", name: str = "user_send_text", **extra: Any
) -> dict[str, Any]:
    message: dict[str, Any] = {"msg_id": msg_id, "text": text} if name.startswith("user_send") else {}
    return {
        "app_id": APP_ID,
        "user_id_by_app": "5500000000000000001",
        "event_name": name,
        "timestamp": str(int(utcnow().timestamp() * 1000)),
        "sender": {"id": user},
        "recipient": {"id": "2900000000000000001"},
        "message": message,
        **extra,
    }


def zalo_post(client: TestClient, body: dict[str, Any], *, prefix: str = "mac=") -> httpx.Response:
    raw = json.dumps(body, ensure_ascii=False).encode()
    mac = hashlib.sha256(body["app_id"].encode() + raw + body["timestamp"].encode() + OA_SECRET_KEY.encode())
    return client.post(
        "/webhooks/zalo", content=raw, headers={"X-ZEvent-Signature": prefix + mac.hexdigest()}
    )


def fb_post(client: TestClient, body: dict[str, Any], secret: str = FB_APP_SECRET) -> httpx.Response:
    raw = json.dumps(body, ensure_ascii=False).encode()
    signature = "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return client.post("/webhooks/facebook", content=raw, headers={"X-Hub-Signature-256": signature})


def messenger(mid: str, psid: str, text: str, **message: Any) -> dict[str, Any]:
    now = int(utcnow().timestamp() * 1000)
    return {
        "object": "page",
        "entry": [
            {
                "id": PAGE_ID,
                "time": now,
                "messaging": [
                    {
                        "sender": {"id": psid},
                        "recipient": {"id": PAGE_ID},
                        "timestamp": now,
                        "message": {"mid": mid, "text": text, **message},
                    }
                ],
            }
        ],
    }


def process_all(engine: Engine) -> list[InboundEvent]:
    with unit_of_work(engine) as session:
        ids = session.exec(select(InboundEvent.id).where(InboundEvent.state == EventState.PENDING)).all()
    done = []
    for event_id in ids:
        with unit_of_work(engine) as session:
            event = service.process(session, event_id or 0)
            session.flush()
            session.expunge(event)
            done.append(event)
    return done


def send_all(engine: Engine) -> list[OutboundMessage]:
    with unit_of_work(engine) as session:
        ids = session.exec(
            select(OutboundMessage.id).where(OutboundMessage.state == OutboxState.QUEUED)
        ).all()
        channels = {row.id: row.channel for row in session.exec(select(OutboundMessage)).all()}
    with httpx.Client(timeout=10) as http:
        for outbound_id in ids:
            outbox.send(
                lambda: unit_of_work(engine),
                outbound_id or 0,
                notifier_for(channels[outbound_id], http, engine),
            )
    with unit_of_work(engine) as session:
        rows = list(session.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all())
        for row in rows:
            session.expunge(row)
        return rows


def authorise_zalo(engine: Engine, expires_in: int = 90000) -> None:
    with unit_of_work(engine) as session:
        tokens.store_pair(session, "zalo-access-1", "zalo-refresh-1", expires_in)


def events_of(session: Session, ticket_id: int) -> list[TicketEvent]:
    return list(session.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)).all())


def test_webhooks_refuse_what_is_not_authentic(
    client: TestClient, providers: tuple[ZaloState, GraphState]
) -> None:
    body = zalo_event("m1", "4100000000000000001", "Rác ở hẻm 45 Thống Nhất")
    assert zalo_post(client, body).status_code == 200
    assert zalo_post(client, {**body, "message": {"msg_id": "m2", "text": "x"}}, prefix="").status_code == 200
    raw = json.dumps(body).encode()
    assert (
        client.post("/webhooks/zalo", content=raw, headers={"X-ZEvent-Signature": "mac=00"}).status_code
        == 403
    )
    assert client.post("/webhooks/zalo", content=raw).status_code == 403
    broken = client.post("/webhooks/zalo", content=b"{not json", headers={"X-ZEvent-Signature": "mac=00"})
    assert broken.status_code == 400 and "JSON" in broken.json()["detail"]
    page = messenger("m_a", "6500000000000001", "Đèn hỏng")
    assert fb_post(client, page).status_code == 200
    assert fb_post(client, page, secret="wrong").status_code == 403
    assert client.post("/webhooks/facebook", content=json.dumps(page)).status_code == 403
    signed_garbage = b"[1, 2"
    signature = "sha256=" + hmac.new(FB_APP_SECRET.encode(), signed_garbage, hashlib.sha256).hexdigest()
    bad = client.post(
        "/webhooks/facebook", content=signed_garbage, headers={"X-Hub-Signature-256": signature}
    )
    assert bad.status_code == 400
    ok = client.get(
        "/webhooks/facebook",
        params={"hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"},
    )
    assert ok.status_code == 200 and ok.text == "1158201444"
    assert (
        client.get(
            "/webhooks/facebook",
            params={"hub.mode": "subscribe", "hub.verify_token": "no", "hub.challenge": "1"},
        ).status_code
        == 403
    )


def test_zalo_message_makes_a_ticket_threads_replies_and_answers_on_zalo(
    client: TestClient, engine: Engine, providers: tuple[ZaloState, GraphState]
) -> None:
    zalo, _ = providers
    authorise_zalo(engine)
    user = "4100000000000000001"
    first = zalo_event("msg-1", user, "Rác ở hẻm 45 Thống Nhất phường Phủ Hà chưa thu gom")
    assert zalo_post(client, first).json() == {"received": 1, "stored": 1}
    assert zalo_post(client, first).json() == {"received": 1, "stored": 0}  # Zalo resends: stored once
    process_all(engine)
    sent = send_all(engine)
    assert [o.purpose for o in sent] == ["receipt"] and sent[0].state == OutboxState.SENT
    receipt = zalo.sent[0]
    assert receipt["recipient"] == {"user_id": user} and "PR-" in receipt["message"]["text"]
    assert "/t/" in receipt["message"]["text"]
    with unit_of_work(engine) as session:
        ticket = session.exec(select(Ticket)).one()
        assert ticket.origin_channel == "zalo"
        ticket_id = ticket.id or 0
        tickets.transition(session, ticket_id, Status.TRIAGED, actor=SYSTEM)
        tickets.assign(session, ticket_id, department="tnmt", actor=SYSTEM)
        tickets.transition(session, ticket_id, Status.IN_PROGRESS, actor=SYSTEM)
        tickets.transition(session, ticket_id, Status.WAITING_CITIZEN, actor=SYSTEM, reason="số nhà cụ thể")
    send_all(engine)
    assert "số nhà cụ thể" in zalo.sent[-1]["message"]["text"]
    located = zalo_event(
        "msg-2",
        user,
        name="user_send_location",
        message={
            "msg_id": "msg-2",
            "attachments": [
                {
                    "type": "location",
                    "payload": {"coordinates": {"latitude": "11.5668", "longitude": "108.9881"}},
                }
            ],
        },
    )
    reply = zalo_event("msg-3", user, "Số nhà 47 ạ")
    for body in (located, reply):
        assert zalo_post(client, body).status_code == 200
    process_all(engine)
    with unit_of_work(engine) as session:
        assert len(session.exec(select(Ticket)).all()) == 1  # the replies joined the open ticket
        ticket = tickets.get_ticket(session, ticket_id)
        assert ticket.status == Status.IN_PROGRESS  # the citizen answered: the clock runs again
        assert ticket.latitude == pytest.approx(11.5668)
        texts = [m.text for m in tickets.messages_of(session, ticket_id) if m.direction == Direction.INBOUND]
        assert "Số nhà 47 ạ" in texts


def test_zalo_refreshes_an_expired_token_once_and_records_a_closed_window(
    client: TestClient, engine: Engine, providers: tuple[ZaloState, GraphState]
) -> None:
    zalo, _ = providers
    authorise_zalo(engine)
    zalo.access_token = "rotated-by-zalo"  # our token is no longer valid: Zalo answers -216
    silent = "4100000000000000009"
    zalo.silent_users.add(silent)
    for msg_id, user in (("a", "4100000000000000002"), ("b", silent)):
        assert zalo_post(client, zalo_event(msg_id, user, "Đèn đường tắt ở P. Đạo Long")).status_code == 200
    process_all(engine)
    sent = send_all(engine)
    assert [o.state for o in sent] == [OutboxState.SENT, OutboxState.FAILED]
    assert zalo.refreshes == 1 and "zalo-refresh-1" in zalo.spent_refresh_tokens
    assert "-230" in (sent[1].error or "")
    with unit_of_work(engine) as session:
        failed = [e for e in events_of(session, sent[1].ticket_id or 0) if e.kind == EventKind.REPLY_FAILED]
        assert failed and "7 days" in (failed[0].note or "")
        from channels.models import ChannelToken

        pair = session.get(ChannelToken, "zalo")
        assert pair is not None and pair.refresh_token == zalo.refresh_token  # the new pair was kept


def test_concurrent_refreshes_spend_the_refresh_token_once(
    postgres_url: str, providers: tuple[ZaloState, GraphState]
) -> None:
    """Four workers told at once that the token expired: one refresh, the others use its result."""
    zalo, _ = providers
    engine = make_engine(postgres_url)
    try:
        authorise_zalo(engine)
        with httpx.Client(timeout=10) as http, ThreadPoolExecutor(4) as pool:
            answers = list(pool.map(lambda _: tokens.access_token(engine, http, force=True), range(4)))
        assert zalo.refreshes == 1 and set(answers) == {zalo.access_token}
    finally:
        engine.dispose()


def test_facebook_messages_comments_echoes_and_windows(
    client: TestClient, engine: Engine, providers: tuple[ZaloState, GraphState]
) -> None:
    _, graph = providers
    psid = "6500000000000001"
    assert (
        fb_post(
            client,
            messenger(
                "m_1",
                psid,
                "Đèn đường ở phường Phủ Hà bị hư",
                attachments=[{"type": "image", "payload": {"url": "https://scontent.example/1.jpg"}}],
            ),
        ).status_code
        == 200
    )
    comment = {
        "object": "page",
        "entry": [
            {
                "id": PAGE_ID,
                "time": 1763790100,
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": "add",
                            "comment_id": "1234567890_2222",
                            "post_id": f"{PAGE_ID}_1234567890",
                            "parent_id": f"{PAGE_ID}_1234567890",
                            "created_time": 1763790100,
                            "from": {"id": "7000000000000002", "name": "Nguyen Van A"},
                            "message": "Cống ở Mỹ Hải lại ngập rồi",
                        },
                    }
                ],
            }
        ],
    }
    reaction = {
        "object": "page",
        "entry": [
            {
                "id": PAGE_ID,
                "time": 1,
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "reaction",
                            "verb": "add",
                            "post_id": f"{PAGE_ID}_1",
                            "created_time": 1,
                            "reaction_type": "like",
                            "from": {"id": "7000000000000003"},
                        },
                    }
                ],
            }
        ],
    }
    for body in (comment, reaction):
        assert fb_post(client, body).status_code == 200
    states = {e.event_name: e.state for e in process_all(engine)}
    assert states == {
        "message": EventState.DONE,
        "comment_add": EventState.DONE,
        "feed_reaction": EventState.IGNORED,
    }
    sent = send_all(engine)
    assert all(o.state == OutboxState.SENT for o in sent)
    by_recipient = {json.dumps(body["recipient"]): body for body in graph.sent}
    assert by_recipient[json.dumps({"id": psid})]["messaging_type"] == "RESPONSE"
    assert json.dumps({"comment_id": "1234567890_2222"}) in by_recipient  # a private reply to the comment
    echo = messenger(
        sent[0].provider_message_id or "m_x", PAGE_ID, "receipt", is_echo=True, app_id=int(FB_APP_ID)
    )
    echo["entry"][0]["messaging"][0]["recipient"] = {"id": psid}
    fb_post(client, echo)
    process_all(engine)
    with unit_of_work(engine) as session:
        assert len(session.exec(select(Ticket)).all()) == 2  # the echo made no report
        ticket = session.exec(select(Ticket).where(Ticket.origin_channel == "facebook")).first()
        assert ticket is not None
        # three days since the person's last message: only the HUMAN_AGENT tag may reach them
        session.execute(
            update(Message)
            .where(Message.ticket_id == ticket.id)
            .values(  # type: ignore[arg-type]
                created_at=utcnow() - timedelta(days=3)
            )
        )
        tickets.add_comment(
            session,
            ticket.id or 0,
            text="Đội điện đã thay bóng.",
            public=True,
            actor=tickets.Actor.staff(_staff(session)),
        )
    send_all(engine)
    assert graph.sent[-1]["messaging_type"] == "MESSAGE_TAG" and graph.sent[-1]["tag"] == "HUMAN_AGENT"
    with unit_of_work(engine) as session:
        session.execute(
            update(Message)
            .where(Message.ticket_id == ticket.id)
            .values(  # type: ignore[arg-type]
                created_at=utcnow() - timedelta(days=9)
            )
        )
        tickets.add_comment(
            session,
            ticket.id or 0,
            text="Cảm ơn bạn.",
            public=True,
            actor=tickets.Actor.staff(_staff(session)),
        )
    before = len(graph.sent)
    assert len(send_all(engine)) == len(sent) + 1  # nine days on, no route: nothing is queued…
    assert len(graph.sent) == before
    with unit_of_work(engine) as session:
        failed = [e for e in events_of(session, ticket.id or 0) if e.kind == EventKind.REPLY_FAILED]
        assert "Messenger" in (failed[-1].note or "")  # …and the timeline says why


def _staff(session: Session) -> Any:
    from tickets.staff import User, create_user

    existing = session.exec(select(User).where(User.username == "fb-agent")).first()
    return existing or create_user(session, username="fb-agent", password="secret-pass", role="agent")


def test_graph_errors_expired_token_and_rate_limit(
    client: TestClient, engine: Engine, providers: tuple[ZaloState, GraphState]
) -> None:
    _, graph = providers
    fb_post(client, messenger("m_9", "6500000000000009", "Nước ngập ở P. Đô Vinh"))
    process_all(engine)
    graph.rate_limited = True
    first = send_all(engine)[0]
    assert first.state == OutboxState.QUEUED and "613" in (first.error or "")  # back off and try again
    graph.rate_limited = False
    graph.page_token = "a-new-token-the-page-was-reauthorised-with"
    second = send_all(engine)[0]
    assert second.state == OutboxState.FAILED and "re-authorise" in (second.error or "")


def test_dead_letters_are_listed_and_replayed(
    client: TestClient, engine: Engine, admin: dict[str, str], providers: tuple[ZaloState, GraphState]
) -> None:
    zalo_post(client, zalo_event("dead-1", "4100000000000000005", "Ổ gà ở P. Kinh Dinh"))
    with unit_of_work(engine) as session:
        event = session.exec(select(InboundEvent)).one()
        service.park(session, event.id or 0, "RuntimeError('database was down')")
    listed = client.get("/api/v1/channels/dead-letters", headers=admin).json()
    assert [row["event_key"] for row in listed] == ["dead-1"]
    replayed = client.post(f"/api/v1/channels/dead-letters/{listed[0]['id']}/replay", headers=admin)
    assert replayed.status_code == 200 and replayed.json()["state"] == "pending"
    assert (
        client.post(f"/api/v1/channels/dead-letters/{listed[0]['id']}/replay", headers=admin).status_code
        == 409
    )
    process_all(engine)
    with unit_of_work(engine) as session:
        assert session.exec(select(InboundEvent)).one().state == EventState.DONE


def test_templates_are_editable_by_admins(
    client: TestClient,
    engine: Engine,
    admin: dict[str, str],
    make_user: Callable[..., dict[str, str]],
    providers: tuple[ZaloState, GraphState],
) -> None:
    zalo, _ = providers
    authorise_zalo(engine)
    new = {"text_vi": "Đã nhận phản ánh {code}. Xem: {link}"}
    assert (
        client.put("/api/v1/channels/templates/receipt", json=new, headers=make_user("agent")).status_code
        == 403
    )
    assert (
        client.put(
            "/api/v1/channels/templates/receipt", json={"text_vi": "{nope}"}, headers=admin
        ).status_code
        == 422
    )
    assert client.put("/api/v1/channels/templates/receipt", json=new, headers=admin).status_code == 200
    zalo_post(client, zalo_event("t-1", "4100000000000000007", "Chó thả rông ở P. Mỹ Hải"))
    process_all(engine)
    send_all(engine)
    assert zalo.sent[-1]["message"]["text"].startswith("Đã nhận phản ánh PR-")


def test_staff_split_a_message_off_and_edited_comments_join_their_ticket(
    client: TestClient, engine: Engine, admin: dict[str, str], providers: tuple[ZaloState, GraphState]
) -> None:
    user = "4100000000000000011"
    zalo_post(client, zalo_event("s-1", user, "Đèn đường tắt ở P. Phủ Hà"))
    zalo_post(client, zalo_event("s-2", user, "À còn nữa, chó thả rông cắn người ở hẻm 3"))
    process_all(engine)
    with unit_of_work(engine) as session:
        ticket = session.exec(select(Ticket)).one()
        second = [m for m in tickets.messages_of(session, ticket.id or 0) if m.provider_message_id == "s-2"][
            0
        ]
        first = [m for m in tickets.messages_of(session, ticket.id or 0) if m.provider_message_id == "s-1"][0]
    refused = client.post(f"/api/v1/tickets/{ticket.id}/messages/{first.id}/split", headers=admin)
    assert refused.status_code == 409
    made = client.post(f"/api/v1/tickets/{ticket.id}/messages/{second.id}/split", headers=admin)
    assert made.status_code == 201
    moved = client.get(f"/api/v1/tickets/{made.json()['id']}/messages", headers=admin).json()
    assert [m["text"] for m in moved] == ["À còn nữa, chó thả rông cắn người ở hẻm 3"]
    remaining = client.get(f"/api/v1/tickets/{ticket.id}/messages", headers=admin).json()
    assert [m["provider_message_id"] for m in remaining] == ["s-1"]
    comment = {
        "object": "page",
        "entry": [
            {
                "id": PAGE_ID,
                "time": 1,
                "changes": [
                    {
                        "field": "feed",
                        "value": {
                            "item": "comment",
                            "verb": "add",
                            "comment_id": "99_1",
                            "post_id": f"{PAGE_ID}_99",
                            "created_time": 1763790100,
                            "from": {"id": "7000000000000009"},
                            "message": "Ngập ở Mỹ Hải",
                        },
                    }
                ],
            }
        ],
    }
    edited = json.loads(json.dumps(comment))
    edited["entry"][0]["changes"][0]["value"].update(
        verb="edited", message="Ngập nặng ở Mỹ Hải", created_time=1763790200
    )
    for body in (comment, edited):
        fb_post(client, body)
    process_all(engine)
    with unit_of_work(engine) as session:
        facebook_tickets = session.exec(select(Ticket).where(Ticket.origin_channel == "facebook")).all()
        assert len(facebook_tickets) == 1
        texts = [m.text for m in tickets.messages_of(session, facebook_tickets[0].id or 0)]
        assert any("Ngập nặng" in text for text in texts)


def test_an_unconfigured_channel_is_said_on_the_timeline_not_retried(
    client: TestClient, engine: Engine
) -> None:
    from tickets.citizens import Contact

    get_settings.cache_clear()  # no Zalo credentials in this environment
    with unit_of_work(engine) as session:
        ticket = tickets.create_ticket(
            session,
            tickets.NewTicket(description="Rác ở P. Phủ Hà", channel="zalo", contact=Contact(zalo_id="41")),
        )
        kinds = [e.kind for e in events_of(session, ticket.id or 0)]
        assert EventKind.REPLY_FAILED in kinds
        assert session.exec(select(OutboundMessage)).first() is None


OUR_LOGGERS = ("channels", "tickets", "notifications", "routing", "sla", "telephony")


def test_intake_and_outbound_log_their_decisions_and_no_personal_data(
    client: TestClient,
    engine: Engine,
    providers: tuple[ZaloState, GraphState],
    caplog: pytest.LogCaptureFixture,
) -> None:
    authorise_zalo(engine)
    user = "4100000000000000777"
    words = "Đèn đường hẻm 12 Ngô Gia Tự phường Thanh Sơn tắt cả tuần, gọi tôi 0905123456"
    body = zalo_event("msg-log-1", user, words)
    with caplog.at_level(logging.INFO):
        assert zalo_post(client, body).json() == {"received": 1, "stored": 1}
        assert zalo_post(client, body).json() == {"received": 1, "stored": 0}
        process_all(engine)
        sent = send_all(engine)
        with unit_of_work(engine) as session:
            code, ticket_id = session.exec(select(Ticket.code, Ticket.id)).one()
            triage.apply(session, ticket_id or 0)

    def fields(event: str, *names: str) -> list[tuple[Any, ...]]:
        return [tuple(getattr(r, n) for n in names) for r in caplog.records if r.msg == event]

    assert fields("intake events stored", "channel", "received", "stored", "duplicates") == [
        ("zalo", 1, 1, 0),
        ("zalo", 1, 0, 1),  # the provider's resend: a dedup hit
    ]
    assert fields("ticket created", "ticket", "channel", "citizen_known") == [(code, "zalo", True)]
    assert fields("intake event processed", "channel", "outcome", "ticket") == [("zalo", "ticket", code)]
    assert fields("outbound queued", "ticket", "route", "purpose") == [
        (code, "zalo", "receipt"),
        (code, "zalo", "status_assigned"),  # queued by the routing; sent by a later task
    ]
    assert fields("outbound sent", "outbound_id", "channel", "ok") == [(sent[0].id, "zalo", True)]
    assert fields("triage decision", "ticket", "category", "ward", "outcome") == [
        (code, "street_lighting", "phan-rang", "routed")  # Thanh Sơn is part of Phan Rang since 2025
    ]
    assert fields("routing rule applied", "ticket", "category", "department", "ward_level") == [
        (code, "street_lighting", "qldt", False)
    ]
    ours = [r for r in caplog.records if r.name.split(".")[0] in OUR_LOGGERS]
    assert len(ours) >= 6
    for record in ours:
        rendered = record.getMessage() + json.dumps(vars(record), default=str, ensure_ascii=False)
        for personal in (user, "0905123456", "84905123456", "Ngô Gia Tự", words):
            assert personal not in rendered, (record.msg, personal)

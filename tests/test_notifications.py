"""Telling the citizen on every route, end to end: a real SMTP server on loopback (aiosmtpd), fake ZNS and
SMS-aggregator servers following the providers' contracts, the fake Graph API of test_channels; the
real web form, status page and admin API; the outbox sent with the real adapters."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from email.message import EmailMessage

import httpx
import pytest
from fakes import serve
from fastapi.testclient import TestClient
from notify_fakes import EsmsState, ZnsState, build_app, smtp_server
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select
from test_channels import authorise_zalo, events_of, fb_post, providers  # noqa: F401 - a fixture

from channels.models import OutboundMessage, OutboxState
from kernel.db import unit_of_work
from kernel.settings import get_settings
from kernel.timeutil import city_tz, utcnow
from notifications import outbox
from notifications import service as notifications
from notifications.adapters import notifier_for
from sla.models import ClockState, SlaClock
from tickets import service as tickets
from tickets.citizens import Contact
from tickets.models import Citizen, EventKind, Priority, Status, Ticket
from tickets.service import CITIZEN, NewTicket

Settings = Callable[..., None]


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    """Set CIVICDESK_ settings for one test; by default no SMS quiet hours (tests do not read the clock)."""

    def set_(**values: object) -> None:
        for name, value in values.items():
            monkeypatch.setenv(f"CIVICDESK_{name.upper()}", str(value))
        get_settings.cache_clear()

    set_(sms_quiet_hours="")
    yield set_
    get_settings.cache_clear()


@pytest.fixture
def mail(configure: Settings) -> Iterator[list[EmailMessage]]:
    with smtp_server() as (inbox, port):
        configure(email_mode="real", smtp_host="127.0.0.1", smtp_port=port)
        yield inbox.messages


@pytest.fixture
def paid(configure: Settings, engine: Engine) -> Iterator[tuple[ZnsState, EsmsState]]:
    zns, esms = ZnsState(), EsmsState()
    with serve(build_app(zns, esms)) as base:
        configure(
            zns_mode="real",
            zns_api_base=f"{base}/zns",
            sms_mode="real",
            sms_api_base=f"{base}/esms",
            sms_api_key=esms.api_key,
            sms_secret_key=esms.secret_key,
        )
        authorise_zalo(engine)  # ZNS uses the OA's access token
        yield zns, esms


def deliver(engine: Engine) -> list[OutboundMessage]:
    """What a worker does: send every message that is due, until none is (a failed route may queue the
    next); then every outbox row."""
    for _ in range(5):
        with unit_of_work(engine) as session:
            due = session.exec(
                select(OutboundMessage.id, OutboundMessage.channel)
                .where(OutboundMessage.state == OutboxState.QUEUED)
                .order_by(col(OutboundMessage.id))
            ).all()
        with httpx.Client(timeout=10) as http:
            for outbound_id, channel in due:
                outbox.send(
                    lambda: unit_of_work(engine), outbound_id or 0, notifier_for(channel, http, engine)
                )
        if not due:
            break
    with unit_of_work(engine) as session:
        rows = list(session.exec(select(OutboundMessage).order_by(col(OutboundMessage.id))).all())
        for row in rows:
            session.expunge(row)
        return rows


def staff(session: Session) -> tickets.Actor:
    from tickets.staff import User, create_user

    user = session.exec(select(User).where(User.username == "qldt-staff")).first() or create_user(
        session, username="qldt-staff", password="secret-pass", role="admin"
    )
    return tickets.Actor.staff(user)


def ask(engine: Engine, ticket_id: int, question: str) -> None:
    with unit_of_work(engine) as session:
        tickets.transition(session, ticket_id, Status.WAITING_CITIZEN, actor=staff(session), reason=question)


def citizen_answers(client: TestClient, engine: Engine, ticket_id: int, text: str) -> None:
    """The citizen answers with the status page's form, as a person would."""
    with unit_of_work(engine) as session:
        token = tickets.get_ticket(session, ticket_id).tracking_token
    answered = client.post(
        f"/t/{token}/reply", data={"text": text, "submission_id": uuid.uuid4().hex}, follow_redirects=False
    )
    assert answered.status_code == 303, answered.text


def resolve(engine: Engine, ticket_id: int, summary: str) -> None:
    with unit_of_work(engine) as session:
        ticket = tickets.get_ticket(session, ticket_id)
        if ticket.status != Status.IN_PROGRESS:
            tickets.transition(session, ticket_id, Status.IN_PROGRESS, actor=staff(session))
        tickets.transition(session, ticket_id, Status.RESOLVED, actor=staff(session), reason=summary)


def web_report(client: TestClient, engine: Engine, **fields: str) -> tuple[int, str]:
    form = {"text": "Đèn đường trước số 12 Thống Nhất bị tắt", "submission_id": uuid.uuid4().hex, **fields}
    answer = client.post("/report", data=form, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    token = answer.headers["location"].split("/t/")[1].split("?")[0]
    with unit_of_work(engine) as session:
        ticket = tickets.get_ticket_by_token(session, token)
        return ticket.id or 0, token


def one_per_event_and_route(rows: list[OutboundMessage]) -> None:
    keys = [row.event_key for row in rows]
    assert None not in keys and len(keys) == len(set(keys))


def test_web_report_with_email_follows_the_whole_chain_over_real_smtp(
    client: TestClient, engine: Engine, mail: list[EmailMessage]
) -> None:
    ticket_id, token = web_report(client, engine, email="nguoidan@example.vn")
    rows = deliver(engine)
    link = f"{get_settings().public_base_url}/t/{token}"
    with unit_of_work(engine) as session:
        code = tickets.get_ticket(session, ticket_id).code
    receipt = mail[0]
    assert receipt["To"] == "nguoidan@example.vn" and receipt.get_content_type() == "multipart/alternative"
    text = receipt.get_body(("plain",))
    html = receipt.get_body(("html",))
    assert text is not None and html is not None
    assert code in text.get_content() and link in text.get_content() and link in html.get_content()
    assert receipt["Message-ID"] and receipt["Auto-Submitted"] == "auto-generated"
    assert receipt["List-Unsubscribe"].strip() == f"<{link}/stop-updates>"
    assert receipt["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    ask(engine, ticket_id, "Cột đèn số mấy ạ?")
    deliver(engine)
    question = mail[-1].get_body(("plain",))
    assert question is not None
    assert "Cột đèn số mấy ạ?" in question.get_content() and link in question.get_content()

    citizen_answers(client, engine, ticket_id, "Cột số 14, gần ngã tư.")
    with unit_of_work(engine) as session:
        assert tickets.get_ticket(session, ticket_id).status == Status.IN_PROGRESS
        clocks = session.exec(select(SlaClock).where(SlaClock.ticket_id == ticket_id)).all()
        assert clocks and all(c.state != ClockState.PAUSED for c in clocks)
        assert any(c.state == ClockState.RUNNING for c in clocks)  # the clock runs again

    resolve(engine, ticket_id, "Đã thay bóng đèn cột số 14.")
    rows = deliver(engine)
    summary = mail[-1].get_body(("plain",))
    assert summary is not None and "Đã thay bóng đèn cột số 14." in summary.get_content()
    assert "Đã thay bóng đèn cột số 14." in client.get(f"/t/{token}").text  # and the status page shows it

    reopened = client.post(f"/t/{token}/reopen", data={"reason": "Đèn lại tắt rồi"}, follow_redirects=False)
    assert reopened.status_code == 303
    rows = deliver(engine)
    acknowledged = mail[-1].get_body(("plain",))
    assert acknowledged is not None and "mở lại" in acknowledged.get_content()
    assert "Đèn lại tắt rồi" not in acknowledged.get_content()  # their own words are not read back

    one_per_event_and_route(rows)
    assert all(row.state == OutboxState.SENT and row.channel == "email" for row in rows)
    assert len(mail) == len(rows)  # each event once, however often the outbox is worked
    deliver(engine)
    assert len(mail) == len(rows)
    purposes = [row.purpose for row in rows]
    assert {"receipt", "status_waiting_citizen", "status_resolved", "status_reopened"} <= set(purposes)
    with unit_of_work(engine) as session:
        sent = [e for e in events_of(session, ticket_id) if e.kind == EventKind.REPLY_SENT]
        assert len(sent) == len(rows) and all(not e.public and e.data["channel"] == "email" for e in sent)
        assert sent[0].note == "receipt → email (smtp)"  # the route used, on the staff timeline


def _ticket(engine: Engine, draft: NewTicket) -> int:
    with unit_of_work(engine) as session:
        return tickets.create_ticket(session, draft).id or 0


def _chain(client: TestClient, engine: Engine, ticket_id: int) -> None:
    ask(engine, ticket_id, "Ổ gà ở trước số nhà nào?")
    deliver(engine)
    citizen_answers(client, engine, ticket_id, "Trước số 45.")
    resolve(engine, ticket_id, "Đã vá ổ gà.")


def test_zalo_user_outside_the_window_gets_zns_and_a_phone_only_citizen_sms(
    client: TestClient,
    engine: Engine,
    admin: dict[str, str],
    providers: tuple[object, object],  # noqa: F811 - the fixture
    paid: tuple[ZnsState, EsmsState],
) -> None:
    zns, esms = paid
    order = client.put(
        "/api/v1/citizen-notifications/fallback-order", json={"order": ["zns", "sms", "email"]}, headers=admin
    )
    assert order.status_code == 200 and order.json() == {"order": ["zns", "sms", "email"]}
    assert (
        client.put(
            "/api/v1/citizen-notifications/fallback-order", json={"order": ["fax"]}, headers=admin
        ).status_code
        == 422
    )
    # a Zalo user who also gave their phone (user_submit_info) and last wrote eight days ago
    zalo_ticket = _ticket(
        engine,
        NewTicket(
            description="Ổ gà lớn trên đường 16/4",
            channel="zalo",
            category="road_damage",
            contact=Contact(zalo_id="4100000000000000042", phone="0905123456"),
            created_at=utcnow() - timedelta(days=8),
        ),
    )
    # a caller known only by their number, which has no Zalo account: ZNS fails, SMS follows
    zns.without_zalo.add("84912345678")
    phone_ticket = _ticket(
        engine,
        NewTicket(
            description="Ổ gà trước chợ Phan Rang",
            channel="phone",
            category="road_damage",
            contact=Contact(phone="0912345678"),
        ),
    )
    for ticket_id in (zalo_ticket, phone_ticket):
        deliver(engine)
        _chain(client, engine, ticket_id)
    rows = deliver(engine)
    one_per_event_and_route(rows)

    zalo_rows = [r for r in rows if r.ticket_id == zalo_ticket]
    assert {r.channel for r in zalo_rows} == {"zns"} and all(r.state == OutboxState.SENT for r in zalo_rows)
    assert [b["phone"] for b in zns.sent] == ["84905123456"] * len(zalo_rows)  # never the closed OA window
    assert {b["tracking_id"] for b in zns.sent} == {r.event_key for r in zalo_rows}
    assert all(b["template_data"]["ma_phan_anh"].startswith("PR-") for b in zns.sent)
    assert any(b["template_data"]["noi_dung"] == "Đã vá ổ gà." for b in zns.sent)

    phone_rows = [r for r in rows if r.ticket_id == phone_ticket]
    refused = [r for r in phone_rows if r.channel == "zns"]
    texted = [r for r in phone_rows if r.channel == "sms"]
    assert refused and all(r.state == OutboxState.FAILED and "-118" in (r.error or "") for r in refused)
    assert len(texted) == len(refused) and all(r.state == OutboxState.SENT for r in texted)
    assert [b["Phone"] for b in esms.sent] == ["0912345678"] * len(texted)
    assert any("Da va o ga." in b["Content"] for b in esms.sent)  # without diacritics, as brandname SMS go

    with unit_of_work(engine) as session:
        events = events_of(session, phone_ticket)
        assert any(e.kind == EventKind.REPLY_FAILED and "-118" in (e.note or "") for e in events)
        assert any(e.kind == EventKind.REPLY_SENT and e.data.get("channel") == "sms" for e in events)

    costs = client.get("/api/v1/citizen-notifications/costs", headers=admin).json()
    assert {(c["department_code"], c["route"]) for c in costs} == {("qldt", "zns"), ("qldt", "sms")}
    by_route = {c["route"]: c for c in costs}
    assert by_route["zns"]["messages"] == len(zalo_rows)
    assert by_route["zns"]["cost_vnd"] == len(zalo_rows) * get_settings().zns_cost_vnd
    assert by_route["sms"]["messages"] == len(texted)
    csv_answer = client.get("/api/v1/citizen-notifications/costs.csv", headers=admin)
    assert csv_answer.status_code == 200 and "qldt,sms" in csv_answer.text


def test_a_provider_error_stays_in_the_outbox_with_its_reason(
    client: TestClient, engine: Engine, paid: tuple[ZnsState, EsmsState], configure: Settings
) -> None:
    _, esms = paid
    configure(notify_fallback_order="sms")
    esms.brandnames.clear()  # the brandname is not registered (yet) with the carriers
    ticket_id = _ticket(
        engine, NewTicket(description="Ngập ở Mỹ Hải", channel="phone", contact=Contact(phone="0912000111"))
    )
    (row,) = deliver(engine)
    assert row.state == OutboxState.FAILED and row.error == "eSMS CodeResult 104: Brandname not registered"
    with unit_of_work(engine) as session:
        failed = [e for e in events_of(session, ticket_id) if e.kind == EventKind.REPLY_FAILED]
        assert failed[0].note == row.error and not failed[0].public


def test_smtp_down_keeps_the_message_queued_for_a_retry(engine: Engine, configure: Settings) -> None:
    from fakes import free_port

    configure(email_mode="real", smtp_host="127.0.0.1", smtp_port=free_port())  # nobody listens there
    _ticket(engine, NewTicket(description="Rác ở P. Đô Vinh", contact=Contact(email="a@example.vn")))
    (row,) = deliver(engine)
    assert row.state == OutboxState.QUEUED and "SMTP" in (row.error or "")


def test_a_citizen_who_stopped_updates_gets_none(
    client: TestClient, engine: Engine, mail: list[EmailMessage]
) -> None:
    ticket_id, token = web_report(client, engine, email="im-lang@example.vn")
    page = client.get(f"/t/{token}")
    assert page.text.count(f'action="/t/{token}/stop-updates"') == 1
    assert "stop-updates" not in page.text.split("</title>")[0]
    deliver(engine)
    assert len(mail) == 1  # the receipt
    stopped = client.post(f"/t/{token}/stop-updates", follow_redirects=False)
    assert stopped.status_code == 303 and stopped.headers["location"] == f"/t/{token}?m=stopped"
    assert 'data-testid="updates-stopped"' in client.get(stopped.headers["location"]).text
    ask(engine, ticket_id, "Bạn ở phường nào?")
    citizen_answers(client, engine, ticket_id, "Phủ Hà")
    resolve(engine, ticket_id, "Đã sửa.")
    rows = deliver(engine)
    assert len(mail) == 1 and len(rows) == 1
    with unit_of_work(engine) as session:
        citizen = session.exec(select(Citizen)).one()
        assert citizen.updates_stopped_at is not None
    assert client.post("/t/not-a-real-token/stop-updates").status_code == 404


def test_one_click_unsubscribe_drops_what_waits_in_the_outbox(
    client: TestClient, engine: Engine, configure: Settings
) -> None:
    ticket_id, token = web_report(client, engine, email="mot-cham@example.vn")
    answer = client.post(f"/t/{token}/stop-updates", data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 200
    with unit_of_work(engine) as session:
        (row,) = session.exec(select(OutboundMessage)).all()
        assert row.state == OutboxState.FAILED and row.error == notifications.STOPPED_NOTE


def test_sms_waits_for_the_morning_in_quiet_hours_unless_urgent(engine: Engine, configure: Settings) -> None:
    now = utcnow().astimezone(city_tz())
    start, end = (now - timedelta(hours=1)).strftime("%H:%M"), (now + timedelta(hours=1)).strftime("%H:%M")
    configure(sms_mode="simulator", notify_fallback_order="sms", sms_quiet_hours=f"{start}-{end}")
    normal = _ticket(
        engine, NewTicket(description="Chó sủa đêm", channel="phone", contact=Contact(phone="0912000222"))
    )
    urgent = _ticket(
        engine,
        NewTicket(
            description="Cây đổ chắn đường",
            channel="phone",
            priority=Priority.URGENT,
            contact=Contact(phone="0912000333"),
        ),
    )
    deliver(engine)
    with unit_of_work(engine) as session:
        rows = {r.ticket_id: r for r in session.exec(select(OutboundMessage)).all()}
        assert rows[normal].state == OutboxState.QUEUED and rows[normal].not_before is not None
        assert rows[normal].not_before.astimezone(city_tz()).strftime("%H:%M") == end
        assert rows[urgent].state == OutboxState.SENT and rows[urgent].not_before is None
        assert outbox.due_for_sending(session, lost_before=utcnow()) == []  # not yet: the beat sweep waits
        rows[normal].not_before = utcnow() - timedelta(seconds=1)
    with unit_of_work(engine) as session:  # morning: the sweep sends it
        assert outbox.due_for_sending(session, lost_before=utcnow() - timedelta(minutes=2)) == [
            rows[normal].id
        ]
    assert {r.state for r in deliver(engine)} == {OutboxState.SENT}


def test_quiet_hours_cross_midnight(configure: Settings) -> None:
    configure(sms_quiet_hours="21:00-07:00")
    late = datetime(2026, 11, 28, 22, 30, tzinfo=city_tz())
    early = datetime(2026, 11, 29, 6, 0, tzinfo=city_tz())
    morning = datetime(2026, 11, 29, 7, 0, tzinfo=city_tz())
    assert notifications.quiet_until(late) == morning and notifications.quiet_until(early) == morning
    assert notifications.quiet_until(datetime(2026, 11, 29, 12, 0, tzinfo=city_tz())) is None


def test_facebook_one_private_reply_per_comment_no_public_link_no_tag_on_automatic(
    client: TestClient,
    engine: Engine,
    providers: tuple[object, object],  # noqa: F811 - the fixture
) -> None:
    from fakes import PAGE_ID, GraphState

    graph = providers[1]
    assert isinstance(graph, GraphState)
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
                            "comment_id": "1234567890_3333",
                            "post_id": f"{PAGE_ID}_1234567890",
                            "created_time": int(utcnow().timestamp()),
                            "from": {"id": "7000000000000009", "name": "Tran Thi B"},
                            "message": "Cống ở Mỹ Hải lại ngập rồi",
                        },
                    }
                ],
            }
        ],
    }
    assert fb_post(client, comment).status_code == 200
    from test_channels import process_all

    process_all(engine)
    with unit_of_work(engine) as session:
        ticket = session.exec(select(Ticket)).one()
        ticket_id = ticket.id or 0
    # a whole ticket life: receipt, the city's question, an answer, staff replies, resolution, reopen
    deliver(engine)
    ask(engine, ticket_id, "Cống ở hẻm nào?")
    citizen_answers(client, engine, ticket_id, "Hẻm 12")
    with unit_of_work(engine) as session:
        tickets.add_comment(
            session, ticket_id, text="Đội thoát nước đang tới.", public=True, actor=staff(session)
        )
    resolve(engine, ticket_id, "Đã nạo vét cống.")
    with unit_of_work(engine) as session:
        tickets.transition(session, ticket_id, Status.REOPENED, actor=CITIZEN, reason="Vẫn ngập")
    rows = deliver(engine)
    private = [b for b in graph.sent if "comment_id" in b["recipient"]]
    assert len(private) == 1 and "/t/" in private[0]["message"]["text"]  # the receipt, with its link
    assert graph.comment_replies == []  # never a public comment, so never a public tracking link
    assert all(b.get("tag") != "HUMAN_AGENT" for b in graph.sent)
    assert [r.channel for r in rows] == ["facebook"]  # no other route reaches this commenter
    with unit_of_work(engine) as session:
        reasons = [e.note or "" for e in events_of(session, ticket_id) if e.kind == EventKind.REPLY_FAILED]
        assert reasons and all("Messenger" in reason for reason in reasons)


def test_messenger_automatic_updates_never_use_human_agent_but_a_persons_reply_may(
    engine: Engine,
    providers: tuple[object, object],  # noqa: F811 - the fixture
) -> None:
    from fakes import GraphState

    graph = providers[1]
    assert isinstance(graph, GraphState)
    ticket_id = _ticket(
        engine,
        NewTicket(
            description="Đèn hỏng ở Phủ Hà",
            channel="facebook",
            contact=Contact(facebook_id="6500000000000077", email="fb@example.vn"),
            created_at=utcnow() - timedelta(days=3),
            provider_message_id="m_old",
        ),
    )
    with unit_of_work(engine) as session:
        tickets.add_comment(
            session, ticket_id, text="Chúng tôi đã ghi nhận.", public=True, actor=staff(session)
        )
    rows = deliver(engine)
    by_purpose = {r.purpose: r for r in rows}
    assert by_purpose["receipt"].channel == "email"  # automatic, three days on: not on Messenger
    assert by_purpose["reply"].channel == "facebook" and by_purpose["reply"].route == "HUMAN_AGENT"
    assert [b.get("tag") for b in graph.sent] == ["HUMAN_AGENT"]


def test_english_templates_for_an_english_speaking_citizen_and_admin_edits(
    client: TestClient, engine: Engine, admin: dict[str, str], configure: Settings
) -> None:
    configure(notify_fallback_order="email")
    bad = client.put(
        "/api/v1/channels/templates/receipt", json={"text_vi": "ok", "text_en": "{nope}"}, headers=admin
    )
    assert bad.status_code == 422
    edited = {"text_vi": "Đã nhận {code}", "text_en": "Got {code}: {status}. {link}"}
    assert client.put("/api/v1/channels/templates/receipt", json=edited, headers=admin).status_code == 200
    # a citizen who reported on the English page: their messages are written in English
    contact = Contact(email="en@example.vn", language="en")
    ticket_id = _ticket(engine, NewTicket(description="Pothole", contact=contact))
    (row,) = deliver(engine)
    with unit_of_work(engine) as session:
        code = tickets.get_ticket(session, ticket_id).code
    assert row.text.startswith(f"Got {code}: Received. http")
    assert row.payload["subject"] == f"[{code}] Received"


def test_the_same_event_is_queued_once_per_route(engine: Engine, configure: Settings) -> None:
    configure(notify_fallback_order="email")
    ticket_id = _ticket(engine, NewTicket(description="Rác", contact=Contact(email="x@example.vn")))
    with unit_of_work(engine) as session:
        ticket = tickets.get_ticket(session, ticket_id)
        created = [e for e in events_of(session, ticket_id) if e.kind == EventKind.CREATED][0]
        notice = notifications.notice_for(created)
        assert notice is not None
        assert notifications.notify(session, ticket, notice) is None  # already queued
        assert len(session.exec(select(OutboundMessage)).all()) == 1


def test_the_admin_page_shows_the_fallback_order_costs_and_both_languages(
    client: TestClient,
    engine: Engine,
    make_user: Callable[..., dict[str, str]],
    configure: Settings,
) -> None:
    from staff_signin import sign_in

    from tickets.staff import create_user

    configure(notify_fallback_order="sms,email")
    phone = _ticket(
        engine,
        NewTicket(
            description="Ổ gà", channel="phone", category="road_damage", contact=Contact(phone="0912000444")
        ),
    )
    deliver(engine)  # through the SMS simulator
    with unit_of_work(engine) as session:
        create_user(session, username="notify-admin", password="secret-pass", role="admin")
        row = session.exec(select(OutboundMessage)).one()
        assert row.ticket_id == phone and row.cost % get_settings().sms_cost_vnd == 0 and row.cost > 0
    assert sign_in(client, "notify-admin", "secret-pass").status_code == 303
    page = client.get("/staff/admin").text
    assert 'value="sms,email" data-testid="fallback-order"' in page
    assert "Report {code} has been resolved." in page  # the English version, editable beside the Vietnamese
    costs = page.split('data-testid="notify-costs"')[1].split("</table>")[0]
    assert "<td>SMS</td><td>1</td>" in costs and f"{row.cost:,}" in costs  # priced per 160-character segment
    agent = make_user("agent")
    assert client.get("/api/v1/citizen-notifications/costs", headers=agent).status_code == 403
    assert (
        client.get("/api/v1/citizen-notifications/costs", headers=make_user("supervisor")).status_code == 200
    )
    put = client.put("/api/v1/citizen-notifications/fallback-order", json={"order": ["email"]}, headers=agent)
    assert put.status_code == 403


def test_in_production_a_route_is_off_unless_set() -> None:
    from kernel.settings import Settings

    production = {
        "environment": "production",
        "public_base_url": "https://phananh.example.gov.vn",
        "secret_key": "k" * 40,
    }
    defaults = Settings(**production)  # type: ignore[arg-type]
    assert (defaults.zns_mode, defaults.sms_mode, defaults.email_mode) == ("off", "off", "off")
    assert Settings(**production, email_mode="real").email_mode == "real"  # type: ignore[arg-type]
    assert Settings(environment="development").sms_mode == "simulator"


def test_a_report_made_on_the_english_page_is_answered_in_english(
    client: TestClient, engine: Engine, configure: Settings
) -> None:
    configure(notify_fallback_order="email")
    form = {
        "text": "Broken street light on Thong Nhat",
        "email": "visitor@example.com",
        "submission_id": uuid.uuid4().hex,
    }
    assert client.post("/report?lang=en", data=form, follow_redirects=False).status_code == 303
    (row,) = deliver(engine)
    assert row.text.startswith("CivicDesk has received your report PR-")
    assert row.payload["subject"].endswith("] Received")


def test_zns_refreshes_an_expired_oa_token_once_and_sends(
    engine: Engine,
    providers: tuple[object, object],  # noqa: F811 - the fixture
    paid: tuple[ZnsState, EsmsState],
    configure: Settings,
) -> None:
    from fakes import ZaloState

    zalo, (zns, _) = providers[0], paid
    assert isinstance(zalo, ZaloState)
    zns.current_token = lambda: zalo.access_token
    zalo.access_token = "revoked-on-zalo-side"  # our stored token is no longer valid: ZNS answers -216
    configure(notify_fallback_order="zns")
    _ticket(engine, NewTicket(description="Ngập", channel="phone", contact=Contact(phone="0905000111")))
    (row,) = deliver(engine)
    assert row.state == OutboxState.SENT and zalo.refreshes == 1 and len(zns.sent) == 1

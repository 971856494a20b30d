"""One citizen across channels: verified identifiers link a person (a caller's number, the phone a Zalo
user submitted through the OA's form, Messenger's phone quick reply, an e-mail confirmed by link),
typed ones never do; staff link, merge and undo a merge; the screen pop and the ticket page show the
person's tickets on every channel; a Messenger answer to our private reply joins the comment's ticket.
Channels go through the real webhooks with signed deliveries and the fake provider servers."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fakes import PAGE_ID, GraphState, ZaloState
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from test_channels import (
    FB_APP_ID,
    authorise_zalo,
    fb_post,
    messenger,
    process_all,
    providers,
    send_all,
    zalo_event,
    zalo_post,
)

from kernel.db import unit_of_work
from kernel.errors import Conflict
from kernel.settings import get_settings
from kernel.timeutil import utcnow
from telephony import store
from telephony.models import Call
from telephony.tracker import CallState
from tickets import audit, confirmation, merges
from tickets.citizens import Contact, find_citizen
from tickets.models import Channel, ChannelIdentity, Citizen, IdentityKind, Message, MessengerThread, Ticket
from tickets.service import NewTicket, create_ticket

__all__ = ["providers"]  # the fixture, shared with the channel tests

Headers = dict[str, str]
CALLER = "0905123456"
CALLER_E164 = "+84905123456"
ZALO_USER = "4100000000000000077"


def ring(engine: Engine, uniqueid: str, number: str) -> None:
    """The PBX reports an incoming call: what the tracker hands the store when a caller enters the queue."""
    now = utcnow()
    state = CallState(
        uniqueid=uniqueid, linkedid=uniqueid, started_at=now, caller_number=number, entered_at=now
    )
    with unit_of_work(engine) as session:
        store.save_changes(session, ([state], [], [], []))


def screen_pop(client: TestClient, headers: Headers, uniqueid: str) -> dict[str, Any]:
    response = client.get(f"/api/v1/calls/{uniqueid}", headers=headers)
    assert response.status_code == 200, response.text
    pop: dict[str, Any] = response.json()["screen_pop"]
    return pop


def zalo_ticket(
    client: TestClient, engine: Engine, text: str = "Rác ở hẻm 45 Thống Nhất chưa thu gom"
) -> int:
    assert zalo_post(client, zalo_event("zmsg-1", ZALO_USER, text)).status_code == 200
    process_all(engine)
    with unit_of_work(engine) as session:
        ticket = session.exec(select(Ticket).where(Ticket.origin_channel == "zalo")).one()
        return ticket.id or 0


def submit_phone(client: TestClient, engine: Engine, phone: str) -> None:
    """The Zalo user fills the OA's form (user_submit_info): the phone comes from Zalo."""
    event = zalo_event("", ZALO_USER, name="user_submit_info", info={"name": "Trần Thị B", "phone": phone})
    assert zalo_post(client, event).status_code == 200
    process_all(engine)


def citizen_of(engine: Engine, ticket_id: int) -> int:
    with unit_of_work(engine) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.citizen_id is not None
        return ticket.citizen_id


def test_a_zalo_user_who_submitted_the_callers_number_is_one_citizen_in_the_screen_pop(
    client: TestClient,
    engine: Engine,
    providers: tuple[ZaloState, GraphState],
    make_user: Callable[..., Headers],
) -> None:
    authorise_zalo(engine)
    agent = make_user("agent")
    zalo_id = zalo_ticket(client, engine)
    submit_phone(client, engine, "+84 905 123 456")
    ring(engine, "9.1", CALLER)
    pop = screen_pop(client, agent, "9.1")
    assert pop["citizen"]["id"] == citizen_of(engine, zalo_id)
    [line] = pop["open_tickets"]
    assert (line["id"], line["channel"]) == (zalo_id, "zalo")
    assert line["last_message"]["text"].startswith("Rác ở hẻm 45")
    filed = client.post(
        "/api/v1/calls/9.1/tickets", json={"description": "Gọi lại về rác hẻm 45"}, headers=agent
    ).json()
    assert filed["contact"]["citizen_id"] == citizen_of(engine, zalo_id)  # the call's ticket joins them


def test_a_caller_who_later_submits_the_number_on_zalo_becomes_one_citizen(
    client: TestClient,
    engine: Engine,
    providers: tuple[ZaloState, GraphState],
    make_user: Callable[..., Headers],
) -> None:
    authorise_zalo(engine)
    agent = make_user("agent")
    ring(engine, "9.2", CALLER)
    assert screen_pop(client, agent, "9.2")["citizen"] is None
    phoned = client.post(
        "/api/v1/calls/9.2/tickets", json={"description": "Đèn đường hỏng ở Phủ Hà"}, headers=agent
    ).json()["id"]
    zalo_id = zalo_ticket(client, engine)
    assert citizen_of(engine, zalo_id) != citizen_of(engine, phoned)
    submit_phone(client, engine, CALLER)
    assert citizen_of(engine, zalo_id) == citizen_of(engine, phoned)  # merged automatically
    ring(engine, "9.3", CALLER)
    pop = screen_pop(client, agent, "9.3")
    assert {t["channel"] for t in pop["open_tickets"]} == {"zalo", "phone"}
    with unit_of_work(engine) as session:
        assert [e.action for e in audit.recent(session)].count("citizen.merge.auto") == 1


def test_a_typed_phone_or_email_never_joins_anyone(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        caller = create_ticket(
            session,
            NewTicket(
                description="Ổ gà",
                channel=Channel.PHONE,
                contact=Contact(phone=CALLER, phone_verified_by="pbx", email="b@example.vn"),
            ),
        )
        typed = create_ticket(
            session,
            NewTicket(
                description="Ổ gà nữa",
                channel=Channel.WEB,
                contact=Contact(phone=CALLER, email="b@example.vn"),
            ),
        )
        assert caller.citizen_id != typed.citizen_id
        held = session.exec(select(ChannelIdentity).where(ChannelIdentity.value == CALLER_E164)).all()
        assert sorted((row.citizen_id, row.verified_by) for row in held) == [
            (caller.citizen_id, "pbx"),
            (typed.citizen_id, None),
        ]


def web_report(client: TestClient, engine: Engine, text: str, **contact: str) -> Ticket:
    response = client.post("/report", data={"text": text, **contact}, follow_redirects=False)
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/t/([A-Za-z0-9_-]+)\?new=1", response.headers["location"])
    assert match
    with unit_of_work(engine) as session:
        ticket = session.exec(select(Ticket).where(Ticket.tracking_token == match.group(1))).one()
        session.expunge(ticket)
        return ticket


def confirmation_link(engine: Engine, ticket: Ticket, kind: IdentityKind, value: str) -> str:
    with unit_of_work(engine) as session:
        url = confirmation.confirmation_url(session, ticket, kind, value)
    assert url is not None
    return url.split("://", 1)[1].split("/", 1)[1]


def test_a_confirmed_email_links_and_an_unconfirmed_one_does_not(client: TestClient, engine: Engine) -> None:
    first = web_report(client, engine, "Cống ở Mỹ Hải lại ngập", email="Lan@Example.vn")
    second = web_report(client, engine, "Cây đổ ở Đài Sơn", email="lan@example.vn")
    assert first.citizen_id != second.citizen_id  # the same typed address joins no one

    path = confirmation_link(engine, first, IdentityKind.EMAIL, "lan@example.vn")
    page = client.get(f"/{path}")
    assert page.status_code == 200 and "l•••@example.vn" in page.text and "lan@example.vn" not in page.text
    with unit_of_work(engine) as session:  # opening the link (a mail scanner does) confirms nothing
        assert confirmation.confirmation_url(session, first, IdentityKind.EMAIL, "lan@example.vn") is not None
    assert client.post(f"/{path}").status_code == 200
    with unit_of_work(engine) as session:
        assert confirmation.confirmation_url(session, first, IdentityKind.EMAIL, "lan@example.vn") is None
    assert citizen_of(engine, second.id or 0) != first.citizen_id  # still not joined: unconfirmed

    second_path = confirmation_link(engine, second, IdentityKind.EMAIL, "lan@example.vn")
    assert client.post(f"/{second_path}").status_code == 200
    assert citizen_of(engine, second.id or 0) == first.citizen_id  # both confirmed: one person
    assert client.post(f"/{second_path}").status_code == 200  # a second click is harmless

    gone = client.get("/confirm/not-a-token")
    assert gone.status_code == 404 and "không đúng hoặc đã hết hạn" in gone.text


def _two_people(engine: Engine) -> tuple[int, int, list[int]]:
    """A Zalo user with two messages and a caller with a ticket, each with their own identifiers."""
    with unit_of_work(engine) as session:
        zalo = create_ticket(
            session,
            NewTicket(description="Rác chưa thu gom", channel=Channel.ZALO, contact=Contact(zalo_id="z-77")),
        )
        session.add(
            Message(
                ticket_id=zalo.id,
                citizen_id=zalo.citizen_id,
                channel="zalo",
                direction="inbound",
                text="Còn nữa",
            )
        )
        phone = create_ticket(
            session,
            NewTicket(
                description="Đèn đường hỏng",
                channel=Channel.PHONE,
                contact=Contact(phone=CALLER, phone_verified_by="pbx", name="Lê Văn C"),
            ),
        )
        session.add(
            Call(
                uniqueid="8.1",
                linkedid="8.1",
                started_at=utcnow(),
                caller_number=CALLER,
                citizen_id=phone.citizen_id,
            )
        )
        return zalo.citizen_id or 0, phone.citizen_id or 0, [zalo.id or 0, phone.id or 0]


def _owners(engine: Engine) -> dict[str, list[tuple[int, int | None]]]:
    with unit_of_work(engine) as session:
        return {
            "tickets": [
                (t.id or 0, t.citizen_id) for t in session.exec(select(Ticket).order_by(col(Ticket.id)))
            ],
            "messages": [
                (m.id or 0, m.citizen_id) for m in session.exec(select(Message).order_by(col(Message.id)))
            ],
            "identities": [
                (i.id or 0, i.citizen_id)
                for i in session.exec(select(ChannelIdentity).order_by(col(ChannelIdentity.id)))
            ],
            "calls": [(c.id or 0, c.citizen_id) for c in session.exec(select(Call).order_by(col(Call.id)))],
        }


def test_staff_merge_and_undo_restore_every_ticket_message_identity_and_call(
    client: TestClient, engine: Engine, make_user: Callable[..., Headers]
) -> None:
    zalo_person, caller, tickets = _two_people(engine)
    before = _owners(engine)
    agent = make_user("agent")
    merged = client.post(
        f"/api/v1/citizens/{zalo_person}/merge",
        json={"into": caller, "reason": "cùng một người"},
        headers=agent,
    )
    assert merged.status_code == 200, merged.text
    after = _owners(engine)
    for rows in after.values():
        assert {owner for _, owner in rows} == {caller}  # everything is the caller's now
    view = client.get(f"/api/v1/citizens/{caller}", headers=agent).json()
    assert {t["channel"] for t in view["tickets"]} == {"zalo", "phone"}
    page = client.get(f"/staff/tickets/{tickets[1]}", headers=agent).text
    assert "/api/v1/citizen-merges/" in page and 'value="phone"' in page and 'value="zalo"' in page

    undone = client.post(f"/api/v1/citizen-merges/{merged.json()['id']}/undo", headers=agent)
    assert undone.status_code == 200 and undone.json()["undone_at"] is not None
    assert _owners(engine) == before
    twice = client.post(f"/api/v1/citizen-merges/{merged.json()['id']}/undo", headers=agent)
    assert twice.status_code == 409 and "đã được hoàn tác" in twice.json()["detail"]
    with unit_of_work(engine) as session:
        actions = [e.action for e in audit.recent(session)]
        assert {"citizen.merge", "citizen.merge.undo"} <= set(actions)
        assert session.get(Citizen, zalo_person).merged_into_id is None  # type: ignore[union-attr]


def test_an_undone_merge_is_not_redone_automatically(
    client: TestClient, engine: Engine, make_user: Callable[..., Headers]
) -> None:
    zalo_person, caller, _ = _two_people(engine)
    agent = make_user("supervisor")
    merged = client.post(f"/api/v1/citizens/{zalo_person}/merge", json={"into": caller}, headers=agent).json()
    client.post(f"/api/v1/citizen-merges/{merged['id']}/undo", headers=agent)
    with unit_of_work(engine) as session:  # the Zalo user submits the caller's number: a shared phone
        create_ticket(
            session,
            NewTicket(
                description="Nữa",
                channel=Channel.ZALO,
                contact=Contact(zalo_id="z-77", phone=CALLER, phone_verified_by="zalo_form"),
            ),
        )
    assert {owner for _, owner in _owners(engine)["tickets"]} == {zalo_person, caller}


def test_merge_and_link_refuse_bad_input_with_a_reason(
    client: TestClient, engine: Engine, make_user: Callable[..., Headers]
) -> None:
    zalo_person, caller, tickets = _two_people(engine)
    agent = make_user("agent")
    itself = client.post(f"/api/v1/citizens/{caller}/merge", json={"into": caller}, headers=agent)
    assert itself.status_code == 422 and "chính họ" in itself.json()["detail"]
    unknown = client.post(f"/api/v1/citizens/{caller}/merge", json={"into": 999999}, headers=agent)
    assert unknown.status_code == 404 and "#999999" in unknown.json()["detail"]
    assert client.get("/api/v1/citizens/999999", headers=agent).status_code == 404
    assert client.post("/api/v1/citizen-merges/999999/undo", headers=agent).status_code == 404
    both = client.post(
        f"/api/v1/citizens/{caller}/merge", json={"into": 1, "into_code": "PR-1"}, headers=agent
    )
    assert both.status_code == 422
    clerk = make_user("department_staff", department="qldt")
    refused = client.post(f"/api/v1/citizens/{zalo_person}/merge", json={"into": caller}, headers=clerk)
    assert refused.status_code == 403 and "tổng đài viên" in refused.json()["detail"]
    assert client.get(f"/api/v1/citizens/{caller}", headers=clerk).status_code == 403

    taken = client.post(
        f"/api/v1/citizens/{zalo_person}/identities", json={"kind": "phone", "value": CALLER}, headers=agent
    )
    assert taken.status_code == 409 and f"#{caller}" in taken.json()["detail"]
    bad = client.post(
        f"/api/v1/citizens/{zalo_person}/identities", json={"kind": "phone", "value": "abc"}, headers=agent
    )
    assert bad.status_code == 422
    linked = client.post(
        f"/api/v1/citizens/{zalo_person}/identities",
        json={"kind": "phone", "value": "0912345678"},
        headers=agent,
    )
    assert linked.status_code == 201 and linked.json()["verified_by"] == "staff"

    code = client.get(f"/api/v1/tickets/{tickets[1]}", headers=agent).json()["code"]
    by_code = client.post(f"/api/v1/citizens/{zalo_person}/merge", json={"into_code": code}, headers=agent)
    assert by_code.status_code == 200 and by_code.json()["target_id"] == caller
    again = client.post(f"/api/v1/citizens/{zalo_person}/merge", json={"into": caller}, headers=agent)
    assert again.status_code == 409 and "đã được gộp" in again.json()["detail"]


def test_a_merge_never_lends_one_persons_data_to_the_others_status_page(
    client: TestClient, engine: Engine, make_user: Callable[..., Headers]
) -> None:
    zalo_person, caller, tickets = _two_people(engine)
    with unit_of_work(engine) as session:
        web = create_ticket(
            session,
            NewTicket(description="Hố ga mất nắp", channel=Channel.WEB, contact=Contact(phone="0912345678")),
        )
        web_person, web_code, web_token = web.citizen_id or 0, web.code, web.tracking_token
        caller_code = session.get(Ticket, tickets[1]).code  # type: ignore[union-attr]
    agent = make_user("agent")
    assert (
        client.post(f"/api/v1/citizens/{web_person}/merge", json={"into": caller}, headers=agent).status_code
        == 200
    )
    status = client.get(f"/t/{web_token}").text
    assert caller_code not in status and "Đèn đường hỏng" not in status and "Lê Văn C" not in status
    # the caller's number does not open the web reporter's page, and the reporter's own still does
    assert client.post("/lookup", data={"code": web_code, "phone_last4": CALLER[-4:]}).status_code == 404
    opened = client.post("/lookup", data={"code": web_code, "phone_last4": "5678"}, follow_redirects=False)
    assert opened.status_code == 303


def comment_event(comment_id: str, author: str, text: str) -> dict[str, Any]:
    value = {
        "item": "comment",
        "verb": "add",
        "comment_id": comment_id,
        "post_id": f"{PAGE_ID}_1234567890",
        "parent_id": f"{PAGE_ID}_1234567890",
        "created_time": int(utcnow().timestamp()),
        "from": {"id": author, "name": "Nguyen Van A"},
        "message": text,
    }
    return {
        "object": "page",
        "entry": [{"id": PAGE_ID, "time": 1, "changes": [{"field": "feed", "value": value}]}],
    }


def test_a_messenger_answer_to_our_private_reply_joins_the_comments_ticket(
    client: TestClient, engine: Engine, providers: tuple[ZaloState, GraphState]
) -> None:
    _, graph = providers
    psid = "6500000000000042"
    assert (
        fb_post(
            client, comment_event("1234567890_3333", "7000000000000009", "Cống ở Mỹ Hải lại ngập rồi")
        ).status_code
        == 200
    )
    process_all(engine)
    [private_reply] = send_all(engine)
    assert private_reply.reply_to_comment and graph.sent[0]["recipient"] == {"comment_id": "1234567890_3333"}
    echo = messenger(
        private_reply.provider_message_id or "", PAGE_ID, "Đã tiếp nhận", is_echo=True, app_id=int(FB_APP_ID)
    )
    echo["entry"][0]["messaging"][0]["recipient"] = {"id": psid}
    fb_post(client, echo)
    fb_post(client, echo)  # delivered twice: no harm
    process_all(engine)
    with unit_of_work(engine) as session:  # days later: past the window in which a chat joins a ticket
        for ticket in session.exec(select(Ticket)).all():
            ticket.updated_at = utcnow() - timedelta(hours=get_settings().thread_window_hours + 1)
    assert fb_post(client, messenger("m_answer", psid, "Cống ở trước nhà số 12")).status_code == 200
    process_all(engine)
    with unit_of_work(engine) as session:
        [ticket] = session.exec(select(Ticket)).all()
        answer = session.exec(select(Message).where(Message.provider_message_id == "m_answer")).one()
        assert answer.ticket_id == ticket.id
        psid_row = session.exec(select(ChannelIdentity).where(ChannelIdentity.value == psid)).one()
        assert (psid_row.citizen_id, psid_row.verified_by) == (ticket.citizen_id, "provider")
        assert len(session.exec(select(MessengerThread)).all()) == 1


def test_a_messenger_user_who_taps_their_phone_is_one_with_the_caller(
    client: TestClient, engine: Engine, providers: tuple[ZaloState, GraphState]
) -> None:
    with unit_of_work(engine) as session:
        phoned = create_ticket(
            session,
            NewTicket(
                description="Đèn hỏng",
                channel=Channel.PHONE,
                contact=Contact(phone=CALLER, phone_verified_by="pbx"),
            ),
        )
        caller = phoned.citizen_id
    psid = "6500000000000043"
    fb_post(client, messenger("m_1", psid, "Đèn đường ở Phủ Hà bị hư"))
    fb_post(client, messenger("m_2", psid, CALLER, quick_reply={"payload": CALLER}))
    fb_post(client, messenger("m_3", "6500000000000044", CALLER))  # typed by someone else: links no one
    process_all(engine)
    with unit_of_work(engine) as session:
        fb_tickets = session.exec(
            select(Ticket).where(Ticket.origin_channel == "facebook").order_by(col(Ticket.id))
        ).all()
        assert [t.citizen_id == caller for t in fb_tickets] == [True, False]


def test_an_expired_confirmation_link_says_so(client: TestClient, engine: Engine) -> None:
    ticket = web_report(client, engine, "Ổ gà ở Tấn Tài", phone="0912345678")
    path = confirmation_link(engine, ticket, IdentityKind.PHONE, "+84912345678")
    with unit_of_work(engine) as session:
        from tickets.models import IdentityConfirmation

        for row in session.exec(select(IdentityConfirmation)).all():
            row.expires_at = utcnow() - timedelta(minutes=1)
    refused = client.post(f"/{path}")
    assert refused.status_code == 404 and "hết hạn" in refused.text
    with unit_of_work(engine) as session:
        assert confirmation.confirmation_url(session, ticket, IdentityKind.PHONE, "+84912345678") is not None


def test_a_phone_typed_in_answer_to_our_question_links_the_messenger_user(
    client: TestClient,
    engine: Engine,
    providers: tuple[ZaloState, GraphState],
    make_user: Callable[..., Headers],
) -> None:
    _, graph = providers
    with unit_of_work(engine) as session:
        phoned = create_ticket(
            session,
            NewTicket(
                description="Đèn hỏng",
                channel=Channel.PHONE,
                contact=Contact(phone=CALLER, phone_verified_by="pbx"),
            ),
        )
        caller, phone_ticket = phoned.citizen_id, phoned.id or 0
    psid = "6500000000000045"
    fb_post(client, messenger("m_10", psid, "Cây đổ chắn đường ở Đạo Long"))
    process_all(engine)
    send_all(engine)
    with unit_of_work(engine) as session:
        fb_ticket = session.exec(select(Ticket).where(Ticket.origin_channel == "facebook")).one().id or 0
    fb_post(client, messenger("m_11", psid, "0905 123 457"))  # a number before we asked: only a message
    process_all(engine)
    assert citizen_of(engine, fb_ticket) != caller
    agent = make_user("agent")
    asked = client.post(f"/api/v1/tickets/{fb_ticket}/ask-phone", headers=agent)
    assert asked.status_code == 202 and "số điện thoại" in asked.json()["text"]
    send_all(engine)
    assert graph.sent[-1]["recipient"] == {"id": psid}
    fb_post(client, messenger("m_12", psid, CALLER))
    process_all(engine)
    assert citizen_of(engine, fb_ticket) == caller
    refused = client.post(f"/api/v1/tickets/{phone_ticket}/ask-phone", headers=agent)
    assert refused.status_code == 422 and "Zalo hoặc Messenger" in refused.json()["detail"]


def test_chained_merges_are_undone_in_order_and_a_verified_value_left_behind_still_finds_the_person(
    engine: Engine,
) -> None:
    with unit_of_work(engine) as session:
        first = create_ticket(
            session, NewTicket(description="Một", channel=Channel.ZALO, contact=Contact(zalo_id="z-1"))
        )
        second = create_ticket(  # typed the caller's number: unverified here
            session, NewTicket(description="Hai", channel=Channel.WEB, contact=Contact(phone=CALLER))
        )
        third = create_ticket(
            session,
            NewTicket(
                description="Ba",
                channel=Channel.PHONE,
                contact=Contact(phone=CALLER, phone_verified_by="pbx"),
            ),
        )
        a, b, c = first.citizen_id or 0, second.citizen_id or 0, third.citizen_id or 0
    before = _owners(engine)
    with unit_of_work(engine) as session:
        a_into_b = merges.merge(session, source_id=a, target_id=b).id or 0
        # b already holds CALLER unverified: c's verified row stays behind on c, and still finds b
        c_into_b = merges.merge(session, source_id=c, target_id=b).id or 0
        found = find_citizen(session, IdentityKind.PHONE, CALLER_E164)
        assert found is not None and found.id == b
    with unit_of_work(engine) as session:
        x = create_ticket(
            session, NewTicket(description="Bốn", channel=Channel.ZALO, contact=Contact(zalo_id="z-9"))
        )
        b_into_x = merges.merge(session, source_id=b, target_id=x.citizen_id or 0).id or 0
    with unit_of_work(engine) as session, pytest.raises(Conflict, match=f"#{b_into_x}"):
        merges.undo(session, a_into_b)
    for merge_id in (b_into_x, c_into_b, a_into_b):
        with unit_of_work(engine) as session:
            merges.undo(session, merge_id)
    after = _owners(engine)
    assert {k: [row for row in v if row[1] in (a, b, c)] for k, v in after.items()} == before

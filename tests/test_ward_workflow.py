"""The ward officer's route end to end, returns to the triage queue with the reason, queue items that say
why they wait and can be confirmed as is, and re-classification that re-routes with the rule shown."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from staff_signin import sign_in

from kernel.db import unit_of_work
from routing import triage
from routing.models import RoutingRule
from routing.rules import save_rule
from tickets.models import EventKind, Status, Ticket, TicketEvent
from tickets.service import NewTicket, create_ticket
from tickets.staff import User, create_user

PASSWORD = "secret-pass"
Headers = Callable[..., dict[str, str]]
LIGHT = "Đèn đường trên đường Thống Nhất tắt cả tuần nay ở phường Phan Rang"


def signed_in(client: TestClient, username: str) -> dict[str, str]:
    """Sign in through the form as a browser does; the headers the staff pages' scripts send."""
    assert sign_in(client, username, PASSWORD).status_code == 303
    page = client.get("/staff/tickets").text
    return {"X-CSRF-Token": page.split('name="csrf-token" content="', 1)[1].split('"', 1)[0]}


def _triaged(session: Session, text: str, **kw: str) -> Ticket:
    ticket = create_ticket(session, NewTicket(description=text, **kw))  # type: ignore[arg-type]
    triage.apply(session, ticket.id or 0)
    return ticket


def _events(engine: Engine, ticket_id: int, kind: EventKind) -> list[TicketEvent]:
    with unit_of_work(engine) as session:
        query = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == kind)
        return list(session.exec(query.order_by(TicketEvent.id)).all())  # type: ignore[arg-type]


@pytest.fixture
def ward_ticket(engine: Engine) -> int:
    """Street lighting in Phan Rang goes to the ward's officers by a rule; two officers, one elsewhere."""
    with unit_of_work(engine) as session:
        for name, ward in (("phuong.a", "phan-rang"), ("phuong.b", "phan-rang"), ("xa.c", "ninh-chu")):
            create_user(session, username=name, password=PASSWORD, role="ward_officer", ward=ward)
        create_user(session, username="qldt1", password=PASSWORD, role="department_staff", department="qldt")
        save_rule(
            session,
            RoutingRule(
                position=1,
                name="Đèn đường trong phường",
                category_code="street_lighting",
                ward_code="phan-rang",
                ward_officer=True,
            ),
        )
        ticket = _triaged(session, LIGHT)
        assert (ticket.status, ticket.department_code, ticket.ward_code) == (
            Status.ASSIGNED,
            None,
            "phan-rang",
        )
        return ticket.id or 0


def test_routed_to_a_ward_accepted_asked_and_resolved_by_the_officer(
    engine: Engine, client: TestClient, ward_ticket: int
) -> None:
    headers = signed_in(client, "phuong.a")
    page = client.get(f"/staff/tickets/{ward_ticket}").text
    assert 'id="accept"' in page and 'id="resolve-form"' in page and 'id="assign-in-ward"' in page
    assert "Đèn đường trong phường" in page  # the rule that routed it
    url = f"/api/v1/tickets/{ward_ticket}"
    accepted = client.post(f"{url}/transition", json={"status": "in_progress"}, headers=headers)
    assert accepted.status_code == 200 and accepted.json()["status"] == "in_progress"
    asked = client.post(
        f"{url}/transition",
        json={"status": "waiting_citizen", "reason": "Xin cho biết số cột đèn gần nhà"},
        headers=headers,
    )
    assert asked.status_code == 200
    question = [e for e in asked.json()["timeline"] if e["note"] == "Xin cho biết số cột đèn gần nhà"]
    assert question and question[0]["public"]
    assert (
        client.post(f"{url}/transition", json={"status": "in_progress"}, headers=headers).status_code == 200
    )
    resolved = client.post(
        f"{url}/transition", json={"status": "resolved", "reason": "Đã thay bóng đèn"}, headers=headers
    )
    assert resolved.status_code == 200 and resolved.json()["status"] == "resolved"
    with unit_of_work(engine) as session:
        officer = session.exec(select(User).where(User.username == "phuong.a")).one()
        last = _events(engine, ward_ticket, EventKind.STATUS_CHANGED)[-1]
        assert (last.data["new"], last.actor_user_id) == ("resolved", officer.id)


def test_the_officer_assigns_within_the_ward_only(
    engine: Engine, client: TestClient, ward_ticket: int
) -> None:
    headers = signed_in(client, "phuong.a")
    with unit_of_work(engine) as session:
        ids = {u.username: u.id for u in session.exec(select(User)).all()}
    url = f"/api/v1/tickets/{ward_ticket}/assign"
    handed = client.post(
        url, json={"assignee_id": ids["phuong.b"], "reason": "Anh B phụ trách"}, headers=headers
    )
    assert handed.status_code == 200
    assert (handed.json()["assignee_id"], handed.json()["department"]) == (ids["phuong.b"], None)
    elsewhere = client.post(url, json={"assignee_id": ids["xa.c"]}, headers=headers)
    assert (
        elsewhere.status_code == 422 and "không phải cán bộ của phường/xã này" in elsewhere.json()["detail"]
    )
    to_department = client.post(url, json={"department": "qldt"}, headers=headers)
    assert to_department.status_code == 403 and "trả lại" in to_department.json()["detail"]


def test_a_ward_officer_only_follows_a_departments_ticket_in_the_ward(
    engine: Engine, client: TestClient, ward_ticket: int
) -> None:
    with unit_of_work(engine) as session:
        departments = _triaged(session, "Rác thải chất đống bốc mùi ở phường Phan Rang")
        assert departments.department_code == "tnmt"
    headers = signed_in(client, "phuong.a")
    page = client.get(f"/staff/tickets/{departments.id}").text
    assert 'id="accept"' not in page and 'id="resolve-form"' not in page
    refused = client.post(
        f"/api/v1/tickets/{departments.id}/transition", json={"status": "in_progress"}, headers=headers
    )
    assert refused.status_code == 403 and "phòng ban xử lý" in refused.json()["detail"]


def test_a_return_reaches_the_triage_queue_with_who_and_why(
    engine: Engine, client: TestClient, ward_ticket: int, make_user: Headers
) -> None:
    with unit_of_work(engine) as session:
        lighting = _triaged(session, "Đèn đường tắt ở đường 16 Tháng 4 phường Đô Vinh")
        assert lighting.department_code == "qldt"
    headers = signed_in(client, "qldt1")
    url = f"/api/v1/tickets/{lighting.id}/transition"
    bare = client.post(url, json={"status": "triaged"}, headers=headers)
    assert bare.status_code == 422 and "lý do trả lại" in bare.json()["detail"]
    returned = client.post(
        url, json={"status": "triaged", "reason": "Đèn do công ty điện lực quản lý"}, headers=headers
    )
    assert returned.status_code == 200
    assert (returned.json()["status"], returned.json()["department"]) == ("triaged", None)
    assert (
        client.get(f"/api/v1/tickets/{lighting.id}", headers=headers).status_code == 404
    )  # out of qldt's list
    queue = client.get("/api/v1/triage/queue", headers=make_user("agent")).json()
    item = next(i for i in queue if i["id"] == lighting.id)
    assert any("Bị trả lại bởi qldt1" in r and "công ty điện lực" in r for r in item["reasons"])
    back = _events(engine, lighting.id or 0, EventKind.STATUS_CHANGED)[-1]
    assert back.data["returned"] and not back.public  # the reason is internal, not on the citizen's page


def test_queue_items_say_why_and_confirm_as_is_routes_them(
    engine: Engine, client: TestClient, make_user: Headers
) -> None:
    with unit_of_work(engine) as session:
        sensitive = _triaged(
            session, "Có nhóm thanh niên tụ tập gây rối ở phường Phan Rang", category="security"
        )
        nowhere = _triaged(session, "Đèn đường tắt cả tuần nay")
        assert sensitive.needs_review and sensitive.status == Status.NEW
    agent = make_user("agent")
    reasons = {i["id"]: i["reasons"] for i in client.get("/api/v1/triage/queue", headers=agent).json()}
    assert any("Lĩnh vực nhạy cảm" in r for r in reasons[sensitive.id or 0])
    assert "Chưa xác định được phường/xã" in reasons[nowhere.id or 0]
    confirmed = client.post(f"/api/v1/triage/queue/{sensitive.id}/confirm", headers=agent)
    assert confirmed.status_code == 200
    assert (confirmed.json()["status"], confirmed.json()["department"]) == ("assigned", "ca")
    assert sensitive.id not in {i["id"] for i in client.get("/api/v1/triage/queue", headers=agent).json()}
    again = client.post(f"/api/v1/triage/queue/{sensitive.id}/confirm", headers=agent)
    assert again.status_code == 409 and "không còn chờ phân loại" in again.json()["detail"]
    routed = _events(engine, sensitive.id or 0, EventKind.ROUTED)
    assert routed and "lĩnh vực «An ninh trật tự»" in (routed[-1].note or "")
    officer = make_user("department_staff", department="qldt")
    assert client.post(f"/api/v1/triage/queue/{nowhere.id}/confirm", headers=officer).status_code == 403


def test_the_console_lists_reasons_with_a_confirm_button(engine: Engine, client: TestClient) -> None:
    with unit_of_work(engine) as session:
        create_user(session, username="dtv", password=PASSWORD, role="agent")
        queued = _triaged(session, "Đèn đường tắt cả tuần nay")
    signed_in(client, "dtv")
    console = client.get("/staff/console").text
    assert f"/api/v1/triage/queue/{queued.id}/confirm" in console
    assert "Chưa xác định được phường/xã" in console
    ticket_page = client.get(f"/staff/tickets/{queued.id}").text
    assert 'data-testid="triage-info"' in ticket_page and 'id="confirm-route"' in ticket_page


def test_reclassification_reroutes_and_shows_the_rule(
    engine: Engine, client: TestClient, admin: dict[str, str], ward_ticket: int
) -> None:
    with unit_of_work(engine) as session:
        lighting = _triaged(session, "Đèn đường tắt ở đường 16 Tháng 4 phường Đô Vinh")
        assert lighting.department_code == "qldt"
    changed = client.patch(
        f"/api/v1/tickets/{lighting.id}", json={"category": "waste_collection"}, headers=admin
    )
    assert changed.status_code == 200 and changed.json()["department"] == "tnmt"
    assert changed.json()["status"] == "assigned"
    routed = _events(engine, lighting.id or 0, EventKind.ROUTED)[-1]
    assert routed.data["department"] == "tnmt" and "Rác thải" in (routed.data["rule"] or "")
    # a ward change that a rule sends to the ward's officers
    to_ward = client.patch(
        f"/api/v1/tickets/{lighting.id}",
        json={"category": "street_lighting", "ward": "phan-rang"},
        headers=admin,
    )
    assert to_ward.json()["department"] is None and to_ward.json()["ward"] == "phan-rang"
    signed_in(client, "phuong.a")
    page = client.get(f"/staff/tickets/{lighting.id}").text
    assert 'data-testid="routed-by"' in page and "Đèn đường trong phường" in page


def test_the_demo_gives_the_ward_officer_a_route_and_units_heads(engine: Engine) -> None:
    from civicdesk import demo

    with unit_of_work(engine) as session:
        # the demo adds its rule to a city that has none yet: earlier tests' rules are cleared first
        for rule in session.exec(select(RoutingRule)).all():
            session.delete(rule)
        session.flush()
        demo.seed_demo_users(session)
        assert demo.seed_demo_tickets(session, count=3) == 3
        heads = session.exec(select(User.username).where(User.is_head == True)).all()  # noqa: E712
        assert set(heads) == {"qldt", "tnmt", "phuong.phanrang"}
        sidewalk = create_ticket(
            session,
            NewTicket(description="Quán bày bàn ghế chiếm vỉa hè", category="encroachment", ward="phan-rang"),
        )
        # the demo's own rule sends sidewalk encroachment to the ward's officers, not to a department
        assert demo._holder(session, sidewalk) is None


def test_a_ticket_the_officer_returned_is_the_desks_until_routed_again(
    engine: Engine, client: TestClient, ward_ticket: int, make_user: Headers
) -> None:
    headers = signed_in(client, "phuong.a")
    url = f"/api/v1/tickets/{ward_ticket}/transition"
    back = client.post(
        url, json={"status": "triaged", "reason": "Không thuộc địa bàn phường"}, headers=headers
    )
    assert back.status_code == 200 and back.json()["status"] == "triaged"
    again = client.post(url, json={"status": "waiting_citizen", "reason": "Hỏi thêm"}, headers=headers)
    assert again.status_code == 403
    assert 'id="accept"' not in client.get(f"/staff/tickets/{ward_ticket}").text
    queue = client.get("/api/v1/triage/queue", headers=make_user("agent")).json()
    item = next(i for i in queue if i["id"] == ward_ticket)
    assert item["reasons"][0] == "Bị trả lại bởi phuong.a: Không thuộc địa bàn phường"


def test_the_desk_hands_a_ticket_to_its_ward(
    engine: Engine, client: TestClient, admin: dict[str, str]
) -> None:
    with unit_of_work(engine) as session:
        in_ward = create_ticket(
            session, NewTicket(description="Cây đổ", category="trees_parks", ward="phan-rang")
        )
        nowhere = create_ticket(session, NewTicket(description="Cây đổ", category="trees_parks"))
    handed = client.post(
        f"/api/v1/tickets/{in_ward.id}/assign", json={"reason": "Phường xử lý"}, headers=admin
    )
    assert handed.status_code == 200
    assert (handed.json()["status"], handed.json()["department"], handed.json()["ward"]) == (
        "assigned",
        None,
        "phan-rang",
    )
    refused = client.post(f"/api/v1/tickets/{nowhere.id}/assign", json={}, headers=admin)
    assert refused.status_code == 422 and refused.json()["field"] == "department"
    assert "chưa có phường/xã" in refused.json()["detail"]

"""No personal data on any public surface, and one public view behind them all.

Each group of notations (tests/privacy_cases.py) is written into a report, its address, a public reply
and a staff reason; then every public surface is read: the status page, the public JSON (one report and
the list), /reports, and Open311 (one request, the list and servicerequestupdates, JSON and XML).
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from privacy_cases import EMAILS, IDS, NAMES, PHONES, STREETS, leaked
from sqlalchemy.engine import Engine

from kernel.db import unit_of_work
from tickets import service
from tickets.citizens import Contact
from tickets.models import Status, Ticket
from tickets.service import SYSTEM, NewTicket

GROUPS = {"phones": PHONES, "emails": EMAILS, "ids": IDS, "names": NAMES}
INTERNAL = "GHI-CHU-NOI-BO"  # a staff reason: never public


def _file(engine: Engine, description: str, address: str | None = None, **changes: object) -> Ticket:
    with unit_of_work(engine) as session:
        ticket = service.create_ticket(
            session,
            NewTicket(
                description=description,
                category="road_damage",
                ward="phu-ha",
                address=address,
                latitude=11.5731,
                longitude=109.0012,
                contact=Contact(phone="0987 111 222", email="nguoi.gui@example.com", name="Đặng Thu Hà"),
            ),
        )
        for name, value in changes.items():
            setattr(ticket, name, value)
        session.flush()
        session.expunge(ticket)
        return ticket


def _reply_and_move(engine: Engine, ticket_id: int, reply: str) -> None:
    with unit_of_work(engine) as session:
        service.transition(session, ticket_id, Status.TRIAGED, actor=SYSTEM, reason=f"{INTERNAL} phân loại")
        service.assign(session, ticket_id, department="ttdt", actor=SYSTEM, reason=f"{INTERNAL} chuyển")
        service.transition(session, ticket_id, Status.IN_PROGRESS, actor=SYSTEM, reason=f"{INTERNAL} xử lý")
        service.add_comment(session, ticket_id, text=reply, public=True, actor=SYSTEM)
        service.add_comment(session, ticket_id, text=f"{INTERNAL} nội bộ", public=False, actor=SYSTEM)


def _surfaces(client: TestClient, ticket: Ticket) -> dict[str, str]:
    paths = [
        f"/t/{ticket.tracking_token}",
        f"/api/v1/public/reports/{ticket.tracking_token}",
        "/api/v1/public/reports",
        "/api/v1/public/pins",
        "/reports",
        *(f"/open311/v2/requests/{ticket.code}.{fmt}" for fmt in ("json", "xml")),
        *(f"/open311/v2/requests.{fmt}" for fmt in ("json", "xml")),
        *(f"/open311/v2/servicerequestupdates.{fmt}" for fmt in ("json", "xml")),
    ]
    bodies = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        bodies[path] = response.content.decode()
    return bodies


def _shows_the_whole_text(path: str) -> bool:
    """Lists show a title; one report's page, JSON and Open311 request show the whole description."""
    return path.startswith(("/t/", "/api/v1/public/reports/", "/open311/v2/requests/"))


@pytest.mark.parametrize("group", GROUPS)
def test_no_notation_of_personal_data_reaches_a_public_surface(
    client: TestClient, engine: Engine, group: str
) -> None:
    cases = GROUPS[group]
    description = "Ổ gà sâu trên đường Trần Phú. " + ". ".join(text for text, _ in cases) + "."
    ticket = _file(engine, description, address=f"Số 12 đường Trần Phú, {cases[0][0]}")
    _reply_and_move(engine, ticket.id or 0, "Đã tiếp nhận. " + ". ".join(text for text, _ in cases))
    for path, body in _surfaces(client, ticket).items():
        assert ticket.code in body, path
        for text, secret in cases:
            assert not leaked(body, secret), (path, text)
        for contact in ("987111222", "nguoi.gui@example.com", "Đặng Thu Hà"):
            assert not leaked(body, contact), (path, contact)
        assert INTERNAL not in body, path
        if _shows_the_whole_text(path):
            assert "Trần Phú" in body, path


def test_street_names_stay_readable_on_every_public_surface(client: TestClient, engine: Engine) -> None:
    ticket = _file(engine, ". ".join(STREETS) + ".")
    _reply_and_move(engine, ticket.id or 0, "Đã kiểm tra: " + ". ".join(STREETS))
    for path, body in _surfaces(client, ticket).items():
        for street in ("Trần Phú", "Lê Lợi", "Nguyễn Văn Trỗi", "Ngô Gia Tự", "Thống Nhất"):
            if _shows_the_whole_text(path):
                assert street in body, (path, street)


def test_only_publishable_tickets_are_listed_or_served(client: TestClient, engine: Engine) -> None:
    shown = _file(engine, "Ổ gà trước chợ Phan Rang")
    hidden = _file(engine, "Ổ gà ẩn", hidden_from_public=True)
    legal = _file(engine, "Đơn khiếu nại về giải tỏa", legal_process=True)
    rejected = _file(engine, "Quảng cáo rác")
    merged = _file(engine, "Ổ gà trước chợ Phan Rang lần nữa")
    with unit_of_work(engine) as session:
        service.transition(session, rejected.id or 0, Status.REJECTED, actor=SYSTEM, reason="spam")
        service.merge(session, merged.id or 0, into_id=shown.id or 0, actor=SYSTEM)
    listings = [
        client.get(path).text
        for path in (
            "/api/v1/public/reports",
            "/api/v1/public/pins",
            "/reports",
            "/open311/v2/requests.json",
            "/open311/v2/requests.xml",
            "/open311/v2/servicerequestupdates.json",
        )
    ]
    for listing in listings:
        assert shown.code in listing
        for withheld in (hidden, legal, rejected, merged):
            assert withheld.code not in listing
    for withheld in (hidden, legal, rejected, merged):
        for fmt in ("json", "xml"):
            assert client.get(f"/open311/v2/requests/{withheld.code}.{fmt}").status_code == 404
        by_id = client.get("/open311/v2/requests.json", params={"service_request_id": withheld.code})
        assert by_id.json() == []


def test_open311_shows_public_replies_but_not_staff_reasons(client: TestClient, engine: Engine) -> None:
    ticket = _file(engine, "Đèn đường tắt ở Thống Nhất")
    _reply_and_move(engine, ticket.id or 0, "Đội điện sẽ thay bóng trong tuần")
    request = client.get(f"/open311/v2/requests/{ticket.code}.json").json()[0]
    assert request["status_notes"] == "Đội điện sẽ thay bóng trong tuần"
    updates = client.get("/open311/v2/servicerequestupdates.json").json()
    mine = [u for u in updates if u["service_request_id"] == ticket.code]
    # every update carries the status the request had at that moment (a reply too)
    assert {u["external_status_code"] for u in mine} >= {"triaged", "in_progress"}
    assert [u["description"] for u in mine if u["description"]] == ["Đội điện sẽ thay bóng trong tuần"]

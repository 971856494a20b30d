"""Role × resource: what each role may open and see, on the staff pages and the API alike.

Department staff see only their department's tickets, ward officers only their ward's, agents no admin
pages; a ticket id from elsewhere answers 404 on the page and in the API."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from staff_signin import sign_in

from kernel.db import unit_of_work
from tickets.citizens import Contact
from tickets.models import Channel
from tickets.service import NewTicket, create_ticket
from tickets.staff import create_user

PASSWORD = "secret-pass"
PROFILES = {
    "admin": {"role": "admin"},
    "supervisor": {"role": "supervisor"},
    "agent": {"role": "agent"},
    "roads": {"role": "department_staff", "department": "qldt"},
    "environment": {"role": "department_staff", "department": "tnmt"},
    "ward": {"role": "ward_officer", "ward": "ninh-chu"},
}
PAGES = ["/staff/console", "/staff/tasks", "/staff/boards", "/staff/admin", "/staff/tickets"]
OPENS = {
    "admin": set(PAGES),
    "supervisor": {"/staff/console", "/staff/tasks", "/staff/boards", "/staff/tickets"},
    "agent": {"/staff/console", "/staff/tickets"},
    "roads": {"/staff/tasks", "/staff/tickets"},
    "environment": {"/staff/tasks", "/staff/tickets"},
    "ward": {"/staff/tasks", "/staff/tickets"},
}
# who sees which of the three tickets: a pothole (roads, Phan Rang), rubbish (environment, Ninh Chử),
# a broken light (roads, Ninh Chử)
SEES = {
    "admin": {"pothole", "rubbish", "light"},
    "supervisor": {"pothole", "rubbish", "light"},
    "agent": {"pothole", "rubbish", "light"},
    "roads": {"pothole", "light"},
    "environment": {"rubbish"},
    "ward": {"rubbish", "light"},
}
ADMIN_API = [
    ("POST", "/api/v1/users", {"username": "new-one", "password": "long-enough", "role": "admin"}),
    ("PATCH", "/api/v1/users/1", {"active": False}),
    (
        "PUT",
        "/api/v1/channels/zalo/token",
        {"access_token": "x" * 12, "refresh_token": "y" * 12, "expires_in": 60},
    ),
]


@pytest.fixture
def world(engine: Engine) -> dict[str, int]:
    ids: dict[str, int] = {}
    with unit_of_work(engine) as session:
        for name, profile in PROFILES.items():
            create_user(session, username=name, password=PASSWORD, **profile)
        for key, text, category, ward in [
            ("pothole", "Ổ gà lớn trên đường Thống Nhất", "road_damage", "phan-rang"),
            ("rubbish", "Rác thải tồn đọng ở chợ", "waste_collection", "ninh-chu"),
            ("light", "Đèn đường hỏng cả tuần", "street_lighting", "ninh-chu"),
        ]:
            draft = NewTicket(
                description=text,
                channel=Channel.WEB,
                contact=Contact(phone="0905111222"),
                category=category,
                ward=ward,
            )
            ids[key] = create_ticket(session, draft).id or 0
    return ids


def signed_in(client: TestClient, name: str) -> str:
    """Sign in through the login form; returns the page's CSRF token."""
    answer = sign_in(client, name, PASSWORD)
    assert answer.status_code == 303, answer.text
    page = client.get("/staff/tickets")
    marker = 'name="csrf-token" content="'
    return page.text.split(marker, 1)[1].split('"', 1)[0]


@pytest.mark.parametrize("name", list(PROFILES))
def test_pages_by_role(client: TestClient, world: dict[str, int], name: str) -> None:
    signed_in(client, name)
    for page in PAGES:
        answer = client.get(page)
        expected = 200 if page in OPENS[name] else 403
        assert answer.status_code == expected, (name, page, answer.status_code)


@pytest.mark.parametrize("name", list(PROFILES))
def test_tickets_by_role_on_pages_and_api(client: TestClient, world: dict[str, int], name: str) -> None:
    signed_in(client, name)
    by_id = {ticket_id: key for key, ticket_id in world.items()}
    listed = {by_id[t["id"]] for t in client.get("/api/v1/tickets").json()["items"] if t["id"] in by_id}
    assert listed == SEES[name]
    for key, ticket_id in world.items():
        expected = 200 if key in SEES[name] else 404
        assert client.get(f"/staff/tickets/{ticket_id}").status_code == expected, (name, key)
        assert client.get(f"/api/v1/tickets/{ticket_id}").status_code == expected, (name, key)
    exported = client.get("/staff/tickets/export.csv").text
    codes_seen = {key for key, ticket_id in world.items() if _code(client, ticket_id, name) in exported}
    assert codes_seen == SEES[name]


def _code(client: TestClient, ticket_id: int, name: str) -> str:
    answer = client.get(f"/api/v1/tickets/{ticket_id}")
    return answer.json()["code"] if answer.status_code == 200 else f"<hidden {ticket_id}>"


@pytest.mark.parametrize("name", ["agent", "supervisor", "roads", "ward"])
def test_no_admin_api_outside_admins(client: TestClient, world: dict[str, int], name: str) -> None:
    token = signed_in(client, name)
    for method, url, body in ADMIN_API:
        answer = client.request(method, url, json=body, headers={"X-CSRF-Token": token})
        assert answer.status_code == 403, (name, method, url, answer.text)


@pytest.mark.parametrize("name", ["agent", "roads", "ward"])
def test_channel_events_only_for_supervisors_and_admins(
    client: TestClient, world: dict[str, int], name: str
) -> None:
    signed_in(client, name)
    assert client.get("/api/v1/channels/dead-letters").status_code == 403


def test_department_staff_cannot_act_on_another_departments_ticket(
    client: TestClient, world: dict[str, int]
) -> None:
    token = signed_in(client, "environment")
    answer = client.post(
        f"/api/v1/tickets/{world['pothole']}/comments",
        json={"text": "không phải việc của tôi", "public": False},
        headers={"X-CSRF-Token": token},
    )
    assert answer.status_code == 404


def test_signed_out_pages_lead_to_the_login(client: TestClient, make_user: Callable[..., object]) -> None:
    for page in PAGES:
        answer = client.get(page, follow_redirects=False)
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/staff/login?next={page}"
    assert client.get("/api/v1/tickets").status_code == 401

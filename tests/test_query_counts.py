"""SQL statements per request on the lists (issue 22): the public list page and its JSON, the IOC overview,
Open311's list and the staff list (page and API) must cost the same number of statements whether they show
N tickets or 3N — a lookup per shown ticket (its reporter, category, ward) is what made /reports issue 607
statements and /ioc 3,005 at a province's scale."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, update
from sqlalchemy.engine import Engine
from sqlmodel import col
from staff_signin import sign_in

from kernel.db import unit_of_work
from tickets.citizens import Contact
from tickets.models import Channel, Status, Ticket
from tickets.service import NewTicket, create_ticket

N = 4
CATEGORIES = ("street_lighting", "waste_collection", "road_damage")
WARDS = ("phan-rang", "ninh-chu", "do-vinh-2025")


def _reports(engine: Engine, count: int, start: int = 0) -> None:
    """``count`` open reports, each from another citizen, across categories and wards."""
    with unit_of_work(engine) as session:
        for i in range(start, start + count):
            ticket = create_ticket(
                session,
                NewTicket(
                    description=f"Phản ánh số {i} của ông Nguyễn Văn {chr(65 + i % 26)}",
                    title=f"Phản ánh số {i}",
                    category=CATEGORIES[i % len(CATEGORIES)],
                    ward=WARDS[i % len(WARDS)],
                    contact=Contact(phone=f"0905{i:06d}", name=f"Nguyễn Văn {chr(65 + i % 26)}"),
                    channel=Channel.WEB,
                ),
            )
            session.execute(
                update(Ticket)
                .where(col(Ticket.id) == ticket.id)
                .values(status=Status.ASSIGNED, department_code="qldt", latitude=11.56, longitude=108.99)
            )


@contextmanager
def counted(engine: Engine) -> Iterator[list[str]]:
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", count)


def _statements(engine: Engine, fetch: Callable[[], Any]) -> int:
    fetch()  # warm: the first request of a process loads the reference tables
    with counted(engine) as statements:
        response = fetch()
    assert response.status_code == 200, response.text
    return len(statements)


ROUTES = {
    "public list page": "/reports",
    "public list page, filtered by ward": "/reports?ward=phan-rang",
    "public list API": "/api/v1/public/reports",
    "IOC overview page": "/ioc",
    "IOC overview API": "/api/v1/ioc/overview",
    "Open311 list": "/open311/v2/requests.json",
    "staff list page": "/staff/tickets",
    "staff worklist page": "/staff/tasks",
    "staff list API": "/api/v1/tickets",
}


@pytest.mark.parametrize("name", list(ROUTES))
def test_statements_per_request_do_not_grow_with_the_rows_shown(
    name: str, engine: Engine, client: TestClient, make_user: Callable[..., dict[str, str]]
) -> None:
    headers = make_user("admin", username="truongphong")
    assert sign_in(client, "truongphong", "secret-pass").status_code == 303
    path = ROUTES[name]

    def fetch() -> Any:
        return client.get(path, headers=headers if path.startswith("/api/v1/tickets") else None)

    _reports(engine, N)
    few = _statements(engine, fetch)
    shown_few = fetch().text.count("Phản ánh số")
    _reports(engine, 2 * N, start=N)
    many = _statements(engine, fetch)
    shown_many = fetch().text.count("Phản ánh số")
    assert shown_many > shown_few or name.startswith("IOC"), "the second request must show more rows"
    assert many == few, f"{name}: {few} statements for {N} tickets, {many} for {3 * N}"

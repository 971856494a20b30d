"""Statements per request (issue 22). The citizen's status page rendered cold: the ticket, its timeline,
its names to mask, its photos and its deadline are read in one statement (``flows.status_page``), so a
render costs one statement however many people worked on the report, and a report whose reporter's
record was merged away still masks the first reporter's name. A short staff list reads its page and
its total in one pass."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from test_query_counts import counted
from test_staff_list_scale import mixed  # noqa: F401 - a fixture

from kernel.db import unit_of_work
from sla.lists import staff_list
from tickets import merges
from tickets.citizens import Contact
from tickets.models import ActorType, Channel, Ticket
from tickets.service import Actor, NewTicket, TicketFilter, add_comment, create_ticket
from tickets.staff import Role, User
from web import status_cache

COLD_STATEMENTS = 1  # flows.status_page: the ticket, its timeline, names, photos and deadline at once


def _report(engine: Engine, name: str, phone: str) -> tuple[int, int, str]:
    with unit_of_work(engine) as session:
        ticket = create_ticket(
            session,
            NewTicket(
                description="Đèn đường hỏng trước nhà số 12",
                category="street_lighting",
                ward="phan-rang",
                contact=Contact(phone=phone, name=name),
                channel=Channel.WEB,
            ),
        )
        assert ticket.id is not None and ticket.citizen_id is not None
        return ticket.id, ticket.citizen_id, ticket.tracking_token


def _cold_statements(client: TestClient, engine: Engine, token: str) -> tuple[int, str]:
    """The statements of a cold page: through the engine and through the event loop's pool."""
    status_cache.PAGES.clear()
    pool = client.app.state.statements  # type: ignore[attr-defined]
    sent_before = pool.sent
    with counted(engine) as statements:
        page = client.get(f"/t/{token}", headers={"Accept-Language": "vi"})
    assert page.status_code == 200, page.text
    return len(statements) + pool.sent - sent_before, page.text


def _staff(engine: Engine, count: int) -> list[int]:
    with unit_of_work(engine) as session:
        people = [
            User(username=f"canbo{i}", full_name=f"Phạm Minh Khôi {i}", role=Role.AGENT, password_hash="-")
            for i in range(count)
        ]
        session.add_all(people)
        session.flush()
        return [p.id or 0 for p in people]


def test_a_cold_status_page_costs_the_same_statements_however_many_worked_on_it(
    client: TestClient, engine: Engine
) -> None:
    ticket_id, _, token = _report(engine, "Trần Thị Bích", "0912000001")
    client.get(f"/t/{token}")  # warm: the process's first request reads the reference tables
    alone, _ = _cold_statements(client, engine, token)
    with unit_of_work(engine) as session:
        for staff_id in _staff(engine, 4):
            add_comment(
                session,
                ticket_id,
                text="Chúng tôi đã nhận phản ánh của chị Trần Thị Bích.",
                public=True,
                actor=Actor(ActorType.STAFF, staff_id),
            )
    worked_on, page = _cold_statements(client, engine, token)
    assert worked_on == alone <= COLD_STATEMENTS
    assert "Chúng tôi đã nhận phản ánh" in page and "Bích" not in page


def test_a_report_from_a_merged_record_masks_the_first_reporters_name(
    client: TestClient, engine: Engine
) -> None:
    # lower case: found only because it is a known name, not by the name detector
    ticket_id, first, token = _report(engine, "xuka nobita", "0912000002")
    _, kept, _ = _report(engine, "Lê Văn Cường", "0912000003")
    with unit_of_work(engine) as session:
        merges.merge(session, source_id=first, target_id=kept)
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None and ticket.citizen_id == kept  # the report moved with the record
        add_comment(
            session,
            ticket_id,
            text="Chị xuka nobita và anh Lê Văn Cường vui lòng chờ đội điện.",
            public=True,
            actor=Actor(ActorType.STAFF, None),
        )
    _, page = _cold_statements(client, engine, token)
    assert "vui lòng chờ đội điện" in page
    assert "nobita" not in page and "Cường" not in page


@pytest.mark.usefixtures("mixed")
def test_a_counted_staff_list_reads_its_page_and_total_in_one_pass(engine: Engine) -> None:
    """The total of a short list comes with its page (a window over the matches), not from a count read
    before it: the same total and order as counting first, and no count statement unless the page is past
    the end."""
    with unit_of_work(engine) as session:
        viewer = session.exec(select(User).where(col(User.username) == "giamsat")).one()
        codes = sorted(session.exec(select(Ticket.code)).all())
    pages = []
    with counted(engine) as statements:
        for page in (1, 2, 3):
            with unit_of_work(engine) as session:
                pages.append(staff_list(session, TicketFilter(), viewer=viewer, page=page, per_page=4))
    assert [(p.page, p.total, len(p.items), p.estimated) for p in pages] == [
        (1, 9, 4, False),
        (2, 9, 4, False),
        (3, 9, 1, False),
    ]
    assert sorted(item.ticket.code for p in pages for item in p.items) == codes
    assert not [s for s in statements if s.lstrip().upper().startswith("SELECT COUNT")]
    with unit_of_work(engine) as session:
        past = staff_list(session, TicketFilter(), viewer=viewer, page=9, per_page=4)
    assert (past.page, past.total, len(past.items)) == (3, 9, 1)

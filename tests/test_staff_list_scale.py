"""The staff list at a province's scale (issue 22): a list the planner expects to be long is neither
counted nor sorted whole: its total says "about …" and its pages, read open tickets first and done ones
after, keep exactly the order of the single sort by urgency."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select
from test_staff_lists import _clock, _ticket

from kernel.db import unit_of_work
from kernel.timeutil import utcnow
from sla import boards, lists
from sla.lists import ListPage, staff_list
from tickets.models import Status, Ticket
from tickets.service import TicketFilter
from tickets.staff import User, create_user

PASSWORD = "secret-pass"


@pytest.fixture
def mixed(client: TestClient, engine: Engine) -> list[str]:
    """Open tickets in every SLA state, one open without a clock, and done ones, created out of order."""
    with unit_of_work(engine) as session:
        create_user(session, username="giamsat", password=PASSWORD, role="supervisor")
    now = utcnow()
    codes = []
    for n, (status, due) in enumerate(
        [
            (Status.CLOSED, None),
            (Status.ASSIGNED, timedelta(days=4)),
            (Status.RESOLVED, None),
            (Status.ASSIGNED, -timedelta(hours=5)),
            (Status.WAITING_CITIZEN, timedelta(days=1)),
            (Status.ASSIGNED, -timedelta(days=3)),
            (Status.REJECTED, None),
            (Status.IN_PROGRESS, timedelta(hours=2)),
            (Status.NEW, None),
        ]
    ):
        ticket_id, code = _ticket(engine, f"Đèn đường hỏng số {n}")
        with unit_of_work(engine) as session:
            session.execute(update(Ticket).where(col(Ticket.id) == ticket_id).values(status=status))
        codes.append(code)
        if status == Status.WAITING_CITIZEN:
            _clock(engine, ticket_id, state="paused", due_at=now + due)
        elif status == Status.NEW:
            _clock(engine, ticket_id, state="cancelled", due_at=None)  # open, no current clock
        elif due is not None:
            _clock(engine, ticket_id, due_at=now + due, warn_at=now + due - timedelta(hours=3))
        else:
            _clock(engine, ticket_id, state="met", due_at=None, met_at=now)
    return codes


def _pages(engine: Engine, filters: TicketFilter, per_page: int) -> list[ListPage]:
    with unit_of_work(engine) as session:
        viewer = session.exec(select(User).where(col(User.username) == "giamsat")).one()
        return [
            staff_list(session, filters, viewer=viewer, page=page, per_page=per_page) for page in range(1, 7)
        ]


def _codes(pages: list[ListPage]) -> list[str]:
    return [item.ticket.code for page in pages for item in page.items]


@pytest.mark.parametrize(
    "filters",
    [
        TicketFilter(),
        TicketFilter(text="den duong"),
        TicketFilter(status=["closed", "resolved", "assigned"]),
        TicketFilter(status=["assigned", "new"]),
        TicketFilter(status=["closed", "rejected"]),
    ],
)
def test_a_long_list_keeps_the_order_of_the_single_sort_page_by_page(
    engine: Engine, mixed: list[str], monkeypatch: pytest.MonkeyPatch, filters: TicketFilter
) -> None:
    counted = _pages(engine, filters, per_page=2)
    monkeypatch.setattr(lists, "ESTIMATE_OVER", 0)  # every list is "long" now
    estimated = _pages(engine, filters, per_page=2)
    assert _codes(estimated) == _codes(counted) and _codes(counted)
    assert all(page.estimated for page in estimated if page.more)
    last = next(page for page in estimated if not page.more)
    assert not last.estimated and last.total == counted[0].total  # the end was read: the count is known
    assert [page.pages > page.page for page in estimated if page.items] == [
        page.more for page in estimated if page.items
    ]


def test_the_pager_says_about_for_an_estimated_total(client: TestClient, mixed: list[str]) -> None:
    from web.i18n import translator
    from web.pages.common import TEMPLATES

    pager = TEMPLATES.env.from_string(
        '{% from "staff/_ticket_rows.html" import pager with context %}{{ pager(result) }}'
    )

    def link_with(page: int) -> str:
        return f"?page={page}"

    estimated = ListPage([], 36_020, 2, 50, estimated=True, more=True)
    vi = pager.render(lang="vi", t=translator("vi"), result=estimated, link_with=link_with)
    assert "51–100 / khoảng 36.020<" in vi and 'rel="next"' in vi and 'rel="prev"' in vi
    en = pager.render(lang="en", t=translator("en"), result=estimated, link_with=link_with)
    assert "51–100 / about 36,020<" in en
    counted = pager.render(lang="vi", t=translator("vi"), result=ListPage([], 9, 1, 50), link_with=link_with)
    assert "1–9 / 9<" in counted and "khoảng" not in counted and 'rel="next"' not in counted


def test_an_old_link_past_the_end_of_a_long_list_shows_its_last_page(
    engine: Engine, mixed: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(lists, "ESTIMATE_OVER", 0)
    with unit_of_work(engine) as session:
        viewer = session.exec(select(User).where(col(User.username) == "giamsat")).one()
        past = staff_list(session, TicketFilter(), viewer=viewer, page=9, per_page=4)
    assert (past.page, past.total, len(past.items), past.estimated) == (3, 9, 1, False)


@pytest.fixture
def overdue(engine: Engine, mixed: list[str]) -> None:
    """More breached work beside ``mixed``'s: marked breached by the scan or only past due; three due at
    the same time, whose clocks were changed in the reverse order of the tickets' creation (an index
    holds them in that order, the list in the order of creation); one of another department; a
    breached clock already met (not current: that ticket has no deadline); a paused clock past its
    due time (paused, not breached); a reopened ticket."""
    now = utcnow()
    tied = now - timedelta(days=2)
    clocks: list[dict[str, object]] = [
        {"state": "breached", "due_at": tied - timedelta(days=7), "breached_at": now},
        {"due_at": tied},
        {"state": "breached", "due_at": tied, "breached_at": tied},
        {"due_at": tied},
        {"due_at": now - timedelta(days=1)},
        {"state": "breached", "due_at": now - timedelta(days=20), "met_at": now},
        {"state": "paused", "due_at": now - timedelta(days=30)},
        {"due_at": now - timedelta(minutes=30)},
    ]
    ids = [_ticket(engine, f"Đèn đường quá hạn {n}")[0] for n in range(len(clocks))]
    for ticket_id, clock in reversed(list(zip(ids, clocks, strict=True))):
        _clock(engine, ticket_id, **clock)
    with unit_of_work(engine) as session:
        session.execute(update(Ticket).where(col(Ticket.id) == ids[4]).values(department_code="tnmt"))
        session.execute(update(Ticket).where(col(Ticket.id) == ids[7]).values(status=Status.REOPENED))
        create_user(session, username="minh", password=PASSWORD, role="department_staff", department="qldt")


@pytest.mark.parametrize("walk", [1, 2, 3, 4, 100])
@pytest.mark.parametrize(
    "filters",
    [TicketFilter(), TicketFilter(text="qua han"), TicketFilter(status=["assigned", "closed"])],
)
@pytest.mark.parametrize("username", ["giamsat", "minh"])
def test_the_longest_overdue_read_first_keep_the_order_of_the_single_sort(
    engine: Engine,
    overdue: None,
    monkeypatch: pytest.MonkeyPatch,
    filters: TicketFilter,
    walk: int,
    username: str,
) -> None:
    """A long list's first pages are looked for among the breached clocks, longest overdue first, a
    bounded number of them: whether the walk finds the page, stops on a due time it has not read whole,
    or finds too few, the pages are those of the single sort, for every viewer."""

    def pages() -> list[ListPage]:
        with unit_of_work(engine) as session:
            viewer = session.exec(select(User).where(col(User.username) == username)).one()
            return [staff_list(session, filters, viewer=viewer, page=n, per_page=1) for n in range(1, 20)]

    counted = pages()
    monkeypatch.setattr(lists, "ESTIMATE_OVER", 0)
    monkeypatch.setattr(boards, "OVERDUE_WALK", walk)
    answered = []
    walk_first = boards.overdue_first

    def spy(*args: object, **kwargs: object) -> object:
        found = walk_first(*args, **kwargs)  # type: ignore[arg-type]
        answered.append(found is not None)
        return found

    monkeypatch.setattr(lists, "overdue_first", spy)
    walked = pages()
    assert _codes(walked) == _codes(counted) and _codes(counted)
    assert [(p.page, p.more) for p in walked] == [(p.page, p.page < p.pages) for p in counted]
    if walk == 100:
        assert any(answered)  # the walk read the first pages itself
    if walk == 1:
        assert not any(answered)


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 6, 50])
def test_the_worklist_read_from_the_longest_overdue_is_the_sorted_one(
    engine: Engine, overdue: None, monkeypatch: pytest.MonkeyPatch, limit: int
) -> None:
    """The SLA board's worklist takes its first tickets from the walk when they are all breached, and
    lists the same tickets as the sort, for every viewer and department."""

    def listed(walk: int) -> list[list[str]]:
        monkeypatch.setattr(boards, "OVERDUE_WALK", walk)
        with unit_of_work(engine) as session:
            lists_ = []
            for username in ("giamsat", "minh"):
                viewer = session.exec(select(User).where(col(User.username) == username)).one()
                for department in (None, "tnmt"):
                    items = boards.worklist(session, viewer, department=department, limit=limit)
                    lists_.append([item.ticket.code for item in items])
            return lists_

    sorted_ = listed(0)  # no clock walked: every list is sorted
    assert any(sorted_) and listed(3) == sorted_ and listed(100) == sorted_

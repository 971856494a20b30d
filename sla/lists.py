"""The staff lists (the worklist and the filtered ticket list, and their exports): one query that
filters, sorts and pages tickets with their SLA state, counted, so every list shows the same truth."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import case, func, nulls_last
from sqlmodel import Session, col, select

from civicdesk.timeutil import utcnow
from sla.boards import WorkItem, urgency_expression, with_current_clocks, work_item
from sla.models import SlaClock
from sla.state import current_resolution_clock
from tickets.models import OPEN_STATUSES, Priority, Ticket
from tickets.service import TicketFilter, filter_conditions
from tickets.staff import User

URGENCY_RANK = {"breached": 0, "at_risk": 1, "on_track": 2, "paused": 3, "no_deadline": 4}
PRIORITY_RANK = {Priority.URGENT: 0, Priority.HIGH: 1, Priority.NORMAL: 2, Priority.LOW: 3}
# a sort is a column name, "-" in front for the other way; "urgency" is breached → at risk → on time
SORTS = (
    "urgency",
    "due",
    "-due",
    "priority",
    "-priority",
    "created",
    "-created",
    "status",
    "-status",
    "code",
)
DEFAULT_SORT = "urgency"
PER_PAGE = 50


@dataclass(frozen=True)
class ListPage:
    items: list[WorkItem]
    total: int
    page: int
    per_page: int

    @property
    def first(self) -> int:
        return min((self.page - 1) * self.per_page + 1, self.total)

    @property
    def last(self) -> int:
        return min(self.page * self.per_page, self.total)

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


def _urgency_rank(now: datetime) -> Any:
    open_rank = case(
        *((urgency_expression(now) == name, rank) for name, rank in URGENCY_RANK.items()), else_=4
    )
    return case((col(Ticket.status).in_(OPEN_STATUSES), open_rank), else_=len(URGENCY_RANK))


def _order(sort: str, now: datetime) -> list[Any]:
    due = col(SlaClock.due_at)
    priority = case(*((col(Ticket.priority) == p.value, r) for p, r in PRIORITY_RANK.items()), else_=9)
    by_sort: dict[str, list[Any]] = {
        "urgency": [_urgency_rank(now), nulls_last(due.asc())],
        "due": [nulls_last(due.asc())],
        "-due": [nulls_last(due.desc())],
        "priority": [priority, nulls_last(due.asc())],
        "-priority": [priority.desc(), nulls_last(due.asc())],
        "created": [col(Ticket.created_at).asc()],
        "-created": [col(Ticket.created_at).desc()],
        "status": [col(Ticket.status).asc(), nulls_last(due.asc())],
        "-status": [col(Ticket.status).desc(), nulls_last(due.asc())],
        "code": [col(Ticket.code).asc()],
    }
    return [*by_sort.get(sort, by_sort[DEFAULT_SORT]), col(Ticket.created_at).asc(), col(Ticket.id).asc()]


def _conditions(filters: TicketFilter, viewer: User, urgency: str | None, now: datetime) -> list[Any]:
    conditions = filter_conditions(filters, viewer=viewer)
    if urgency:
        conditions += [col(Ticket.status).in_(OPEN_STATUSES), urgency_expression(now) == urgency]
    return conditions


def staff_list(
    session: Session,
    filters: TicketFilter,
    *,
    viewer: User,
    sort: str = DEFAULT_SORT,
    page: int = 1,
    per_page: int = PER_PAGE,
    urgency: str | None = None,
    now: datetime | None = None,
) -> ListPage:
    """One page of the tickets matching ``filters`` (and, if given, in one SLA state: "breached"…) that
    the viewer may see, sorted, with the total."""
    now = now or utcnow()
    conditions = _conditions(filters, viewer, urgency, now)
    counted = select(func.count()).select_from(Ticket)
    if urgency:
        counted = counted.outerjoin(SlaClock, current_resolution_clock())
    total = session.exec(counted.where(*conditions)).one()
    page = max(1, min(page, -(-total // per_page)))  # past the end (the list shrank): the last page
    # the sort runs over narrow rows (ids and sort keys), then only one page of whole tickets is read
    ordered = (
        select(Ticket.id)
        .outerjoin(SlaClock, current_resolution_clock())
        .where(*conditions)
        .order_by(*_order(sort, now))
        .offset((page - 1) * per_page)
        .limit(per_page)
    )
    page_rows = with_current_clocks(session, session.exec(ordered).all())
    return ListPage([work_item(ticket, clock, now) for ticket, clock in page_rows], total, page, per_page)


def every_item(
    session: Session,
    filters: TicketFilter,
    *,
    viewer: User,
    sort: str = DEFAULT_SORT,
    urgency: str | None = None,
    limit: int = 100_000,
) -> Iterator[WorkItem]:
    """The whole list in the page's order (for the exports): one sort, streamed from a server-side
    cursor a few hundred rows at a time, so a large export neither re-sorts per page nor loads at once."""
    now = utcnow()
    query = (
        select(Ticket, SlaClock)
        .outerjoin(SlaClock, current_resolution_clock())
        .where(*_conditions(filters, viewer, urgency, now))
        .order_by(*_order(sort, now))
        .limit(limit)
        .execution_options(yield_per=500)
    )
    for ticket, clock in session.exec(query):
        yield work_item(ticket, clock, now)

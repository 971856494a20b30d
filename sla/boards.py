"""What staff look at all day: a worklist ordered by SLA urgency, and the SLA board by department and ward."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, nulls_last, or_, text, true
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from kernel.timeutil import utcnow
from sla.models import TIMED_CLOCK_SQL, SlaClock
from sla.state import (
    OPEN_URGENCIES,
    SlaState,
    current_resolution_clock,
    state_from,
    urgency_of,
    urgency_rank_sql,
    urgency_sql,
)
from tickets.models import OPEN_STATUS_ORDER, OPEN_STATUSES, Status, Ticket
from tickets.reference import Category
from tickets.service import visible_to
from tickets.staff import User

URGENCIES = OPEN_URGENCIES
# a list's first page in urgency order is looked for among this many breached clocks, longest overdue
# first, before every open match is sorted (overdue_first): ~2-5 µs a clock at a million tickets
OVERDUE_WALK = 2_000


@dataclass(frozen=True)
class WorkItem:
    ticket: Ticket
    due_at: datetime | None
    clock_state: str | None
    urgency: str  # breached, at_risk, on_track, paused, no_deadline (and done, in lists of any status)
    state: SlaState | None = None  # the one standing every view shows (sla.state)

    def label(self, lang: str = "vi") -> str:
        return self.state.label(lang) if self.state else ""


urgency_expression = urgency_sql  # the lists' name for the one SQL rule of sla.state


def urgency_counts(session: Session, *, now: datetime | None = None) -> Counter[str]:
    """Open tickets city-wide by urgency, counted in the database by the rules of ``sla.state``, for
    /metrics and the IOC wall, where loading every open ticket would cost seconds."""
    now = now or utcnow()
    urgency = urgency_sql(now)
    query = (
        select(urgency, func.count())
        .select_from(Ticket)
        .outerjoin(SlaClock, current_resolution_clock())
        .where(col(Ticket.status).in_(OPEN_STATUS_ORDER))
        .group_by(urgency)
    )
    counts: Counter[str] = Counter()
    for name, count in session.exec(query).all():
        counts[name] = count
    return counts


def worklist(
    session: Session,
    viewer: User,
    *,
    statuses: frozenset[Status] = OPEN_STATUSES,
    department: str | None = None,
    ward: str | None = None,
    limit: int = 300,
    now: datetime | None = None,
) -> list[WorkItem]:
    """Open tickets the viewer may see: breached first (the longest overdue first), then at risk, on
    track, paused and without a deadline, each by its deadline."""
    now = now or utcnow()
    conditions: list[Any] = [col(Ticket.status).in_(statuses), *visible_to(viewer)]
    if department:
        conditions.append(col(Ticket.department_code) == department)
    if ward:
        conditions.append(col(Ticket.ward_code) == ward)
    # read from the longest overdue down when the first ``limit`` are all breached (a ward's tickets
    # are of one period: sorted instead); else the order is chosen over ids and sort keys only
    # (ix_ticket_open and ix_sla_clock_current hold them), then one page of whole tickets is read
    ids = None if ward else overdue_first(session, conditions, now, limit)
    if ids is None:
        ordered = (
            select(Ticket.id)
            .outerjoin(SlaClock, current_resolution_clock())
            .where(*conditions)
            .order_by(
                urgency_rank_sql(now),
                nulls_last(col(SlaClock.due_at).asc()),
                col(Ticket.created_at).asc(),
                col(Ticket.id).asc(),
            )
            .limit(limit)
        )
        ids = list(session.exec(ordered).all())
    items = []
    for ticket, clock in with_current_clocks(session, ids):
        state = state_from(session, ticket, [clock] if clock else [], now)
        items.append(WorkItem(ticket, state.due_at, state.clock_state, state.urgency, state))
    return items


def _overdue_clock(now: datetime) -> ColumnElement[bool]:
    """A current resolution clock that ``sla.state`` calls breached (within ``ix_sla_clock_timed_due``)."""
    return and_(
        text(TIMED_CLOCK_SQL),
        or_(col(SlaClock.breached_at).is_not(None), col(SlaClock.due_at) <= now),
    )


def overdue_first(
    session: Session, conditions: list[Any], now: datetime, wanted: int
) -> list[int | None] | None:
    """The first ``wanted`` open matches in urgency order when they are all breached, found by walking
    the breached clocks from the longest overdue (``ix_sla_clock_timed_due``) and looking each one's
    ticket up by id against the filter, over at most ``OVERDUE_WALK`` clocks. Breached is the first
    urgency and is ordered by due time, then by creation and id: the walk's order. None when the walk
    cannot tell: fewer matches than wanted among the walked clocks, or a page ending on the due time of
    the last clock walked (the clocks due at that time were not all walked). The open matches are
    then sorted whole. Sorting them read 5,000-8,500 current clocks for "đèn đường" or a ward's open
    tickets (10-17 ms at a million tickets); the walk finds 51 "đèn đường" in ~1,400 clocks."""
    walked = (
        sa_select(col(SlaClock.ticket_id), col(SlaClock.due_at))
        .where(_overdue_clock(now))
        .order_by(col(SlaClock.due_at))
        .limit(OVERDUE_WALK)
        .subquery("walked")
    )
    match = (
        sa_select(col(Ticket.id), col(Ticket.created_at))
        .where(col(Ticket.id) == walked.c.ticket_id, *conditions, col(Ticket.status).in_(OPEN_STATUS_ORDER))
        .limit(1)  # keeps the lookup a LATERAL one: joined, PostgreSQL would scan the matches instead
        .lateral("match")
    )
    last_walked = (
        sa_select(col(SlaClock.due_at))
        .where(_overdue_clock(now))
        .order_by(col(SlaClock.due_at))
        .offset(OVERDUE_WALK - 1)
        .limit(1)
        .scalar_subquery()
    )
    rows = session.exec(
        select(match.c.id, walked.c.due_at, last_walked)
        .select_from(walked)
        .join(match, true())
        .order_by(walked.c.due_at, match.c.created_at, match.c.id)
        .limit(wanted)
    ).all()
    if len(rows) < wanted:
        return None
    _, due_at, last_due = rows[-1]
    if last_due is not None and due_at >= last_due:  # None: every breached clock was walked
        return None
    ids = [ticket_id for ticket_id, _, _ in rows]
    return ids if len(set(ids)) == len(ids) else None  # a ticket with two current clocks: sort instead


def with_current_clocks(session: Session, ids: Sequence[int | None]) -> list[tuple[Ticket, SlaClock | None]]:
    """These tickets, each with its current resolution clock, in the order of ``ids`` (one statement):
    the lists choose their page over ids and sort keys alone, then read the page's rows here."""
    rows = session.exec(
        select(Ticket, SlaClock)
        .outerjoin(SlaClock, current_resolution_clock())
        .where(col(Ticket.id).in_(ids))
    ).all()
    by_id = {ticket.id: (ticket, clock) for ticket, clock in rows}
    return [by_id[i] for i in ids if i in by_id]


def work_item(ticket: Ticket, clock: SlaClock | None, now: datetime) -> WorkItem:
    """A ticket with its SLA state as every staff view shows it; a finished ticket is "done"."""
    due_at = clock.due_at if clock else None
    clock_state = clock.state if clock else None
    if ticket.status not in OPEN_STATUSES:
        return WorkItem(ticket, due_at, clock_state, "done")
    urgency = urgency_of(clock, now)
    return WorkItem(ticket, due_at, clock_state, urgency, SlaState(urgency, due_at, clock_state, now))


@dataclass
class BoardRow:
    code: str
    open: int = 0
    at_risk: int = 0
    breached: int = 0


@dataclass
class SlaBoard:
    by_department: list[BoardRow] = field(default_factory=list)
    by_ward: list[BoardRow] = field(default_factory=list)
    urgent: list[WorkItem] = field(default_factory=list)
    totals: Counter[str] = field(default_factory=Counter)


def board_urgency_sql(now: datetime) -> ColumnElement[str]:
    """``state_from``'s urgency of open work as SQL: ``urgency_sql``, except that a ticket without a
    current clock is "out_of_sla" when it follows a legal process or its category is out of the SLA.
    Needs the outer joins on the current resolution clock and on the category."""
    out_of_sla = and_(
        col(SlaClock.id).is_(None),
        or_(col(Ticket.legal_process), func.coalesce(col(Category.out_of_sla), False)),
    )
    return case((out_of_sla, "out_of_sla"), else_=urgency_sql(now))


def board(session: Session, viewer: User, *, now: datetime | None = None) -> SlaBoard:
    """Open work at risk or breached, counted by department and by ward, worst first. The figures are
    counted by the database (one grouped query over every open ticket the viewer may see); only the 50
    most urgent tickets are read as rows."""
    now = now or utcnow()
    urgency = board_urgency_sql(now)
    counted = (
        select(Ticket.department_code, Ticket.ward_code, urgency, func.count())
        .select_from(Ticket)
        .outerjoin(SlaClock, current_resolution_clock())
        .outerjoin(Category, col(Category.code) == col(Ticket.category_code))
        .where(col(Ticket.status).in_(OPEN_STATUS_ORDER), *visible_to(viewer))
        .group_by(col(Ticket.department_code), col(Ticket.ward_code), urgency)
    )
    departments: dict[str, BoardRow] = {}
    wards: dict[str, BoardRow] = {}
    result = SlaBoard()
    for department, ward, name, count in session.exec(counted).all():
        for rows, code in ((departments, department), (wards, ward)):
            row = rows.setdefault(code or "—", BoardRow(code or "—"))
            row.open += count
            if name in ("at_risk", "breached"):
                setattr(row, name, getattr(row, name) + count)
        result.totals[name] += count
        result.totals["open"] += count
    result.by_department = sorted(departments.values(), key=_worst_first)
    result.by_ward = sorted(wards.values(), key=_worst_first)
    # the worklist puts breached, then at-risk work first: the first 50 hold the 50 most urgent
    items = worklist(session, viewer, limit=50, now=now)
    result.urgent = [i for i in items if i.urgency in ("breached", "at_risk")]
    return result


def _worst_first(row: BoardRow) -> tuple[int, int, int, str]:
    return (-row.breached, -row.at_risk, -row.open, row.code)

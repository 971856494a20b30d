"""What staff look at all day: a worklist ordered by SLA urgency, and the SLA board by department and ward."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, nulls_last
from sqlmodel import Session, col, select

from civicdesk.timeutil import utcnow
from sla.models import SlaClock
from sla.state import (
    OPEN_URGENCIES,
    SlaState,
    current_resolution_clock,
    state_from,
    urgency_of,
    urgency_rank_sql,
    urgency_sql,
)
from tickets.models import OPEN_STATUSES, Status, Ticket
from tickets.service import visible_to
from tickets.staff import User

URGENCIES = OPEN_URGENCIES


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
        .where(col(Ticket.status).in_(OPEN_STATUSES))
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
    query = (
        select(Ticket, SlaClock)
        .outerjoin(SlaClock, current_resolution_clock())
        .where(col(Ticket.status).in_(statuses), *visible_to(viewer))
        .order_by(urgency_rank_sql(now), nulls_last(col(SlaClock.due_at).asc()), col(Ticket.created_at).asc())
        .limit(limit)
    )
    if department:
        query = query.where(Ticket.department_code == department)
    if ward:
        query = query.where(Ticket.ward_code == ward)
    items = []
    for ticket, clock in session.exec(query).all():
        state = state_from(session, ticket, [clock] if clock else [], now)
        items.append(WorkItem(ticket, state.due_at, state.clock_state, state.urgency, state))
    return items


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


def board(session: Session, viewer: User, *, now: datetime | None = None) -> SlaBoard:
    """Open work at risk or breached, counted by department and by ward, worst first."""
    items = worklist(session, viewer, limit=5000, now=now)
    departments: dict[str, BoardRow] = {}
    wards: dict[str, BoardRow] = {}
    result = SlaBoard()
    for item in items:
        for rows, code in ((departments, item.ticket.department_code), (wards, item.ticket.ward_code)):
            row = rows.setdefault(code or "—", BoardRow(code or "—"))
            row.open += 1
            if item.urgency in ("at_risk", "breached"):
                setattr(row, item.urgency, getattr(row, item.urgency) + 1)
        result.totals[item.urgency] += 1
        result.totals["open"] += 1
    worst_first = sorted(departments.values(), key=lambda r: (-r.breached, -r.at_risk, -r.open, r.code))
    result.by_department = worst_first
    result.by_ward = sorted(wards.values(), key=lambda r: (-r.breached, -r.at_risk, -r.open, r.code))
    result.urgent = [i for i in items if i.urgency in ("breached", "at_risk")][:50]
    return result

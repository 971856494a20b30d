"""The one answer to "how is this ticket doing against its deadline?", used by every view: the worklist,
the ticket page, the boards, the IOC wall, the exports and the API.

A ticket's standing comes from its current resolution clock: the one running or paused, or breached and
not yet met (the scan marks a missed clock breached; the ticket stays breached until it is done). A
finished ticket is judged by its last resolution clock: met on time, or missed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, and_, case, or_
from sqlalchemy.dialects import postgresql
from sqlmodel import Session, col, select

from kernel.timeutil import utcnow
from sla.models import ClockKind, ClockState, SlaClock
from tickets.models import OPEN_STATUSES, Ticket
from tickets.reference import Category

ACTIVE_CLOCK = (ClockState.RUNNING, ClockState.PAUSED)
# open work, in the worklist's order of attention
OPEN_URGENCIES = ("breached", "at_risk", "on_track", "paused", "no_deadline")

LABELS = {
    "vi": {
        "breached": "quá hạn {span}",
        "at_risk": "sắp đến hạn, còn {span}",
        "on_track": "còn {span}",
        "paused": "tạm dừng (chờ người dân)",
        "no_deadline": "không có hạn",
        "met": "đã xong đúng hạn",
        "missed": "đã xong, trễ hạn",
        "out_of_sla": "không tính hạn (thủ tục riêng)",
    },
    "en": {
        "breached": "overdue by {span}",
        "at_risk": "at risk, {span} left",
        "on_track": "{span} left",
        "paused": "on hold (waiting for the citizen)",
        "no_deadline": "no deadline",
        "met": "done on time",
        "missed": "done late",
        "out_of_sla": "no deadline (own legal process)",
    },
}
UNITS = {"vi": ("ngày", "giờ", "phút"), "en": ("days", "hours", "minutes")}


@dataclass(frozen=True)
class SlaState:
    urgency: str  # one of OPEN_URGENCIES, or met / missed / out_of_sla once done
    due_at: datetime | None
    clock_state: str | None
    now: datetime

    @property
    def breached(self) -> bool:
        return self.urgency in ("breached", "missed")

    @property
    def overdue_minutes(self) -> int | None:
        if self.urgency != "breached" or self.due_at is None:
            return None
        return max(int((self.now - self.due_at).total_seconds() // 60), 0)

    def label(self, lang: str = "vi") -> str:
        """ "quá hạn 3 ngày", "còn 5 giờ", "tạm dừng…": what a person reads in any view."""
        texts = LABELS.get(lang, LABELS["vi"])
        span = _span(abs(self.due_at - self.now), lang) if self.due_at else ""
        return texts[self.urgency].format(span=span)


def _span(length: timedelta, lang: str) -> str:
    days, hours, minutes = UNITS.get(lang, UNITS["vi"])
    seconds = int(length.total_seconds())
    if seconds >= 86400:
        return f"{seconds // 86400} {days}"
    if seconds >= 3600:
        return f"{seconds // 3600} {hours}"
    return f"{max(seconds // 60, 1)} {minutes}"


def urgency_of(clock: SlaClock | None, now: datetime) -> str:
    """The urgency of open work from its current resolution clock (None: no clock)."""
    if clock is None or clock.due_at is None:
        return "paused" if clock is not None and clock.state == ClockState.PAUSED else "no_deadline"
    if clock.state == ClockState.PAUSED:
        return "paused"
    if clock.breached_at is not None or clock.due_at <= now:
        return "breached"
    if clock.warned or (clock.warn_at is not None and clock.warn_at <= now):
        return "at_risk"
    return "on_track"


def _urgency_rules(now: datetime, clock: Any = SlaClock) -> list[tuple[ColumnElement[bool], str]]:
    """``urgency_of`` as SQL conditions over an outer join on the current resolution clock (``clock``:
    the table, or the columns of a subquery that reads it)."""
    return [
        (col(clock.id).is_(None), "no_deadline"),
        (col(clock.state) == ClockState.PAUSED, "paused"),
        (col(clock.due_at).is_(None), "no_deadline"),
        (or_(col(clock.breached_at).is_not(None), col(clock.due_at) <= now), "breached"),
        (or_(col(clock.warned), col(clock.warn_at) <= now), "at_risk"),
    ]


def urgency_sql(now: datetime) -> ColumnElement[str]:
    """The urgency word, computed by the database (for counts)."""
    return case(*_urgency_rules(now), else_="on_track")


def urgency_rank_sql(now: datetime, clock: Any = SlaClock) -> ColumnElement[int]:
    """The urgency's place in ``OPEN_URGENCIES`` (breached first), for ordering a worklist."""
    ranks = [(condition, OPEN_URGENCIES.index(name)) for condition, name in _urgency_rules(now, clock)]
    return case(*ranks, else_=OPEN_URGENCIES.index("on_track"))


def is_current(clock: SlaClock) -> bool:
    return clock.kind == ClockKind.RESOLUTION and (
        clock.state in ACTIVE_CLOCK or (clock.state == ClockState.BREACHED and clock.met_at is None)
    )


def current_resolution_clock() -> ColumnElement[bool]:
    """``is_current`` as a join condition between Ticket and SlaClock."""
    return and_(
        col(SlaClock.ticket_id) == col(Ticket.id),
        col(SlaClock.kind) == ClockKind.RESOLUTION,
        or_(
            col(SlaClock.state).in_(ACTIVE_CLOCK),
            and_(col(SlaClock.state) == ClockState.BREACHED, col(SlaClock.met_at).is_(None)),
        ),
    )


@lru_cache(maxsize=1)
def citizen_deadline_sql() -> str:
    """The deadline promised to the citizen (``view(...).resolution_due_at``) as an SQL expression over a
    row of the ``ticket`` table, for a statement that reads it beside the ticket's other columns (the
    status page's): the current resolution clock's due time while the ticket is open."""
    condition = and_(current_resolution_clock(), col(Ticket.status).in_(sorted(OPEN_STATUSES)))
    dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
    where = condition.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
    # our own condition, its values our own enumerations
    return f"(SELECT sla_clock.due_at FROM sla_clock WHERE {where} ORDER BY sla_clock.id LIMIT 1)"  # noqa: S608


def state_from(session: Session, ticket: Ticket, clocks: Sequence[SlaClock], now: datetime) -> SlaState:
    """The standing of one ticket given its resolution clocks (any order)."""
    if ticket.status in OPEN_STATUSES:
        current = next((c for c in clocks if is_current(c)), None)
        if current is None and _out_of_sla(session, ticket):
            return SlaState("out_of_sla", None, None, now)
        due = current.due_at if current else None
        return SlaState(urgency_of(current, now), due, current.state if current else None, now)
    resolution = [c for c in clocks if c.kind == ClockKind.RESOLUTION]
    if not resolution:
        return SlaState("out_of_sla" if _out_of_sla(session, ticket) else "no_deadline", None, None, now)
    last = max(resolution, key=lambda c: c.cycle)
    return SlaState("missed" if last.breached_at is not None else "met", None, last.state, now)


def _out_of_sla(session: Session, ticket: Ticket) -> bool:
    """What ``policies.targets_for`` decides first, without reading the policies (lists ask per row)."""
    category = session.get(Category, ticket.category_code) if ticket.category_code else None
    return ticket.legal_process or (category is not None and category.out_of_sla)


def states_for(
    session: Session, tickets: Sequence[Ticket], *, now: datetime | None = None
) -> dict[int, SlaState]:
    """Every ticket's standing, keyed by id, in one read of the clocks (for lists and exports)."""
    now = now or utcnow()
    ids = [t.id for t in tickets if t.id is not None]
    clocks: dict[int, list[SlaClock]] = {ticket_id: [] for ticket_id in ids}
    if ids:
        query = select(SlaClock).where(
            col(SlaClock.ticket_id).in_(ids), SlaClock.kind == ClockKind.RESOLUTION
        )
        for clock in session.exec(query).all():
            clocks[clock.ticket_id].append(clock)
    return {t.id: state_from(session, t, clocks[t.id], now) for t in tickets if t.id is not None}


def state_of(session: Session, ticket: Ticket, *, now: datetime | None = None) -> SlaState:
    return states_for(session, [ticket], now=now)[ticket.id or 0]


def open_on_time_rate(counts: Mapping[str, int]) -> float | None:
    """Of the open tickets that have a running deadline, the share not past it, in per cent (paused
    work and work with no deadline are left out). The IOC wall shows it; the board counts the same."""
    timed = counts.get("on_track", 0) + counts.get("at_risk", 0) + counts.get("breached", 0)
    if not timed:
        return None
    return round(100 * (timed - counts.get("breached", 0)) / timed, 1)

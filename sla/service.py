"""The SLA clocks of a ticket: started at creation, paused while waiting for the citizen, met by a
person's acknowledgement and by resolution, restarted by a reopen; warned at 75 % and escalated at
breach by the scan that beat runs every few seconds."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, col, select

from kernel.city import city_profile
from kernel.errors import Invalid, NotFound
from kernel.i18n import _, label
from kernel.settings import get_settings
from kernel.timeutil import as_utc, city_tz, utcnow
from sla import state as sla_state
from sla.calendar import WorkingCalendar, parse_office_hours, parse_weekdays
from sla.models import CalendarException, ClockKind, ClockState, ExceptionKind, Notification, SlaClock
from sla.policies import Target, Targets, targets_for
from tickets.conversation import is_status_page_message
from tickets.models import OPEN_STATUSES, ActorType, EventKind, Priority, Status, Ticket, TicketEvent
from tickets.service import SYSTEM, record_event
from tickets.staff import Role, User

log = logging.getLogger(__name__)

DONE_STATUSES = (Status.RESOLVED, Status.CLOSED, Status.REJECTED, Status.DUPLICATE)


# --- the calendar in force ------------------------------------------------------------------------


def calendar_for(session: Session) -> WorkingCalendar:
    settings = get_settings()
    exceptions = session.exec(select(CalendarException)).all()
    return WorkingCalendar(
        office_hours=parse_office_hours(settings.sla_office_hours),
        weekdays=parse_weekdays(settings.sla_working_weekdays),
        extra_days_off=frozenset(e.day for e in exceptions if e.kind == ExceptionKind.DAY_OFF),
        extra_working_days=frozenset(e.day for e in exceptions if e.kind == ExceptionKind.WORKING_DAY),
    )


@dataclass(frozen=True)
class YearCalendar:
    """A year's working days at a glance, for the administrators' calendar page."""

    office_hours: list[list[str]]
    exceptions: list[CalendarException]
    days_off_on_weekdays: list[str]
    working_days_on_weekends: list[str]
    working_days: int


def year_calendar(session: Session, year: int) -> YearCalendar:
    """The year's holidays and make-up days from the package, with the administrators' exceptions."""
    working = calendar_for(session)
    first, last = date(year, 1, 1), date(year, 12, 31)
    exceptions = session.exec(
        select(CalendarException)
        .where(col(CalendarException.day) >= first, col(CalendarException.day) <= last)
        .order_by(col(CalendarException.day))
    ).all()
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return YearCalendar(
        office_hours=[[a.isoformat("minutes"), b.isoformat("minutes")] for a, b in working.office_hours],
        exceptions=list(exceptions),
        days_off_on_weekdays=[
            d.isoformat() for d in days if d.weekday() in working.weekdays and not working.is_working_day(d)
        ],
        working_days_on_weekends=[
            d.isoformat() for d in days if d.weekday() not in working.weekdays and working.is_working_day(d)
        ],
        working_days=sum(1 for _day in working.working_days(first, last)),
    )


def due_for(session: Session, start: datetime, priority: str, category_code: str | None) -> datetime | None:
    """The resolution due time of a ticket created at ``start`` (what `civicdesk sla due` prints)."""
    targets = targets_for(session, priority, category_code)
    if targets.resolution is None:
        return None
    calendar = calendar_for(session)
    return calendar.add(start, targets.resolution.minutes(calendar))


# --- starting and moving clocks -------------------------------------------------------------------


def _clocks(session: Session, ticket_id: int, *states: ClockState) -> list[SlaClock]:
    query = select(SlaClock).where(SlaClock.ticket_id == ticket_id)
    if states:
        query = query.where(col(SlaClock.state).in_(states))
    return list(session.exec(query.order_by(col(SlaClock.id))).all())


def _schedule(clock: SlaClock, calendar: WorkingCalendar, now: datetime) -> None:
    """Set due and warning times from the start of the running segment and what is left."""
    clock.segment_started_at = clock.segment_started_at or now
    left = clock.target_minutes - clock.consumed_minutes
    clock.due_at = calendar.add(clock.segment_started_at, left)
    warn_left = clock.target_minutes * city_profile().sla.warning_fraction - clock.consumed_minutes
    clock.warn_at = None if clock.warned else calendar.add(clock.segment_started_at, max(warn_left, 0))


def escalated(priority: Priority) -> Priority:
    """The priority a breached ticket goes up to: the city profile's sla.escalation step (urgent stays
    urgent in the shipped one); a priority the profile lists no step for keeps its level."""
    return Priority(city_profile().sla.escalation.get(priority.value, priority.value))


def _start(
    session: Session,
    ticket: Ticket,
    kind: ClockKind,
    target: Target,
    calendar: WorkingCalendar,
    now: datetime,
    cycle: int = 1,
) -> SlaClock:
    assert ticket.id is not None
    clock = SlaClock(
        ticket_id=ticket.id,
        kind=kind,
        cycle=cycle,
        target_minutes=target.minutes(calendar),
        started_at=now,
        segment_started_at=now,
    )
    _schedule(clock, calendar, now)
    session.add(clock)
    return clock


def start_clocks(session: Session, ticket: Ticket, *, now: datetime | None = None) -> list[SlaClock]:
    now = now or ticket.created_at
    targets = _targets(session, ticket)
    calendar = calendar_for(session)
    started = []
    if targets.response is not None:
        started.append(_start(session, ticket, ClockKind.RESPONSE, targets.response, calendar, now))
    if targets.resolution is not None:
        started.append(_start(session, ticket, ClockKind.RESOLUTION, targets.resolution, calendar, now))
    session.flush()
    return started


def _stop(clock: SlaClock, state: ClockState, now: datetime) -> None:
    if clock.state == ClockState.BREACHED:
        clock.met_at = clock.met_at or now  # late, and on record as late
    else:
        clock.state = state
        clock.met_at = now if state == ClockState.MET else None
    clock.due_at = clock.warn_at = clock.segment_started_at = None


def meet(session: Session, ticket: Ticket, kind: ClockKind, now: datetime | None = None) -> None:
    now = now or utcnow()
    for clock in _clocks(session, ticket.id or 0, ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED):
        if clock.kind == kind and clock.met_at is None:
            _stop(clock, ClockState.MET, now)


def pause(session: Session, ticket: Ticket, now: datetime | None = None) -> None:
    now = now or utcnow()
    calendar = calendar_for(session)
    for clock in _clocks(session, ticket.id or 0, ClockState.RUNNING):
        clock.consumed_minutes += calendar.minutes_between(clock.segment_started_at or now, now)
        clock.state = ClockState.PAUSED
        clock.due_at = clock.warn_at = clock.segment_started_at = None


def resume(session: Session, ticket: Ticket, now: datetime | None = None) -> None:
    now = now or utcnow()
    calendar = calendar_for(session)
    for clock in _clocks(session, ticket.id or 0, ClockState.PAUSED):
        clock.state = ClockState.RUNNING
        clock.segment_started_at = now
        _schedule(clock, calendar, now)


def restart_resolution(session: Session, ticket: Ticket, now: datetime | None = None) -> SlaClock | None:
    """A reopen: the old resolution clock stays as it ended; a new cycle starts with the full target."""
    now = now or utcnow()
    targets = _targets(session, ticket)
    if targets.resolution is None:
        return None
    previous = [c for c in _clocks(session, ticket.id or 0) if c.kind == ClockKind.RESOLUTION]
    cycle = max((c.cycle for c in previous), default=0) + 1
    clock = _start(
        session, ticket, ClockKind.RESOLUTION, targets.resolution, calendar_for(session), now, cycle
    )
    session.flush()
    return clock


def retarget(session: Session, ticket: Ticket, now: datetime | None = None) -> None:
    """Category or priority changed: the same clocks (a re-route never restarts them) with new targets."""
    now = now or utcnow()
    targets = _targets(session, ticket)
    live = _clocks(session, ticket.id or 0, ClockState.RUNNING, ClockState.PAUSED)
    if targets.out_of_sla:
        for clock in live:
            _stop(clock, ClockState.CANCELLED, now)
        return
    if not _clocks(session, ticket.id or 0) and ticket.status in OPEN_STATUSES:
        start_clocks(session, ticket, now=ticket.created_at)  # it was out of SLA and is no longer
        return
    calendar = calendar_for(session)
    for clock in live:
        target = _target_of(targets, ClockKind(clock.kind))
        if target is None:
            continue
        clock.target_minutes = target.minutes(calendar)
        if clock.state == ClockState.RUNNING:
            _schedule(clock, calendar, now)


def _targets(session: Session, ticket: Ticket) -> Targets:
    return targets_for(session, ticket.priority, ticket.category_code, legal_process=ticket.legal_process)


def _target_of(targets: Targets, kind: ClockKind) -> Target | None:
    return targets.response if kind == ClockKind.RESPONSE else targets.resolution


# --- reacting to the ticket core --------------------------------------------------------------------


def status_changed(session: Session, ticket: Ticket, previous: Status, target: Status) -> None:
    if previous == Status.WAITING_CITIZEN and target != Status.WAITING_CITIZEN:
        resume(session, ticket)
    if target == Status.WAITING_CITIZEN:
        pause(session, ticket)
    elif target in DONE_STATUSES:
        meet(session, ticket, ClockKind.RESPONSE)
        for clock in _clocks(
            session, ticket.id or 0, ClockState.RUNNING, ClockState.PAUSED, ClockState.BREACHED
        ):
            if clock.kind == ClockKind.RESOLUTION and clock.met_at is None:
                _stop(clock, ClockState.MET, utcnow())
    elif target == Status.REOPENED:
        restart_resolution(session, ticket)


def event_recorded(session: Session, ticket: Ticket, event: TicketEvent) -> None:
    if event.actor_type == ActorType.STAFF:
        meet(session, ticket, ClockKind.RESPONSE, event.created_at)
    changes = event.data.get("changes", {}) if event.kind in (EventKind.CLASSIFIED, EventKind.EDITED) else {}
    if {"category_code", "priority", "legal_process"} & set(changes):
        retarget(session, ticket)
    if is_status_page_message(event):
        citizen_wrote(session, ticket, event)


def citizen_wrote(session: Session, ticket: Ticket, event: TicketEvent) -> None:
    """The citizen answered or added information on the status page: whoever holds the ticket hears."""
    what = "đã trả lời câu hỏi" if event.data.get("answer") else "đã bổ sung thông tin"
    snippet = (event.note or "")[:200] or f"{event.data.get('photos', 0)} ảnh"
    text = f"{ticket.code}: người dân {what} — {snippet}"
    recipients = [ticket.assignee_id] if ticket.assignee_id else _department_staff(session, ticket)
    _notify(session, recipients, ticket, "citizen_reply", text)


# --- what people see ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaView:
    out_of_sla: bool
    response_due_at: datetime | None
    resolution_due_at: datetime | None
    state: str | None  # of the current resolution clock
    breached: bool
    urgency: str = "no_deadline"  # sla.state: the same word the worklist, boards and exports use
    overdue_minutes: int | None = None
    label: str = ""  # in Vietnamese: "quá hạn 3 ngày", "còn 5 giờ"…


def view(session: Session, ticket: Ticket, *, now: datetime | None = None) -> SlaView:
    """The ticket's deadlines and standing, from ``sla.state`` like every other view."""
    clocks = _clocks(session, ticket.id or 0)
    response = next((c for c in clocks if c.kind == ClockKind.RESPONSE), None)
    resolution = [c for c in clocks if c.kind == ClockKind.RESOLUTION]
    standing = sla_state.state_from(session, ticket, resolution, now or utcnow())
    return SlaView(
        out_of_sla=standing.urgency == "out_of_sla",
        response_due_at=response.due_at if response else None,
        resolution_due_at=standing.due_at,
        state=standing.clock_state,
        breached=standing.breached,
        urgency=standing.urgency,
        overdue_minutes=standing.overdue_minutes,
        label=standing.label("vi"),
    )


# --- the scan: warnings and breaches ----------------------------------------------------------------


@dataclass
class ScanResult:
    warned: int = 0
    breached: int = 0


def _due_query(now: datetime, limit: int, *, breach: bool) -> object:
    if breach:
        query = select(SlaClock).where(SlaClock.state == ClockState.RUNNING, col(SlaClock.due_at) <= now)
        query = query.order_by(col(SlaClock.due_at))
    else:
        query = select(SlaClock).where(col(SlaClock.warn_at) <= now).order_by(col(SlaClock.warn_at))
    return query.limit(limit).with_for_update(skip_locked=True)


def scan(session: Session, *, now: datetime | None = None, limit: int = 500) -> ScanResult:
    """One tick: warn what passed 75 % of its time, escalate what passed its due time. Safe to run twice
    at once (rows are locked and skipped) and to repeat (a clock is warned and breached once)."""
    now = now or utcnow()
    result = ScanResult()
    for clock in session.exec(_due_query(now, limit, breach=False)).all():  # type: ignore[call-overload]
        if clock.state == ClockState.RUNNING and not clock.warned:
            _warn(session, clock)
            result.warned += 1
        clock.warn_at = None
    for clock in session.exec(_due_query(now, limit, breach=True)).all():  # type: ignore[call-overload]
        _breach(session, clock, now)
        result.breached += 1
    return result


def _warn(session: Session, clock: SlaClock) -> None:
    clock.warned = True
    ticket = session.get(Ticket, clock.ticket_id)
    assert ticket is not None
    record_event(session, ticket, EventKind.SLA_WARNING, clock=clock.kind, due_at=_iso(clock.due_at))
    text = _(
        "{code}: đã dùng 75% {clock}; hạn {due}",
        code=ticket.code,
        clock=label("clock_", clock.kind),
        due=_local(clock.due_at),
    )
    recipients = [ticket.assignee_id] if ticket.assignee_id else _department_staff(session, ticket)
    _notify(session, recipients, ticket, "sla_warning", text)
    log.info(
        "sla warning",
        extra={
            "ticket": ticket.code,
            "clock": clock.kind,
            "department": ticket.department_code,
            "due_at": _iso(clock.due_at),
            "notified": len(set(recipients)),
        },
    )


def _breach(session: Session, clock: SlaClock, now: datetime) -> None:
    ticket = session.get(Ticket, clock.ticket_id)
    assert ticket is not None
    clock.state = ClockState.BREACHED
    clock.breached_at = now
    clock.warned = True
    record_event(session, ticket, EventKind.SLA_BREACH, clock=clock.kind, due_at=_iso(clock.due_at))
    log.warning(
        "sla breached",
        extra={
            "ticket": ticket.code,
            "clock": clock.kind,
            "department": ticket.department_code,
            "due_at": _iso(clock.due_at),
        },
    )
    old_priority = ticket.priority
    ticket.priority = escalated(Priority(ticket.priority))
    ticket.city_level = True
    ticket.updated_at = now
    record_event(
        session,
        ticket,
        EventKind.ESCALATED,
        actor=SYSTEM,
        note=_("Trễ {clock}", clock=label("clock_", clock.kind)),
        old_priority=old_priority,
        new_priority=ticket.priority,
        city_level=True,
    )
    text = _(
        "{code}: trễ {clock} (hạn {due}); đã chuyển cấp thành phố",
        code=ticket.code,
        clock=label("clock_", clock.kind),
        due=_local(clock.due_at),
    )
    escalated_to = _heads(session, ticket) + _supervisors(session)
    _notify(session, escalated_to, ticket, "sla_breach", text)
    log.warning(
        "sla escalated",
        extra={
            "ticket": ticket.code,
            "clock": clock.kind,
            "old_priority": old_priority,
            "new_priority": ticket.priority,
            "city_level": True,
            "notified": len(set(escalated_to)),
        },
    )


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _local(moment: datetime | None) -> str:
    return moment.astimezone(city_tz()).strftime("%H:%M %d/%m/%Y") if moment else "—"


def _unit_staff(session: Session, ticket: Ticket, *, heads: bool = False) -> list[int]:
    """The people of the unit holding the ticket: its department, or with no department its ward's
    officers (a ticket held at ward level)."""
    if ticket.department_code is not None:
        unit = User.department_code == ticket.department_code
    elif ticket.ward_code is not None:
        unit = (User.ward_code == ticket.ward_code) & (User.role == Role.WARD_OFFICER)
    else:
        return []
    query = select(User.id).where(unit, col(User.active).is_(True))
    if heads:
        query = query.where(col(User.is_head).is_(True))
    return [user_id for user_id in session.exec(query).all() if user_id is not None]


def _department_staff(session: Session, ticket: Ticket) -> list[int]:
    return _unit_staff(session, ticket)


def _heads(session: Session, ticket: Ticket) -> list[int]:
    """The unit's head (set in the admin page); with none set, everyone in the unit."""
    return _unit_staff(session, ticket, heads=True) or _unit_staff(session, ticket)


def _supervisors(session: Session) -> list[int]:
    ids = session.exec(select(User.id).where(User.role == Role.SUPERVISOR, col(User.active).is_(True))).all()
    return [user_id for user_id in ids if user_id is not None]


def _notify(session: Session, user_ids: Iterable[int], ticket: Ticket, kind: str, text: str) -> None:
    for user_id in dict.fromkeys(user_ids):
        session.add(Notification(user_id=user_id, ticket_id=ticket.id, kind=kind, text=text))


def notifications_for(session: Session, user: User, *, unread_only: bool = True) -> list[Notification]:
    query = select(Notification).where(Notification.user_id == user.id)
    if unread_only:
        query = query.where(col(Notification.read_at).is_(None))
    return list(session.exec(query.order_by(col(Notification.id).desc()).limit(200)).all())


def mark_read(session: Session, user: User, notification_ids: list[int]) -> int:
    rows = session.exec(
        select(Notification).where(
            Notification.user_id == user.id, col(Notification.id).in_(notification_ids)
        )
    ).all()
    for row in rows:
        row.read_at = row.read_at or utcnow()
    return len(rows)


# --- calendar administration ------------------------------------------------------------------------


def calendar_exceptions(session: Session) -> list[CalendarException]:
    """Every day the administrators made a holiday or a working day, by date."""
    return list(session.exec(select(CalendarException).order_by(col(CalendarException.day))).all())


def add_exception(session: Session, day: date, kind: str, note: str = "") -> CalendarException:
    if kind not in {k.value for k in ExceptionKind}:
        raise Invalid(
            _("Loại ngày phải là một trong: {known}", known=", ".join(k.value for k in ExceptionKind)),
            field="kind",
        )
    row = session.get(CalendarException, day) or CalendarException(day=day, kind=kind)
    row.kind, row.note = kind, note
    session.add(row)
    session.flush()
    reschedule_from(session, day)
    return row


def remove_exception(session: Session, day: date) -> None:
    row = session.get(CalendarException, day)
    if row is None:
        raise NotFound(_("Không có ngày nghỉ bù hay làm bù vào {day}.", day=day.strftime("%d/%m/%Y")))
    session.delete(row)
    session.flush()
    reschedule_from(session, day)


def reschedule_from(session: Session, day: date, *, batch: int = 1000) -> int:
    """The calendar changed on ``day``: running clocks whose due or warning time lies on or after it are
    due again from the same running segment under the calendar now in force (a day off announced next
    week moves the deadlines that cross it). Clocks due before the day cannot be affected and are not
    read. Returns how many clocks were rescheduled."""
    calendar = calendar_for(session)
    since = as_utc(datetime.combine(day, time(0), city_tz()))
    now = utcnow()
    moved, last_id = 0, 0
    while True:
        clocks = session.exec(
            select(SlaClock)
            .where(
                SlaClock.state == ClockState.RUNNING,
                col(SlaClock.due_at) >= since,
                col(SlaClock.id) > last_id,
            )
            .order_by(col(SlaClock.id))
            .limit(batch)
        ).all()
        if not clocks:
            return moved
        for clock in clocks:
            _schedule(clock, calendar, now)
            session.add(clock)
        session.flush()
        moved += len(clocks)
        last_id = clocks[-1].id or last_id


# --- compliance for the dashboards ------------------------------------------------------------------

GROUPS = {"department": Ticket.department_code, "ward": Ticket.ward_code, "category": Ticket.category_code}


@dataclass(frozen=True)
class ComplianceRow:
    key: str | None
    finished: int
    on_time: int
    breached: int

    @property
    def rate(self) -> float | None:
        return round(self.on_time / self.finished, 4) if self.finished else None


def compliance(session: Session, by: str, since: datetime, until: datetime) -> list[ComplianceRow]:
    """Resolution clocks that ended or breached in [since, until), grouped: on time versus late."""
    if by not in GROUPS:
        raise Invalid(f"group by one of {sorted(GROUPS)}", field="by")
    group = GROUPS[by]
    ended = func.coalesce(SlaClock.met_at, SlaClock.breached_at)
    rows = session.exec(
        select(
            group,
            func.count(),
            func.count(col(SlaClock.breached_at)),
        )
        .join(Ticket, Ticket.id == SlaClock.ticket_id)  # type: ignore[arg-type]
        .where(SlaClock.kind == ClockKind.RESOLUTION, ended >= since, ended < until)
        .group_by(group)
        .order_by(group)
    ).all()
    return [ComplianceRow(key, total, total - late_count, late_count) for key, total, late_count in rows]

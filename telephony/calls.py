"""Reading call records and queue figures, and tying calls to tickets.

Counting conventions (as queue_log tools count them, ../shared/contracts/asterisk-ami.md): offered = calls
that joined the queue; answered = AgentConnect; abandoned = the caller hung up while waiting
(QueueCallerAbandon without a QUEUESTATUS of TIMEOUT/LEAVEEMPTY/JOINEMPTY/FULL); callers the queue sent
away by timeout or because no agent was logged in are counted apart as `timed_out`; abandons quicker than
`short_abandon_seconds` are also reported as `short_abandoned`. Service level = answered within
`service_level_seconds` of joining ÷ offered. ASA = mean wait of answered calls; AHT = mean talk time of
answered calls.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, select

from kernel.errors import NotFound
from kernel.i18n import _
from kernel.settings import get_settings
from kernel.timeutil import city_tz, utcnow
from telephony.models import AgentState, Call, CallTicket, Outcome, QueueMember
from telephony.tracker import effective_state
from tickets.models import Channel, EventKind, Ticket
from tickets.service import SYSTEM, Actor, record_event

ANSWERED_OUTCOMES = (Outcome.ANSWERED, Outcome.TRANSFERRED)


@dataclass(frozen=True)
class CallFilter:
    day: date | None = None
    outcome: str | None = None
    agent: str | None = None
    limit: int = 100
    offset: int = 0


def local_day_bounds(day: date) -> tuple[datetime, datetime]:
    start = datetime.combine(day, time.min, tzinfo=city_tz())
    return start, start + timedelta(days=1)


def list_calls(session: Session, filters: CallFilter) -> list[Call]:
    query = select(Call).order_by(col(Call.started_at).desc(), col(Call.id).desc())
    if filters.day is not None:
        start, end = local_day_bounds(filters.day)
        query = query.where(col(Call.started_at) >= start, col(Call.started_at) < end)
    if filters.outcome:
        query = query.where(Call.outcome == filters.outcome)
    if filters.agent:
        query = query.where(Call.agent_interface == filters.agent)
    return list(session.exec(query.offset(filters.offset).limit(filters.limit)))


def get_call(session: Session, uniqueid: str) -> Call:
    call = session.exec(select(Call).where(Call.uniqueid == uniqueid)).first()
    if call is None:
        raise NotFound(f"no call with uniqueid {uniqueid}; calls are listed at /api/v1/calls")
    return call


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def _mean(values: Sequence[int | None]) -> float | None:
    numbers = [v for v in values if v is not None]
    return round(sum(numbers) / len(numbers), 1) if numbers else None


def figures(calls: Sequence[Call]) -> dict[str, Any]:
    settings = get_settings()
    offered = [c for c in calls if c.entered_at is not None]
    answered = [c for c in offered if c.outcome in ANSWERED_OUTCOMES and c.answered_at is not None]
    abandoned = [c for c in offered if c.outcome == Outcome.ABANDONED and c.queue_exit == "caller"]
    timed_out = [
        c for c in offered if c.queue_exit in ("timeout", "leaveempty", "joinempty", "full", "leaveunavail")
    ]
    in_time = [c for c in answered if (c.wait_seconds or 0) <= settings.service_level_seconds]
    short = [c for c in abandoned if (c.wait_seconds or 0) < settings.short_abandon_seconds]
    return {
        "calls": len(calls),
        "offered": len(offered),
        "answered": len(answered),
        "abandoned": len(abandoned),
        "short_abandoned": len(short),
        "timed_out": len(timed_out),
        "voicemail": sum(1 for c in calls if c.outcome == Outcome.VOICEMAIL),
        "after_hours": sum(1 for c in calls if c.outcome in (Outcome.AFTER_HOURS, Outcome.VOICEMAIL)),
        "transferred": sum(1 for c in calls if c.outcome == Outcome.TRANSFERRED),
        "service_level": _ratio(len(in_time), len(offered)),
        "service_level_seconds": settings.service_level_seconds,
        "abandonment_rate": _ratio(len(abandoned), len(offered)),
        "asa_seconds": _mean([c.wait_seconds for c in answered]),
        "aht_seconds": _mean([c.talk_seconds for c in answered]),
        "average_wait_seconds": _mean([c.wait_seconds for c in offered]),
    }


def _calls_between(session: Session, start: datetime, end: datetime) -> list[Call]:
    query = select(Call).where(col(Call.started_at) >= start, col(Call.started_at) < end)
    return list(session.exec(query.where(Call.outcome != Outcome.IN_PROGRESS)))


def day_stats(session: Session, day: date) -> dict[str, Any]:
    start, end = local_day_bounds(day)
    calls = _calls_between(session, start, end)
    hours = []
    for hour in range(24):
        lower = start + timedelta(hours=hour)
        in_hour = [c for c in calls if lower <= c.started_at < lower + timedelta(hours=1)]
        hours.append({"hour": hour, **figures(in_hour)})
    return {"date": day.isoformat(), **figures(calls), "hours": hours}


def range_stats(session: Session, first: date, last: date) -> list[dict[str, Any]]:
    start, _ = local_day_bounds(first)
    _, end = local_day_bounds(last)
    calls = _calls_between(session, start, end)
    days = []
    day = first
    while day <= last:
        lower, upper = local_day_bounds(day)
        days.append({"date": day.isoformat(), **figures([c for c in calls if lower <= c.started_at < upper])})
        day += timedelta(days=1)
    return days


def queue_snapshot(session: Session, now: datetime | None = None) -> dict[str, Any]:
    """The wallboard: who waits now, agents by state, and today's service level and abandonment."""
    now = now or utcnow()
    waiting = session.exec(
        select(Call).where(
            Call.outcome == Outcome.IN_PROGRESS,
            col(Call.entered_at).is_not(None),
            col(Call.answered_at).is_(None),
        )
    ).all()
    agents = {state.value: 0 for state in AgentState}
    for member in session.exec(select(QueueMember)).all():
        agents[effective_state(member.state, member.wrap_up_until, now)] += 1
    today = day_stats(session, now.astimezone(city_tz()).date())
    longest = max(((now - c.entered_at).total_seconds() for c in waiting if c.entered_at), default=0)
    return {
        "calls_waiting": len(waiting),
        "longest_wait_seconds": int(longest),
        "agents": agents,
        "service_level": today["service_level"],
        "abandonment_rate": today["abandonment_rate"],
        "answered": today["answered"],
        "abandoned": today["abandoned"],
        "offered": today["offered"],
    }


def link_ticket_to_call(
    session: Session, uniqueid: str, ticket_id: int, actor: Actor | None = None
) -> CallTicket:
    call = get_call(session, uniqueid)
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(_("Không có phản ánh số {number}.", number=ticket_id))
    existing = session.exec(
        select(CallTicket).where(CallTicket.call_id == call.id, CallTicket.ticket_id == ticket_id)
    ).first()
    if existing is not None:
        return existing
    link = CallTicket(call_id=call.id or 0, ticket_id=ticket_id)
    session.add(link)
    if call.citizen_id is None and ticket.citizen_id is not None:
        call.citizen_id = ticket.citizen_id
        session.add(call)
    note = f"call {call.uniqueid} from the hotline"
    record_event(session, ticket, EventKind.CALL_LINKED, actor=actor or SYSTEM, note=note)
    return link


def tickets_of_call(session: Session, call: Call) -> list[int]:
    rows = session.exec(select(CallTicket.ticket_id).where(CallTicket.call_id == call.id)).all()
    return list(rows)


RECENT_CALL = timedelta(minutes=30)


def link_recent_call(session: Session, ticket: Ticket) -> None:
    """A ticket filed on the phone channel joins the citizen's call of the last half hour, if any."""
    from telephony.actions import citizen_phone
    from telephony.store import phone_of

    if ticket.origin_channel != Channel.PHONE or ticket.citizen_id is None:
        return
    phone = citizen_phone(session, ticket)
    if phone is None:
        return
    recent = session.exec(
        select(Call)
        .where(col(Call.started_at) >= ticket.created_at - RECENT_CALL)
        .order_by(col(Call.started_at).desc())
        .limit(200)
    ).all()
    for call in recent:
        if phone_of(call.caller_number) == phone:
            link_ticket_to_call(session, call.uniqueid, ticket.id or 0)
            return

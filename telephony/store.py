"""Writes what the tracker saw: call rows, member rows, screen pops and the queue's change signal, in the
caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Any

from sqlmodel import Session, col, select

from kernel import live
from kernel.errors import Invalid
from telephony.models import Call, Outcome, QueueMember, TranscriptionStatus
from telephony.tracker import CallState, MemberState, Ring
from tickets.citizens import TicketLine, find_citizen, normalize_phone, tickets_of
from tickets.models import OPEN_STATUSES, Citizen, IdentityKind, Ticket

QUEUE_TOPIC = "queue"
_CALL_FIELDS = [f.name for f in fields(CallState) if f.name not in {"ringing", "after_hours"}]


def phone_of(number: str | None) -> str | None:
    if not number:
        return None
    try:
        return normalize_phone(number)
    except Invalid:
        return None  # withheld, internal extension or foreign number


def load_open_calls(session: Session) -> list[CallState]:
    calls = session.exec(select(Call).where(Call.outcome == Outcome.IN_PROGRESS)).all()
    return [CallState(**{name: getattr(call, name) for name in _CALL_FIELDS}) for call in calls]


def load_members(session: Session) -> list[MemberState]:
    return [
        MemberState(
            interface=m.interface,
            member_name=m.member_name,
            state=m.state,
            paused_reason=m.paused_reason,
            wrap_up_until=m.wrap_up_until,
            current_call=m.current_call,
            state_since=m.state_since,
        )
        for m in session.exec(select(QueueMember)).all()
    ]


Changes = tuple[list[CallState], list[MemberState], list[Ring], list[CallState]]


def save_changes(
    session: Session,
    changes: Changes,
    on_voicemail: Callable[[Session, int], None] | None = None,
    on_recording: Callable[[Session, int], None] | None = None,
) -> int:
    """Persist what `Tracker.take_changes` returned; returns how many rows were written."""
    calls, members, rings, finished = changes
    rows = _save_calls(session, calls)
    member_rows = _save_members(session, members)
    session.flush()
    for state in finished:
        row = rows[state.uniqueid]
        if state.outcome == Outcome.VOICEMAIL and row.voicemail_file and row.transcription_status is None:
            row.transcription_status = TranscriptionStatus.PENDING
            if on_voicemail is not None and row.id is not None:
                on_voicemail(session, row.id)
        elif row.recording_file and row.answered_at and row.transcription_status is None and on_recording:
            row.transcription_status = TranscriptionStatus.PENDING
            on_recording(session, row.id or 0)
    for ring in rings:
        _announce_ring(session, ring, rows.get(ring.uniqueid), member_rows)
    if calls or members:
        live.publish(session, QUEUE_TOPIC, "queue_changed", {})
    return len(calls) + len(members)


def _save_calls(session: Session, states: list[CallState]) -> dict[str, Call]:
    if not states:
        return {}
    uniqueids = [s.uniqueid for s in states]
    rows = {c.uniqueid: c for c in session.exec(select(Call).where(col(Call.uniqueid).in_(uniqueids)))}
    agents = _users_by_interface(session, {s.agent_interface for s in states if s.agent_interface})
    for state in states:
        row = rows.get(state.uniqueid)
        if row is None:
            row = rows[state.uniqueid] = Call(uniqueid=state.uniqueid, linkedid=state.linkedid)
            phone = phone_of(state.caller_number)
            citizen = find_citizen(session, IdentityKind.PHONE, phone) if phone else None
            row.citizen_id = citizen.id if citizen else None
        for name in _CALL_FIELDS:
            setattr(row, name, getattr(state, name))
        row.agent_user_id = agents.get(state.agent_interface or "")
        session.add(row)
    return rows


def _users_by_interface(session: Session, interfaces: set[str]) -> dict[str, int]:
    if not interfaces:
        return {}
    members = session.exec(select(QueueMember).where(col(QueueMember.interface).in_(interfaces)))
    return {m.interface: m.user_id for m in members if m.user_id is not None}


def _save_members(session: Session, states: list[MemberState]) -> dict[str, QueueMember]:
    rows: dict[str, QueueMember] = {}
    for state in states:
        row = session.get(QueueMember, state.interface) or QueueMember(interface=state.interface)
        row.member_name = state.member_name or row.member_name
        row.state, row.paused_reason = state.state, state.paused_reason
        row.wrap_up_until, row.current_call = state.wrap_up_until, state.current_call
        if state.state_since is not None:
            row.state_since = state.state_since
        session.add(row)
        rows[state.interface] = row
    return rows


def _announce_ring(session: Session, ring: Ring, call: Call | None, members: dict[str, QueueMember]) -> None:
    member = members.get(ring.interface) or session.get(QueueMember, ring.interface)
    if member is None or member.user_id is None:
        return
    topic = live.agent_topic(member.user_id)
    if not ring.ringing or call is None:
        live.publish(session, topic, "call_ended", {"uniqueid": ring.uniqueid})
        return
    live.publish(session, topic, "screen_pop", screen_pop(session, call))


def _ticket_line(ticket: Ticket, last: TicketLine | None = None) -> dict[str, Any]:
    message = last.last_message if last else None
    return {
        "id": ticket.id,
        "code": ticket.code,
        "title": ticket.title,
        "status": ticket.status,
        "channel": ticket.origin_channel,
        "category_code": ticket.category_code,
        "created_at": ticket.created_at.isoformat(),
        "last_message": {
            "text": message.text,
            "channel": message.channel,
            "direction": message.direction,
            "at": message.at.isoformat(),
        }
        if message
        else None,
    }


def screen_pop(session: Session, call: Call) -> dict[str, Any]:
    """What the agent's console shows while the phone rings: who calls and what they already reported,
    on every channel (the person's Zalo and Facebook tickets too), each with its latest message."""
    citizen = session.get(Citizen, call.citizen_id) if call.citizen_id else None
    if citizen is not None and citizen.merged_into_id is not None:
        citizen = session.get(Citizen, citizen.merged_into_id)  # merged since the call was recorded
    open_tickets: list[Ticket] = []
    recent: list[Ticket] = []
    lines: dict[int, TicketLine] = {}
    if citizen is not None:
        tickets = session.exec(
            select(Ticket)
            .where(Ticket.citizen_id == citizen.id)
            .order_by(col(Ticket.created_at).desc())
            .limit(20)
        ).all()
        open_tickets = [t for t in tickets if t.status in OPEN_STATUSES]
        recent = [t for t in tickets if t.status not in OPEN_STATUSES][:5]
        lines = {line.id: line for line in tickets_of(session, citizen.id or 0, limit=20)}
    return {
        "uniqueid": call.uniqueid,
        "caller_number": call.caller_number,
        "queue": call.queue,
        "citizen": {"id": citizen.id, "display_name": citizen.display_name} if citizen else None,
        "open_tickets": [_ticket_line(t, lines.get(t.id or 0)) for t in open_tickets],
        "recent_tickets": [_ticket_line(t, lines.get(t.id or 0)) for t in recent],
    }

"""The outbox's sending: a queued message is claimed, handed to its route's adapter (a
notifications.ports.Notifier, from adapters.notifier_for) and its outcome recorded on the row and the
ticket's timeline; a route that fails for good hands the event to the next route (``service.fall_back``).
What is queued, and on which route, is decided in notifications/service.py; the rows are channels'
(``channels.models.OutboundMessage``), which sits below. Tasks call ``send``; the sweep calls
``due_for_sending`` and ``reclaim_stuck``."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from channels.adapter import SendResult
from channels.models import OutboundMessage, OutboxState
from channels.service import REPLY_CHANNELS
from kernel.errors import DomainError
from kernel.timeutil import as_utc, utcnow
from notifications.ports import Notifier, Outgoing, Route
from notifications.service import cost_of, fall_back, last_inbound
from tickets import service
from tickets.models import Direction, Message, Ticket
from tickets.models import EventKind as TicketEventKind
from tickets.service import SYSTEM

log = logging.getLogger(__name__)


def _last_inbound_at(session: Session, outbound: OutboundMessage) -> datetime | None:
    if outbound.channel not in REPLY_CHANNELS or outbound.ticket_id is None:
        return None
    ticket = session.get(Ticket, outbound.ticket_id)
    if ticket is None:
        return None
    return last_inbound(session, ticket.citizen_id, outbound.channel, messenger_only=True)


@dataclass(frozen=True)
class SendJob:
    outbound_id: int
    channel: str
    recipient: str
    text: str
    to_comment: bool
    last_inbound_at: datetime | None
    key: str = ""
    human: bool = False
    payload: dict[str, Any] | None = None


def claim(session: Session, outbound_id: int) -> SendJob | None:
    """Take a queued message for sending (no transaction stays open during the HTTP call); one that
    waits for the end of quiet hours stays queued."""
    outbound = session.get(OutboundMessage, outbound_id, with_for_update=True)
    if outbound is None or outbound.state != OutboxState.QUEUED:
        return None
    if outbound.not_before is not None and as_utc(outbound.not_before) > utcnow():
        return None
    outbound.state, outbound.claimed_at = OutboxState.SENDING, utcnow()
    outbound.attempts += 1
    return SendJob(
        outbound_id,
        outbound.channel,
        outbound.recipient,
        outbound.text,
        outbound.reply_to_comment,
        _last_inbound_at(session, outbound),
        key=outbound.event_key or f"outbound-{outbound_id}",
        human=bool(outbound.payload.get("human")) or outbound.purpose == "reply",
        payload=dict(outbound.payload),
    )


def send_with(notifier: Notifier, job: SendJob) -> SendResult:
    """Through the message's notification route (notifications.adapters.notifier_for)."""
    return notifier.deliver(
        Outgoing(
            route=Route(job.channel),
            recipient=job.recipient,
            text=job.text,
            key=job.key,
            human=job.human,
            to_comment=job.to_comment,
            last_inbound_at=job.last_inbound_at,
            payload=job.payload or {},
        )
    )


def record_result(session: Session, outbound_id: int, result: SendResult) -> None:
    """The outcome goes on the row and on the ticket's timeline (private: the route used, the cost, the
    provider's reason); a temporary failure waits for a retry, a lasting one tries the next route."""
    outbound = session.get(OutboundMessage, outbound_id, with_for_update=True)
    if outbound is None or outbound.state != OutboxState.SENDING:
        return
    outbound.route = result.route
    ticket = session.get(Ticket, outbound.ticket_id) if outbound.ticket_id else None
    if result.ok:
        outbound.state, outbound.sent_at = OutboxState.SENT, utcnow()
        outbound.provider_message_id = result.provider_message_id
        outbound.cost, outbound.error = cost_of(outbound), None
        if ticket is not None:
            service.record_message(
                session,
                Message(
                    ticket_id=ticket.id,
                    citizen_id=ticket.citizen_id,
                    channel=outbound.channel,
                    direction=Direction.OUTBOUND,
                    provider_message_id=result.provider_message_id or None,
                    text=outbound.text,
                ),
            )
            service.record_event(
                session,
                ticket,
                TicketEventKind.REPLY_SENT,
                actor=SYSTEM,
                note=_sent_note(outbound),
                channel=outbound.channel,
                route=result.route,
                purpose=outbound.purpose,
                outbound_id=outbound.id,
                cost=outbound.cost,
            )
    elif result.retry:
        outbound.state, outbound.error = OutboxState.QUEUED, result.error
    else:
        outbound.state, outbound.error = OutboxState.FAILED, result.error
        if ticket is not None:
            service.record_event(
                session,
                ticket,
                TicketEventKind.REPLY_FAILED,
                actor=SYSTEM,
                note=result.error,
                channel=outbound.channel,
                purpose=outbound.purpose,
                outbound_id=outbound.id,
            )
        fall_back(session, outbound)


def _sent_note(outbound: OutboundMessage) -> str:
    """The route used, for staff reading the timeline (the recipient stays on the outbox row)."""
    cost = f", {outbound.cost:,} đ" if outbound.cost else ""
    return f"{outbound.purpose} → {outbound.channel} ({outbound.route or '—'}{cost})"


def due_for_sending(session: Session, *, lost_before: datetime, limit: int = 500) -> list[int]:
    """Queued messages never tried whose task was lost after commit, and SMS held back by quiet hours
    whose morning has come."""
    query = (
        select(OutboundMessage.id)
        .where(
            OutboundMessage.state == OutboxState.QUEUED,
            OutboundMessage.attempts == 0,
            or_(
                col(OutboundMessage.not_before).is_(None) & (col(OutboundMessage.created_at) < lost_before),
                col(OutboundMessage.not_before) <= utcnow(),
            ),
        )
        .order_by(col(OutboundMessage.id))
        .limit(limit)
    )
    return [outbound_id for outbound_id in session.exec(query).all() if outbound_id is not None]


def send(session_factory: Any, outbound_id: int, notifier: Notifier) -> SendResult | None:
    """Claim, send, record: three steps, two short transactions. None: nothing was due."""
    with session_factory() as session:
        job = claim(session, outbound_id)
    if job is None:
        return None
    try:
        result = send_with(notifier, job)
    except httpx.HTTPError as exc:  # the network or the provider is down: try again later
        result = SendResult(False, error=f"{type(exc).__name__}: {exc}", retry=True)
    except DomainError as exc:  # e.g. Zalo not authorised yet: a person must act, retrying will not help
        result = SendResult(False, error=exc.message, retry=False)
    with session_factory() as session:
        record_result(session, outbound_id, result)
    error = result.error.replace(job.recipient, "<recipient>")[:500] if result.error else None
    log.log(  # the route and the outcome, never the recipient or the words
        logging.INFO if result.ok else logging.WARNING,
        "outbound sent" if result.ok else "outbound failed",
        extra={
            "outbound_id": outbound_id,
            "channel": job.channel,
            "route": result.route or job.channel,
            "ok": result.ok,
            "retry": result.retry,
            "error": error,
        },
    )
    return result


def fail_for_good(session: Session, outbound_id: int, error: str) -> None:
    outbound = session.get(OutboundMessage, outbound_id)
    if outbound is None or outbound.state != OutboxState.QUEUED:
        return
    outbound.state, outbound.error = OutboxState.FAILED, error
    ticket = session.get(Ticket, outbound.ticket_id) if outbound.ticket_id else None
    if ticket is not None:
        service.record_event(
            session, ticket, TicketEventKind.REPLY_FAILED, actor=SYSTEM, note=error, outbound_id=outbound.id
        )
    fall_back(session, outbound)


def reclaim_stuck(session: Session, *, older_than: timedelta, max_attempts: int) -> list[int]:
    """Messages left `sending` by a worker that died between claim and record go back to the queue (or
    fail for good once they have had their tries); the ids to send again. The provider may have got the
    first try: a citizen told twice is better than a receipt stuck forever."""
    cutoff = utcnow() - older_than
    stuck = session.exec(
        select(OutboundMessage)
        .where(
            OutboundMessage.state == OutboxState.SENDING,
            func.coalesce(OutboundMessage.claimed_at, OutboundMessage.created_at) < cutoff,
        )
        .order_by(col(OutboundMessage.id))
        .limit(500)
        .with_for_update(skip_locked=True)
    ).all()
    again: list[int] = []
    for outbound in stuck:
        note = f"reclaimed: still sending {int(older_than.total_seconds())} s after try {outbound.attempts}"
        outbound.state, outbound.error = OutboxState.QUEUED, note
        if outbound.attempts >= max_attempts:
            fail_for_good(session, outbound.id or 0, f"gave up after {outbound.attempts} tries; {note}")
        else:
            again.append(outbound.id or 0)
    return again

"""Inbound events are stored once and processed into the ticket core. Webhooks call `accept` (store, then
enqueue after commit); tasks call `process`. Outbound messages go through an outbox whose rows are ours
(`outbox` lists them) and whose sending is notifications' (notifications/outbox.py)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from psycopg.types.json import Json
from sqlalchemy import func, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Connection
from sqlmodel import Session, col, select

from channels import phone_question, threads
from channels.adapter import EventKind, InboundMessage
from channels.models import EventState, InboundEvent, OutboundMessage
from kernel.errors import Conflict, Invalid, NotFound
from kernel.i18n import _
from kernel.settings import get_settings
from kernel.statement_pool import StatementPool
from kernel.text import clean_text
from kernel.timeutil import as_utc, utcnow
from tickets import service
from tickets.citizens import ANSWERED, MESSENGER, ZALO_FORM, Contact, find_citizen, resolve_citizen
from tickets.models import (
    OPEN_STATUS_ORDER,
    Channel,
    Citizen,
    Direction,
    IdentityKind,
    Message,
    Status,
    Ticket,
)
from tickets.models import EventKind as TicketEventKind
from tickets.service import CITIZEN, SYSTEM, NewTicket

log = logging.getLogger(__name__)

IDENTITY = {"zalo": IdentityKind.ZALO, "facebook": IdentityKind.FACEBOOK}
REPLY_CHANNELS = ("zalo", "facebook")
# A provider's timestamp is believed only near the moment we received the event: an old or future date
# would open a ticket already breached (or not yet due) and give it another year's code.
OLDEST_BELIEVED = timedelta(days=7)
LATEST_BELIEVED = timedelta(minutes=10)
UNREADABLE = "unreadable"  # the event name of an authentic delivery of a shape we cannot parse
TRIMMED_MARK = "… [còn tiếp — toàn văn trong hội thoại]"


# --- inbound ----------------------------------------------------------------------------------------


async def accept(statements: StatementPool, events: Sequence[InboundMessage]) -> list[int]:
    """Store each event once (a redelivery is a no-op); return the ids of the ones new to us. The events
    of one delivery (Facebook batches them) go in one INSERT … ON CONFLICT DO NOTHING, its own
    transaction, sent from the web process's event loop (``kernel.statement_pool``): one round trip
    before the answer, however many there are, and no thread; an event repeated within the delivery is
    stored once."""
    if not events:
        return []
    rows = [_event_row(e.channel, e.event_key, e.event_name, e.raw) for e in events]
    columns = {name: [row[name] for row in rows] for name in ("channel", "event_key", "event_name", "state")}
    payloads = [Json(row["payload"]) for row in rows]
    found = await statements.fetch_all(_ACCEPT, {**columns, "payload": payloads, "received_at": utcnow()})
    stored = [row[0] for row in found]
    log.info(
        "intake events stored",
        extra={
            "channel": ",".join(sorted({e.channel for e in events})),
            "received": len(events),
            "stored": len(stored),
            "duplicates": len(events) - len(stored),  # the provider sent them again: kept once
        },
    )
    return stored


# one statement for any number of rows, passed as one array a column: the same text each time, so psycopg
# prepares it once per connection (issue 22); the payloads stay JSON all the way (a text column would
# refuse the escaped NUL a payload may hold)
_ACCEPT = text(
    """
INSERT INTO inbound_event (channel, event_key, event_name, payload, state, attempts, received_at)
SELECT r.channel, r.event_key, r.event_name, r.payload, r.state, 0, :received_at
  FROM unnest(CAST(:channel AS varchar[]), CAST(:event_key AS varchar[]), CAST(:event_name AS varchar[]),
              CAST(:payload AS json[]), CAST(:state AS varchar[]))
       AS r(channel, event_key, event_name, payload, state)
ON CONFLICT (channel, event_key) DO NOTHING
RETURNING id
"""
)


def park_unreadable(
    session: Session | Connection, *, channel: str, raw_body: bytes, reason: str
) -> int | None:
    """An authentic delivery whose shape we cannot read is kept whole as a dead letter with the reason
    (stored once however often the provider repeats it), for an administrator to look at. One
    statement, like ``accept``."""
    digest = hashlib.sha256(raw_body).hexdigest()
    payload = {"raw": raw_body.decode("utf-8", errors="replace")}
    key = f"unreadable:{digest}"
    statement = (
        insert(InboundEvent)
        .values(**_event_row(channel, key, UNREADABLE, payload, state=EventState.DEAD, error=reason))
        .on_conflict_do_nothing(index_elements=["channel", "event_key"])
        .returning(col(InboundEvent.id))
    )
    new_id: int | None = session.execute(statement).scalar_one_or_none()
    return new_id


def _event_row(
    channel: str,
    key: str,
    name: str,
    payload: dict[str, Any],
    *,
    state: EventState = EventState.PENDING,
    error: str | None = None,
) -> dict[str, Any]:
    return {
        "channel": channel,
        # the payload is JSON (NUL is escaped there); these two are text columns, which refuse it
        "event_key": clean_text(key)[:200],
        "event_name": clean_text(name)[:64],
        "payload": payload,
        "state": state,
        "attempts": 0,
        "last_error": error[:4000] if error else None,
        "received_at": utcnow(),
    }


def parse_stored(event: InboundEvent) -> InboundMessage:
    from channels import facebook, zalo

    if event.channel == "zalo":
        return zalo.parse(event.payload)[0]
    settings = get_settings()
    wrapped = {"entry": [{"id": settings.facebook_page_id, "messaging": [event.payload]}]}
    if "field" in event.payload:
        wrapped = {"entry": [{"id": settings.facebook_page_id, "changes": [event.payload]}]}
    return facebook.parse(wrapped, page_id=settings.facebook_page_id, app_id=settings.facebook_app_id)[0]


def process(session: Session, event_id: int) -> InboundEvent:
    """Turn a stored event into messages and tickets, once: a repeated task finds it done."""
    event = session.get(InboundEvent, event_id, with_for_update=True)
    if event is None:
        raise NotFound(f"no inbound event {event_id}")
    if event.state in (EventState.DONE, EventState.IGNORED):
        log.info(
            "intake event already processed",
            extra={"event_id": event_id, "channel": event.channel, "state": event.state},
        )
        return event
    event.attempts += 1
    message, note = dated(_cleaned(parse_stored(event)), received_at=as_utc(event.received_at))
    _one_at_a_time_per_sender(session, message)
    handled = _handle(session, message)
    if handled is not None and note:
        service.record_event(session, handled, TicketEventKind.COMMENT, actor=SYSTEM, note=note)
    event.state = EventState.DONE if handled else EventState.IGNORED
    event.ticket_id = handled.id if handled else None
    event.processed_at = utcnow()
    event.last_error = None
    log.info(
        "intake event processed",
        extra={
            "event_id": event_id,
            "channel": event.channel,
            "event_name": event.event_name,
            "kind": message.kind,
            "outcome": "ticket" if handled else "ignored",
            "ticket": handled.code if handled else None,
            "attempt": event.attempts,
        },
    )
    return event


def _cleaned(message: InboundMessage) -> InboundMessage:
    return replace(
        message,
        event_key=clean_text(message.event_key),
        text=clean_text(message.text),
        sender_id=clean_text(message.sender_id) if message.sender_id else None,
        thread_ref=clean_text(message.thread_ref) if message.thread_ref else None,
        sender_name=clean_text(message.sender_name) if message.sender_name else None,
    )


def dated(message: InboundMessage, *, received_at: datetime) -> tuple[InboundMessage, str | None]:
    """The message, re-dated to when we received it if the provider's time is outside the window we
    believe; then the note that says so (kept on the ticket's timeline, not shown to the public)."""
    sent_at = as_utc(message.sent_at)
    if received_at - OLDEST_BELIEVED <= sent_at <= received_at + LATEST_BELIEVED:
        return message, None
    note = (
        f"Tin nhắn {message.event_key} mang thời điểm {sent_at:%Y-%m-%d %H:%M} UTC, quá xa thời điểm nhận"
        f" ({received_at:%Y-%m-%d %H:%M} UTC): đã ghi theo thời điểm nhận."
    )
    return replace(message, sent_at=received_at), note


def fit_description(text: str) -> str:
    """The ticket description has a limit; the message keeps the whole text."""
    limit = get_settings().description_max_chars
    if len(text) <= limit:
        return text
    return text[: limit - len(TRIMMED_MARK)].rstrip() + TRIMMED_MARK


def _one_at_a_time_per_sender(session: Session, message: InboundMessage) -> None:
    """Two messages of one person processed at once must not both open a ticket: a transaction lock
    per sender serialises them."""
    if message.sender_id:
        digest = hashlib.blake2b(f"{message.channel}:{message.sender_id}".encode(), digest_size=8).digest()
        session.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": int.from_bytes(digest, "big", signed=True)}
        )


def _handle(session: Session, message: InboundMessage) -> Ticket | None:
    if message.kind in (EventKind.MESSAGE, EventKind.COMMENT) and message.sender_id:
        return _from_citizen(session, message)
    if message.kind == EventKind.CONTACT and message.sender_id:
        return _contact_given(session, message)
    if message.kind == EventKind.ECHO and message.sender_id:
        return _echo(session, message)
    if message.kind == EventKind.COMMENT_REMOVED:
        return _comment_removed(session, message)
    return None  # receipts, follows, reactions and unknown events: stored, acknowledged, nothing to do


def _text_of(message: InboundMessage) -> str:
    parts = [message.text.strip()] if message.text.strip() else []
    parts += [f"[{a.kind}] {a.url or a.name or ''}".strip() for a in message.attachments]
    if message.location:
        parts.append(f"[vị trí] {message.location[0]:.6f}, {message.location[1]:.6f}")
    return clean_text("\n".join(parts))


def _open_ticket(session: Session, citizen_id: int, channel: str) -> Ticket | None:
    window = timedelta(hours=get_settings().thread_window_hours)
    query = (
        select(Ticket)
        .where(
            Ticket.citizen_id == citizen_id,
            Ticket.origin_channel == channel,
            col(Ticket.status).in_(OPEN_STATUS_ORDER),
            col(Ticket.updated_at) >= utcnow() - window,
        )
        .order_by(col(Ticket.updated_at).desc())
    )
    return session.exec(query).first()


def _from_citizen(session: Session, message: InboundMessage) -> Ticket | None:
    text = _text_of(message)
    if not text:
        return None  # a sticker alone: kept as an event, not a report
    kind = IDENTITY[message.channel]
    provider_id = message.event_key
    if message.event_name == "comment_edited":
        commented = _ticket_of_comment(session, message.thread_ref)
        if commented is not None:
            return _join(session, commented, message, f"(sửa bình luận) {text}", provider_id)
    threaded = None
    if message.channel == "facebook" and message.kind == EventKind.MESSAGE:
        threaded = threads.thread_ticket(session, message.sender_id or "")
    citizen = find_citizen(session, kind, message.sender_id or "")
    ongoing = _open_ticket(session, citizen.id, message.channel) if citizen and citizen.id else None
    if message.phone:
        _phone_given(session, message)
    elif message.kind == EventKind.MESSAGE and phone_question.answers_question(
        session, threaded or ongoing, message
    ):
        _phone_given(session, replace(message, phone=message.text.strip()), verified_by=ANSWERED)
    if threaded is not None:
        return _join(session, threaded, message, text, provider_id)
    if ongoing is not None and message.kind == EventKind.MESSAGE and message.event_name != "comment_edited":
        return _join(session, ongoing, message, text, provider_id)
    contact = Contact(
        zalo_id=message.sender_id if kind == IdentityKind.ZALO else None,
        facebook_id=message.sender_id if kind == IdentityKind.FACEBOOK else None,
    )
    return service.create_ticket(
        session,
        NewTicket(
            description=fit_description(text),
            opening_text=text,
            channel=Channel(message.channel),
            contact=contact,
            latitude=message.location[0] if message.location else None,
            longitude=message.location[1] if message.location else None,
            created_at=message.sent_at,
            provider_message_id=provider_id,
        ),
        actor=CITIZEN,
    )


def _phone_given(
    session: Session, message: InboundMessage, *, verified_by: str | None = None
) -> Citizen | None:
    """The person gave their phone through the channel (Zalo's form, Messenger's quick reply, or as
    the answer to our question): a verified identifier, which makes them one with whoever verifiably
    holds that number (a caller…)."""
    kind = IDENTITY[message.channel]
    try:
        contact = Contact(
            zalo_id=message.sender_id if kind == IdentityKind.ZALO else None,
            facebook_id=message.sender_id if kind == IdentityKind.FACEBOOK else None,
            phone=message.phone,
            phone_verified_by=verified_by or (ZALO_FORM if kind == IdentityKind.ZALO else MESSENGER),
            name=message.sender_name,
        )
        return resolve_citizen(session, contact)
    except Invalid as exc:  # not a number we can read: the event stays on record, nothing is linked
        log.warning(
            "unreadable phone from a channel", extra={"channel": message.channel, "error": exc.message}
        )
        return None


def _contact_given(session: Session, message: InboundMessage) -> Ticket | None:
    citizen = _phone_given(session, message) if message.phone else None
    if citizen is None or citizen.id is None:
        return None
    return _open_ticket(session, citizen.id, message.channel)


def _join(session: Session, ticket: Ticket, message: InboundMessage, text: str, provider_id: str) -> Ticket:
    stored, new = service.record_message(
        session,
        Message(
            ticket_id=ticket.id,
            citizen_id=ticket.citizen_id,
            channel=message.channel,
            direction=Direction.INBOUND,
            provider_message_id=provider_id,
            text=text,
            created_at=as_utc(message.sent_at),
        ),
    )
    if not new:
        return ticket
    if message.location and ticket.latitude is None:
        ticket.latitude, ticket.longitude = message.location
    ticket.updated_at = utcnow()
    service.record_event(
        session, ticket, TicketEventKind.MESSAGE_RECEIVED, actor=CITIZEN, message_id=stored.id
    )
    if ticket.status == Status.WAITING_CITIZEN:
        service.transition(
            session, ticket.id or 0, Status.IN_PROGRESS, actor=CITIZEN, reason="người dân đã trả lời"
        )
    return ticket


def _echo(session: Session, message: InboundMessage) -> Ticket | None:
    """What the page or OA sent, through us or typed in the provider's own inbox: outbound, once."""
    if message.channel == "facebook":
        threaded = threads.private_reply_echoed(session, message.event_key, message.sender_id)
        if threaded is not None:
            return threaded
    citizen = find_citizen(session, IDENTITY[message.channel], message.sender_id or "")
    ticket = _open_ticket(session, citizen.id, message.channel) if citizen and citizen.id else None
    ours = session.exec(
        select(OutboundMessage).where(OutboundMessage.provider_message_id == message.event_key)
    ).first()
    if ours is not None or ticket is None:
        return ticket  # our own send is already on record
    service.record_message(
        session,
        Message(
            ticket_id=ticket.id,
            citizen_id=ticket.citizen_id,
            channel=message.channel,
            direction=Direction.OUTBOUND,
            provider_message_id=message.event_key,
            text=_text_of(message),
            created_at=as_utc(message.sent_at),
        ),
    )
    return ticket


def _ticket_of_comment(session: Session, comment_id: str | None) -> Ticket | None:
    opening = session.exec(
        select(Message).where(
            Message.channel == "facebook", Message.provider_message_id == f"comment:{comment_id}"
        )
    ).first()
    return session.get(Ticket, opening.ticket_id) if opening and opening.ticket_id else None


def _comment_removed(session: Session, message: InboundMessage) -> Ticket | None:
    opening = session.exec(
        select(Message).where(
            Message.channel == "facebook", Message.provider_message_id == f"comment:{message.thread_ref}"
        )
    ).first()
    ticket = session.get(Ticket, opening.ticket_id) if opening and opening.ticket_id else None
    if ticket is not None:
        service.record_event(
            session, ticket, TicketEventKind.EDITED, actor=CITIZEN, note="người dân đã xoá bình luận"
        )
    return ticket


def park(session: Session, event_id: int, error: str) -> None:
    event = session.get(InboundEvent, event_id)
    if event is not None and event.state == EventState.PENDING:
        event.state, event.last_error = EventState.DEAD, error[:4000]


def record_failure(session: Session, event_id: int, error: str) -> None:
    event = session.get(InboundEvent, event_id)
    if event is not None:
        event.attempts += 1
        event.last_error = error[:4000]


def dead_letters(session: Session, limit: int = 200) -> list[InboundEvent]:
    query = (
        select(InboundEvent)
        .where(InboundEvent.state == EventState.DEAD)
        .order_by(col(InboundEvent.id).desc())
    )
    return list(session.exec(query.limit(limit)).all())


def outbox(session: Session, state: str | None = None, limit: int = 200) -> list[OutboundMessage]:
    """The newest queued, sent and failed messages, for the administrators' outbox view."""
    query = select(OutboundMessage).order_by(col(OutboundMessage.id).desc()).limit(limit)
    if state:
        query = query.where(OutboundMessage.state == state)
    return list(session.exec(query).all())


def outbox_counts(session: Session) -> dict[str, int]:
    """How many outbound messages are in each state; a state with none is absent."""
    query = select(OutboundMessage.state, func.count()).group_by(col(OutboundMessage.state))
    return dict(session.exec(query).all())


def replay(session: Session, event_id: int) -> InboundEvent:
    event = session.get(InboundEvent, event_id)
    if event is None:
        raise NotFound(f"no inbound event {event_id}")
    if event.state != EventState.DEAD:
        raise Conflict(
            _(
                "Sự kiện {number} đang ở trạng thái {state}; chỉ gửi lại được sự kiện lỗi.",
                number=event_id,
                state=event.state,
            )
        )
    if event.event_name == UNREADABLE:
        raise Conflict(
            _(
                "Sự kiện {number} là gói tin không đọc được ({error}); được giữ lại để xem xét,"
                " gửi lại cũng sẽ lỗi như vậy.",
                number=event_id,
                error=event.last_error,
            )
        )
    event.state, event.attempts = EventState.PENDING, 0
    return event

"""The web form is a channel too: each submission carries an id, is stored as an inbound event and makes
one ticket however many times the browser sends it (a double click, a retry after a timeout)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlmodel import Session, select

from channels.models import EventState, InboundEvent
from kernel.text import clean_text
from kernel.timeutil import utcnow
from tickets import service
from tickets.attachments import store_attachment
from tickets.citizens import Contact
from tickets.models import Channel, Ticket
from tickets.photos import clean_photo
from tickets.service import CITIZEN, NewTicket

log = logging.getLogger(__name__)

CHANNEL = "web"


@dataclass(frozen=True)
class WebReport:
    submission_id: str
    text: str
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    phone: str | None = None
    email: str | None = None
    photos: list[tuple[str | None, bytes]] = field(default_factory=list)
    language: str | None = None  # the page's language: the citizen's notifications follow it


def file_report(session: Session, report: WebReport) -> Ticket:
    stored = session.exec(
        select(InboundEvent).where(
            InboundEvent.channel == CHANNEL, InboundEvent.event_key == report.submission_id
        )
    ).first()
    if stored is not None and stored.ticket_id is not None:
        ticket = session.get(Ticket, stored.ticket_id)
        assert ticket is not None
        log.info("intake duplicate", extra={"channel": CHANNEL, "ticket": ticket.code, "dedup": "submission"})
        return ticket  # the same submission again: the report it already made
    cleaned = [(name, clean_photo(data)) for name, data in report.photos]
    latitude, longitude = report.latitude, report.longitude
    if latitude is None and longitude is None:
        located = next((photo for _, photo in cleaned if photo.latitude is not None), None)
        if located:
            latitude, longitude = located.latitude, located.longitude
    ticket = service.create_ticket(
        session,
        NewTicket(
            description=clean_text(report.text),
            channel=Channel.WEB,
            contact=Contact(phone=report.phone, email=report.email, language=report.language),
            address=clean_text(report.address) if report.address else None,
            latitude=latitude,
            longitude=longitude,
            provider_message_id=f"web:{report.submission_id}",
        ),
        actor=CITIZEN,
    )
    for name, photo in cleaned:
        store_attachment(
            session, data=photo.data, original_name=name, ticket_id=ticket.id, purpose="evidence"
        )
    session.add(
        InboundEvent(
            channel=CHANNEL,
            event_key=report.submission_id,
            event_name="web_form",
            state=EventState.DONE,
            payload={"photos": len(cleaned), "has_location": latitude is not None},
            ticket_id=ticket.id,
            processed_at=utcnow(),
        )
    )
    return ticket

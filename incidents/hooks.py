"""A report is considered for an incident as soon as it has a category: at creation when the channel
gave one, or when triage or a person classifies it."""

from __future__ import annotations

from sqlmodel import Session

from incidents import service
from tickets.models import EventKind, Ticket, TicketEvent
from tickets.service import on_event_recorded, on_ticket_created


def _created(session: Session, ticket: Ticket) -> None:
    if ticket.category_code is not None:
        service.consider(session, ticket)


def _classified(session: Session, ticket: Ticket, event: TicketEvent) -> None:
    if event.kind == EventKind.CLASSIFIED:
        service.consider(session, ticket)


on_ticket_created(_created)
on_event_recorded(_classified)

"""Every new ticket is triaged by a task sent after its commit; people's corrections are kept."""

from __future__ import annotations

from sqlmodel import Session

from civicdesk.db import send_task_after_commit
from routing import flows, triage
from tickets.models import Ticket, TicketEvent
from tickets.service import on_event_recorded, on_ticket_created


def _triage_later(session: Session, ticket: Ticket) -> None:
    from routing.tasks import triage_ticket

    send_task_after_commit(session, triage_ticket, ticket.id)


def _keep_corrections(session: Session, ticket: Ticket, event: TicketEvent) -> None:
    triage.record_correction(session, ticket, event)


on_ticket_created(_triage_later)
on_event_recorded(_keep_corrections)
on_event_recorded(flows.reroute_on_reclassification)

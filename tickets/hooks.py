"""Tell the staff pages that tickets moved, so worklists and boards refresh without a reload.

The event says only that something changed: each page re-reads what its viewer may see."""

from __future__ import annotations

from sqlmodel import Session

from civicdesk import live
from tickets.models import Ticket, TicketEvent
from tickets.service import on_event_recorded

TICKETS_TOPIC = "tickets"
_PUBLISHED = "tickets_live_published"


def _changed(session: Session, _ticket: Ticket, _event: TicketEvent) -> None:
    transaction = session.get_transaction()
    if transaction is None or session.info.get(_PUBLISHED) == id(transaction):
        return  # once per transaction is enough
    session.info[_PUBLISHED] = id(transaction)
    live.publish(session, TICKETS_TOPIC, "ticket_changed", {})


on_event_recorded(_changed)

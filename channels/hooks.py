"""Citizens hear back on the channel they used: a receipt, status changes, public replies from staff."""

from __future__ import annotations

from sqlmodel import Session

from channels import service, templates
from tickets.models import ActorType, EventKind, Status, Ticket, TicketEvent
from tickets.service import on_event_recorded, on_status_changed, on_ticket_created


def _public_reply(session: Session, ticket: Ticket, event: TicketEvent) -> None:
    if (
        event.kind == EventKind.COMMENT
        and event.public
        and event.actor_type == ActorType.STAFF
        and event.note
    ):
        service.queue_message(session, ticket, "reply", templates.render(session, "reply", note=event.note))


def _status(session: Session, ticket: Ticket, previous: Status, target: Status) -> None:
    service.on_status(session, ticket, previous, target)


on_ticket_created(service.on_created)
on_status_changed(_status)
on_event_recorded(_public_reply)

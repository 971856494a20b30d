"""What happens in the city when a ticket's life moves on, in the order it happens, in one file.

The ticket core calls these three moments inside the transaction that made the change (see
`tickets.life`); everything they start stands or falls with that transaction, and tasks leave only after
its commit. The order below is the order the consequences take effect.

- **A report arrives** (`opened`): any door — the public form, a staff member, a call's screen pop, a
  voicemail, Open311, Zalo or Facebook, the IOC — ends in `tickets.service.create_ticket`, which records
  the `created` event first (so the citizen's receipt is queued by `event_recorded`), then calls `opened`.
- **It changes status** (`status_changed`): triaged, assigned, waiting for the citizen, resolved, closed,
  rejected, reopened, merged as a duplicate.
- **Anything is written on its timeline** (`event_recorded`): classified (by triage or a person), routed,
  assigned, answered, a comment, a status change, an SLA warning…"""

from __future__ import annotations

from sqlmodel import Session, SQLModel

from incidents import service as incidents
from kernel.db import send_task_after_commit
from notifications import service as notifications
from routing import flows as routing
from routing import triage
from routing.tasks import triage_ticket
from sla import service as sla
from telephony import calls
from telephony.models import Call
from tickets import live_updates
from tickets.models import EventKind, Status, Ticket, TicketEvent


def opened(session: Session, ticket: Ticket) -> None:
    """A report arrives and is a ticket now."""
    sla.start_clocks(session, ticket)  # the response and resolution clocks run from the report's time
    send_task_after_commit(session, triage_ticket, ticket.id)  # classify, locate, dedupe, then route
    calls.link_recent_call(session, ticket)  # filed on the phone: it joins the caller's last call
    if ticket.category_code is not None:  # the door knew the category: a surge may be an incident
        incidents.consider(session, ticket)


def status_changed(session: Session, ticket: Ticket, previous: Status, target: Status) -> None:
    """Waiting for the citizen pauses the clocks; answered, resolved, closed or rejected meets them;
    reopened restarts the resolution clock."""
    sla.status_changed(session, ticket, previous, target)


def event_recorded(session: Session, ticket: Ticket, event: TicketEvent) -> None:
    """Every timeline event, whoever wrote it, as it is added."""
    sla.event_recorded(session, ticket, event)  # staff answered: response met; new category: retarget
    triage.record_correction(session, ticket, event)  # a person corrected triage: labelled data
    routing.reroute_on_reclassification(session, ticket, event)  # a person reclassified: route again
    notifications.on_event(session, ticket, event)  # receipt, status change, resolution, reply: told
    live_updates.tell_staff_pages(session)  # worklists and boards refresh
    if event.kind == EventKind.CLASSIFIED:  # triage or a person gave the category: maybe an incident
        incidents.consider(session, ticket)


class CityFlows:
    """The `tickets.life.TicketLife` that `civicdesk.wiring.install` hands to the ticket core."""

    tables_following_citizens: tuple[type[SQLModel], ...] = (Call,)  # a merged caller keeps their calls
    opened = staticmethod(opened)
    status_changed = staticmethod(status_changed)
    event_recorded = staticmethod(event_recorded)

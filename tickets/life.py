"""The one door through which the rest of the city hears about a ticket's life.

The ticket core sits at the bottom of the layers, so it cannot call the SLA clocks, triage, the
citizen's notifications or incidents by name. It calls the `TicketLife` it was given instead, at three
moments, inside the transaction that made the change. What happens then is written, top to bottom, in
`flows/ticket_life.py`; the composition root (`civicdesk.wiring.install`, called by the web app, the
Celery app and the CLI) hands that flow over once. A process that forgot would file tickets with no SLA
clock and no triage, so the core refuses to change a ticket until some flow follows it."""

from __future__ import annotations

from typing import Protocol

from sqlmodel import Session, SQLModel

from tickets.models import Status, Ticket, TicketEvent


class TicketLife(Protocol):
    """What follows a ticket's change, in the same transaction (flows.ticket_life.CityFlows)."""

    @property
    def tables_following_citizens(self) -> tuple[type[SQLModel], ...]:
        """Other domains' tables whose `citizen_id` moves with a merge of two people (calls…)."""
        ...

    def opened(self, session: Session, ticket: Ticket) -> None:
        """A report became a ticket: it has been flushed with its `created` event."""

    def status_changed(self, session: Session, ticket: Ticket, previous: Status, target: Status) -> None:
        """The ticket moved from `previous` to `target`; its event is recorded."""

    def event_recorded(self, session: Session, ticket: Ticket, event: TicketEvent) -> None:
        """Any timeline event was added (it may have no id until a flush)."""


class Unfollowed(RuntimeError):
    """A ticket changed in a process whose entry point never named the flow that follows tickets."""


_followed_by: TicketLife | None = None


def follow_with(life: TicketLife) -> None:
    """Named once per process by its entry point; a second call replaces the first (tests)."""
    global _followed_by
    _followed_by = life


def follower() -> TicketLife:
    if _followed_by is None:
        raise Unfollowed(
            "No flow follows tickets in this process: its entry point must call civicdesk.wiring.install()"
            " before changing a ticket (or the ticket would have no SLA clock and no triage)."
        )
    return _followed_by

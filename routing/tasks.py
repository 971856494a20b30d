"""Triage in the background: one task per new ticket, and a sweep for any whose task was lost."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlmodel import col, select

from civicdesk.celery_app import celery_app
from civicdesk.db import unit_of_work
from civicdesk.timeutil import utcnow
from routing import triage
from tickets.models import Status, Ticket


@celery_app.task(name="routing.triage_ticket", acks_late=True)  # type: ignore[untyped-decorator]
def triage_ticket(ticket_id: int) -> dict[str, Any] | None:
    with unit_of_work() as session:
        decision = triage.apply(session, ticket_id)
        return decision.as_json() if decision else None


@celery_app.task(name="routing.sweep_untriaged", ignore_result=True)  # type: ignore[untyped-decorator]
def sweep_untriaged() -> int:
    """New tickets older than two minutes that triage never saw (a send lost after commit)."""
    cutoff = utcnow() - timedelta(minutes=2)
    with unit_of_work() as session:
        ids = session.exec(
            select(Ticket.id)
            .where(
                Ticket.status == Status.NEW, col(Ticket.triaged_at).is_(None), col(Ticket.created_at) < cutoff
            )
            .limit(200)
        ).all()
    for ticket_id in ids:
        with unit_of_work() as session:
            triage.apply(session, ticket_id or 0)
    return len(ids)


BEAT_SCHEDULE: dict[str, Any] = {
    "triage-sweep": {"task": "routing.sweep_untriaged", "schedule": 60.0},
}

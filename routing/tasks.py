"""Triage in the background: one task per new ticket, a sweep for any whose task was lost, and the
scheduled retraining of the category model on people's corrections."""

from __future__ import annotations

from dataclasses import asdict
from datetime import timedelta
from typing import Any

from celery import shared_task
from sqlmodel import col, select

from kernel.db import unit_of_work
from kernel.settings import get_settings
from kernel.timeutil import utcnow
from routing import learning, triage
from tickets.models import Status, Ticket


@shared_task(name="routing.triage_ticket", acks_late=True)  # type: ignore[untyped-decorator]
def triage_ticket(ticket_id: int) -> dict[str, Any] | None:
    with unit_of_work() as session:
        decision = triage.apply(session, ticket_id)
        return decision.as_json() if decision else None


@shared_task(name="routing.sweep_untriaged", ignore_result=True)  # type: ignore[untyped-decorator]
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


@shared_task(name="routing.retrain_category_model", ignore_result=True)  # type: ignore[untyped-decorator]
def retrain_category_model() -> dict[str, Any]:
    with unit_of_work() as session:
        return asdict(learning.retrain(session))


def beat_schedule() -> dict[str, Any]:
    """Read when the beat is set up, not at import: the retrain interval is a setting, and importing the
    tasks (as every CLI command does through the flows) must not read the settings before the command can
    report a wrong one in a line (exit 2)."""
    every = get_settings().nlp_retrain_seconds
    return {
        "triage-sweep": {"task": "routing.sweep_untriaged", "schedule": 60.0},
        "retrain-category-model": {
            "task": "routing.retrain_category_model",
            "schedule": every,
            "options": {"expires": every},  # a missed run is not queued twice
        },
    }

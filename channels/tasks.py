"""Processing inbound events in the background, with retries and backoff; what keeps failing is parked.
Sending the outbox is notifications' (notifications/tasks.py)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import Task, shared_task
from sqlmodel import col, select

from channels import service
from channels.models import EventState, InboundEvent
from kernel.db import unit_of_work
from kernel.timeutil import utcnow

MAX_ATTEMPTS = 6


@shared_task(name="channels.process_inbound", bind=True, acks_late=True, max_retries=MAX_ATTEMPTS)  # type: ignore[untyped-decorator]
def process_inbound(self: Task, event_id: int) -> str | None:
    try:
        with unit_of_work() as session:
            return service.process(session, event_id).state
    except Exception as exc:  # noqa: BLE001 - any failure is recorded, retried, then parked
        with unit_of_work() as session:
            service.record_failure(session, event_id, repr(exc))
        if self.request.retries >= MAX_ATTEMPTS:
            with unit_of_work() as session:
                service.park(session, event_id, repr(exc))
            return EventState.DEAD
        raise self.retry(exc=exc, countdown=min(2**self.request.retries * 5, 600)) from exc


@shared_task(name="channels.process_inbound_many", ignore_result=True)  # type: ignore[untyped-decorator]
def process_inbound_many(event_ids: list[int]) -> int:
    """The events a web process stored since its last message (channels.handoff), each sent on as its
    own task, with its own retries: the fan-out costs the worker, not the process answering webhooks."""
    for event_id in event_ids:
        process_inbound.delay(event_id)
    return len(event_ids)


def publish_inbound(event_ids: list[int]) -> None:
    """channels.handoff's way to the workers."""
    process_inbound_many.delay(event_ids)


@shared_task(name="channels.sweep", ignore_result=True)  # type: ignore[untyped-decorator]
def sweep() -> int:
    """Inbound events whose task was lost after commit: older than two minutes and still waiting (the
    outbox has its own sweep, notifications.sweep_outbox)."""
    cutoff = utcnow() - timedelta(minutes=2)
    with unit_of_work() as session:
        events = session.exec(
            select(InboundEvent.id)
            .where(
                InboundEvent.state == EventState.PENDING,
                col(InboundEvent.received_at) < cutoff,
                InboundEvent.attempts == 0,
            )
            .limit(500)
        ).all()
    for event_id in events:
        process_inbound.delay(event_id)
    return len(events)


def beat_schedule() -> dict[str, Any]:
    return {"channels-sweep": {"task": "channels.sweep", "schedule": 60.0}}

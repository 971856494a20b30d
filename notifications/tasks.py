"""Sending the outbox in the background, with retries and backoff; a route that keeps failing hands the
message to the next route. The task keeps its name ``channels.send_outbound`` (the outbox rows are
channels'), so messages already queued under it are still sent after an upgrade."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import Task, shared_task

from channels.clients import http_client
from channels.models import OutboundMessage
from kernel.db import unit_of_work
from kernel.settings import get_settings
from kernel.timeutil import utcnow
from notifications import outbox
from notifications.adapters import notifier_for

MAX_ATTEMPTS = 6


@shared_task(name="channels.send_outbound", bind=True, acks_late=True, max_retries=MAX_ATTEMPTS)  # type: ignore[untyped-decorator]
def send_outbound(self: Task, outbound_id: int) -> str | None:
    with unit_of_work() as session:
        row = session.get(OutboundMessage, outbound_id)
        channel = row.channel if row else None
    if channel is None:
        return None
    with http_client() as http:
        result = outbox.send(unit_of_work, outbound_id, notifier_for(channel, http))
    if result is None or result.ok or not result.retry:
        return "sent" if result and result.ok else "failed" if result else None
    if self.request.retries >= MAX_ATTEMPTS:
        with unit_of_work() as session:
            outbox.fail_for_good(session, outbound_id, f"gave up after {MAX_ATTEMPTS} tries: {result.error}")
        return "failed"
    raise self.retry(countdown=min(2**self.request.retries * 10, 900))


@shared_task(name="notifications.sweep_outbox", ignore_result=True)  # type: ignore[untyped-decorator]
def sweep_outbox() -> int:
    """Messages whose task was lost after commit (older than two minutes and never tried), messages whose
    worker died while sending them, SMS held back by quiet hours once morning comes: sent again."""
    cutoff = utcnow() - timedelta(minutes=2)
    timeout = timedelta(seconds=get_settings().outbox_sending_timeout_seconds)
    with unit_of_work() as session:
        reclaimed = outbox.reclaim_stuck(session, older_than=timeout, max_attempts=MAX_ATTEMPTS)
    with unit_of_work() as session:
        due = outbox.due_for_sending(session, lost_before=cutoff)
    for outbound_id in [*due, *reclaimed]:
        send_outbound.delay(outbound_id)
    return len(due) + len(reclaimed)


def beat_schedule() -> dict[str, Any]:
    return {"notifications-sweep-outbox": {"task": "notifications.sweep_outbox", "schedule": 60.0}}

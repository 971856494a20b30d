"""The ticket core's background work. Tasks take ids, open their own unit of work and are safe to repeat."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import shared_task

from kernel.db import unit_of_work
from kernel.settings import get_settings
from kernel.timeutil import utcnow
from tickets import service


@shared_task(name="tickets.close_undisputed_resolutions", acks_late=True)  # type: ignore[untyped-decorator]
def close_undisputed_resolutions() -> list[str]:
    """Close resolved tickets once the citizen's window to dispute the resolution has passed."""
    cutoff = utcnow() - timedelta(days=get_settings().reopen_days)
    with unit_of_work() as session:
        return service.close_resolved_before(session, cutoff)


def beat_schedule() -> dict[str, Any]:
    return {
        "close-undisputed-resolutions": {
            "task": "tickets.close_undisputed_resolutions",
            "schedule": 15 * 60.0,
        },
    }

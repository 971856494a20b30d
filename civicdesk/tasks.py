"""Housekeeping that belongs to no domain package."""

from __future__ import annotations

from typing import Any

from civicdesk import live
from civicdesk.celery_app import celery_app
from civicdesk.db import unit_of_work


@celery_app.task(name="civicdesk.purge_live_events", ignore_result=True)  # type: ignore[untyped-decorator]
def purge_live_events() -> int:
    with unit_of_work() as session:
        return live.purge(session)


BEAT_SCHEDULE: dict[str, Any] = {
    "purge-live-events": {"task": "civicdesk.purge_live_events", "schedule": 600.0},
}

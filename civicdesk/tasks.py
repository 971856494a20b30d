"""Housekeeping that belongs to no domain package."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from kernel import live
from kernel.db import get_engine, unit_of_work
from kernel.observability import heartbeat as heartbeats
from kernel.settings import get_settings


@shared_task(name="civicdesk.purge_live_events", ignore_result=True)  # type: ignore[untyped-decorator]
def purge_live_events() -> int:
    with unit_of_work() as session:
        return live.purge(session)


@shared_task(name="civicdesk.heartbeat", ignore_result=True)  # type: ignore[untyped-decorator]
def beat_heartbeat() -> None:
    """Scheduled by beat, run by a worker: a fresh row proves beat, the broker and a worker all work."""
    heartbeats.beat(get_engine(), heartbeats.BEAT)


def beat_schedule() -> dict[str, Any]:
    every = get_settings().beat_heartbeat_seconds  # read when the beat is set up, not at import
    return {
        "purge-live-events": {"task": "civicdesk.purge_live_events", "schedule": 600.0},
        # expires: when no worker takes them, heartbeats must not pile up on the broker
        "heartbeat": {"task": "civicdesk.heartbeat", "schedule": every, "options": {"expires": every * 3}},
    }

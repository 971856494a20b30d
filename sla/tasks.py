"""The SLA scan, run by beat every few seconds so that a breach is noticed within a minute."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import shared_task

from kernel.db import unit_of_work
from kernel.settings import get_settings
from sla import service


@shared_task(name="sla.scan", ignore_result=True)  # type: ignore[untyped-decorator]
def scan_due_clocks() -> dict[str, int]:
    total = {"warned": 0, "breached": 0}
    while True:  # drain in batches: one transaction each, so a long backlog never holds one huge lock
        with unit_of_work() as session:
            result = service.scan(session, limit=500)
        total["warned"] += result.warned
        total["breached"] += result.breached
        if result.warned < 500 and result.breached < 500:
            return total


def beat_schedule() -> dict[str, Any]:
    every = get_settings().sla_scan_seconds  # read when the beat is set up, not at import
    return {
        "sla-scan": {
            "task": "sla.scan",
            "schedule": timedelta(seconds=every),
            "options": {"expires": every * 2},
        }
    }

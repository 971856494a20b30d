"""The incidents safety net in the background."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from incidents import service
from kernel.db import unit_of_work


@shared_task(name="incidents.scan", ignore_result=True)  # type: ignore[untyped-decorator]
def scan() -> int:
    with unit_of_work() as session:
        return service.scan(session)


def beat_schedule() -> dict[str, Any]:
    return {"incidents-scan": {"task": "incidents.scan", "schedule": 120.0}}

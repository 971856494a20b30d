"""Beat pulls every due connector; each in its own transactions so one failing source stops no other."""

from __future__ import annotations

from typing import Any

import httpx
from celery import shared_task

from ioc import service
from kernel.db import unit_of_work
from kernel.timeutil import utcnow


@shared_task(name="ioc.pull_due", ignore_result=True)  # type: ignore[untyped-decorator]
def pull_due() -> int:
    now = utcnow()
    with unit_of_work() as session:
        service.seed(session)
        codes = [c.code for c in service.due_connectors(session, now)]
    with httpx.Client(timeout=10) as http:  # each remote source is fetched with no transaction open
        return sum(service.pull_connector(code, http, now) for code in codes)


def beat_schedule() -> dict[str, Any]:
    return {"ioc-pull": {"task": "ioc.pull_due", "schedule": 30.0}}

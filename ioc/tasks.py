"""Beat pulls every due connector; each in its own transaction so one failing source stops no other."""

from __future__ import annotations

from typing import Any

import httpx
from celery import shared_task

from civicdesk.db import unit_of_work
from civicdesk.timeutil import utcnow
from ioc import service
from ioc.models import Connector


@shared_task(name="ioc.pull_due", ignore_result=True)  # type: ignore[untyped-decorator]
def pull_due() -> int:
    now = utcnow()
    with unit_of_work() as session:
        service.seed(session)
        codes = [c.code for c in service.due_connectors(session, now)]
    pulled = 0
    with httpx.Client(timeout=10) as http:
        for code in codes:
            with unit_of_work() as session:
                connector = session.get(Connector, code)
                if connector is not None:
                    pulled += service.pull(session, connector, http, now)
    return pulled


BEAT_SCHEDULE: dict[str, Any] = {"ioc-pull": {"task": "ioc.pull_due", "schedule": 30.0}}

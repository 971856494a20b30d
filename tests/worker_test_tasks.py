"""Tasks only the test worker loads (``celery worker -I worker_test_tasks``): one past its soft time limit,
one that ignores it until the hard limit, one that logs."""

from __future__ import annotations

import logging
import time

from celery.exceptions import SoftTimeLimitExceeded

from civicdesk.celery_app import celery_app

log = logging.getLogger(__name__)


@celery_app.task(name="tests.sleep_past_soft_limit", soft_time_limit=1, time_limit=10)  # type: ignore[untyped-decorator]
def sleep_past_soft_limit() -> None:
    time.sleep(60)


@celery_app.task(name="tests.ignore_soft_limit", soft_time_limit=1, time_limit=2)  # type: ignore[untyped-decorator]
def ignore_soft_limit() -> None:
    try:
        time.sleep(60)
    except SoftTimeLimitExceeded:
        time.sleep(60)  # a task stuck in C code or catching everything: only the hard limit ends it


@celery_app.task(name="tests.log_a_line")  # type: ignore[untyped-decorator]
def log_a_line(text: str) -> str:
    log.warning("inside the task: %s", text)
    return text

"""The one Celery app. Embedded mode uses the embedded Valkey through kombu's redis transport; production
points CIVICDESK_BROKER_URL at Redis or RabbitMQ. The task code is the same in both."""

from __future__ import annotations

import importlib
from typing import Any

from celery import Celery

from civicdesk import embedded, wiring
from civicdesk.settings import get_settings

# Each domain package with background work has a tasks module; its BEAT_SCHEDULE joins the beat.
TASK_MODULES = [
    "tickets.tasks",
    "sla.tasks",
    "routing.tasks",
    "channels.tasks",
    "ioc.tasks",
    "telephony.tasks",
    "civicdesk.tasks",
]


def _beat_schedule() -> dict[str, Any]:
    schedule: dict[str, Any] = {}
    for name in TASK_MODULES:
        schedule.update(getattr(importlib.import_module(name), "BEAT_SCHEDULE", {}))
    return schedule


def create_celery() -> Celery:
    settings = get_settings()
    broker, backend = embedded.celery_urls(settings)
    app = Celery("civicdesk", broker=broker, backend=backend)
    app.conf.update(
        include=TASK_MODULES,
        task_default_queue=settings.task_queue,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_serializer="json",
        accept_content=["json"],
        result_expires=3600,
        timezone=settings.timezone,
        enable_utc=True,
        broker_connection_retry_on_startup=True,
        beat_schedule_filename=str(settings.var_dir / "celerybeat-schedule"),
    )
    return app


celery_app = create_celery()
wiring.install()
celery_app.conf.beat_schedule = _beat_schedule()

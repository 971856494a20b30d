"""The one Celery app. Embedded mode uses the embedded Valkey through kombu's redis transport; production
points CIVICDESK_BROKER_URL at Redis or RabbitMQ. The task code is the same in both."""

from __future__ import annotations

import importlib
from typing import Any

from celery import Celery

from civicdesk import wiring
from civicdesk.observability import worker as worker_observability
from kernel import embedded
from kernel.city import timezone_name
from kernel.settings import get_settings

# Each domain package with background work has a tasks module; what its beat_schedule() returns joins
# the beat (a function, called when the beat is set up: some intervals are settings, read then).
TASK_MODULES = [
    "tickets.tasks",
    "sla.tasks",
    "routing.tasks",
    "channels.tasks",
    "notifications.tasks",
    "ioc.tasks",
    "incidents.tasks",
    "telephony.tasks",
    "civicdesk.tasks",
]


# Every task has the defaults (CIVICDESK_TASK_SOFT_TIME_LIMIT / _TIME_LIMIT); these need other bounds.
# The soft limit raises SoftTimeLimitExceeded inside the task (a normal failure, retried by the task's
# own policy); the hard one kills the process running it. Both need the prefork pool: the threads and
# solo pools cannot interrupt a task.
TIME_LIMITS: dict[str, tuple[int, int]] = {
    "telephony.transcribe_voicemail": (1800, 1860),  # Vosk on a long recording takes minutes of CPU
    "telephony.transcribe_recording": (1800, 1860),
    "routing.triage_ticket": (60, 90),  # tens of milliseconds normally; a minute means it is stuck
    "routing.retrain_category_model": (1200, 1260),  # scikit-learn on the corpus: a minute or two
    "channels.process_inbound": (120, 150),
    "channels.send_outbound": (150, 180),  # token refresh and send: two calls of up to 60 s each
    "civicdesk.heartbeat": (20, 30),
}


def _time_limit_annotations() -> dict[str, dict[str, int]]:
    return {name: {"soft_time_limit": soft, "time_limit": hard} for name, (soft, hard) in TIME_LIMITS.items()}


def _beat_schedule() -> dict[str, Any]:
    schedule: dict[str, Any] = {}
    for name in TASK_MODULES:
        module = importlib.import_module(name)
        entries = getattr(module, "beat_schedule", None)
        schedule.update(entries() if entries else {})
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
        timezone=timezone_name(),
        enable_utc=True,
        broker_connection_retry_on_startup=True,
        beat_schedule_filename=str(settings.var_dir / "celerybeat-schedule"),
        task_soft_time_limit=settings.task_soft_time_limit,
        task_time_limit=settings.task_time_limit,
        task_annotations=_time_limit_annotations(),
        worker_hijack_root_logger=False,  # logging is ours (kernel.observability.logs)
    )
    return app


celery_app = create_celery()
# the default app of every thread, not only this one's (Celery's "current" app is per thread): a web
# request runs in a pool thread, and a shared_task sent from there would otherwise go to Celery's
# built-in default broker, amqp on localhost, and be lost to our workers
celery_app.set_default()
wiring.install()
worker_observability.install()
celery_app.conf.beat_schedule = _beat_schedule()

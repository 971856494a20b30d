"""Celery's side of observability, connected through its signals: logging, task ids on log lines, task
figures, the worker heartbeat and error tracking."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import deque
from functools import lru_cache
from typing import Any

import structlog
from celery import signals
from celery.exceptions import TimeLimitExceeded
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool
from sqlmodel import create_engine

from civicdesk.observability.errors import init_error_tracking
from kernel.db import get_engine
from kernel.observability import heartbeat, logs
from kernel.observability import tasks as task_figures
from kernel.settings import get_settings

log = logging.getLogger(__name__)

WORKER_HEARTBEAT_EVERY_SECONDS = 10.0  # Celery beats every 2 s; one row update in five is enough

_figures = task_figures.FigureBuffer(get_engine)
os.register_at_fork(after_in_child=_figures.after_fork)
_started: dict[str, float] = {}
_hard_timeouts: deque[str | None] = deque(maxlen=256)
_last_heartbeat = [0.0]
_heartbeat_lock = threading.Lock()


@lru_cache
def _heartbeat_engine() -> Engine:
    # No pool: the worker's main process forks pool children, which must not inherit open connections.
    return create_engine(get_settings().database_url, poolclass=NullPool)


def _setup_logging(loglevel: Any = None, **_: Any) -> None:
    """Connected, this replaces Celery's own logging set-up in worker and beat."""
    logs.configure(level=loglevel or None)


def _worker_error_tracking(**_: Any) -> None:
    init_error_tracking("worker")


def _beat_error_tracking(**_: Any) -> None:
    init_error_tracking("beat")


def _fresh_pool_after_fork(**_: Any) -> None:
    get_engine().dispose(close=False)


def _task_started(task_id: str, task: Any, **_: Any) -> None:
    structlog.contextvars.bind_contextvars(task_id=task_id, task_name=task.name)
    _started[task_id] = time.perf_counter()


def _task_finished(task_id: str, task: Any, state: str | None = None, **_: Any) -> None:
    started = _started.pop(task_id, None)
    try:
        if started is not None:
            _record(task.name, (state or "unknown").lower(), time.perf_counter() - started)
    finally:
        structlog.contextvars.clear_contextvars()


def _task_failed(
    sender: Any = None, task_id: str | None = None, exception: BaseException | None = None, **_: Any
) -> None:
    # A hard time limit kills the process running the task: no postrun there, so the main process counts
    # it. Celery 5.6+ sends task_failure twice for one hard timeout (on_timeout, then on_failure).
    if not isinstance(exception, TimeLimitExceeded) or sender is None or task_id in _hard_timeouts:
        return
    _hard_timeouts.append(task_id)
    limit = exception.args[0] if exception.args else 0.0
    _record(sender.name, "failure", float(limit))


def _record(task: str, outcome: str, seconds: float) -> None:
    _figures.add(task, outcome, seconds)


def _write_figures(**_: Any) -> None:
    _figures.flush()


def _worker_heartbeat(**_: Any) -> None:
    with _heartbeat_lock:
        if time.monotonic() - _last_heartbeat[0] < WORKER_HEARTBEAT_EVERY_SECONDS:
            return
        _last_heartbeat[0] = time.monotonic()
    try:
        heartbeat.beat(_heartbeat_engine(), heartbeat.WORKER)
    except Exception:
        log.warning("could not write the worker heartbeat", exc_info=True)


def install() -> None:
    """Connect the handlers once (dispatch ids make a second call harmless)."""
    signals.setup_logging.connect(_setup_logging, weak=False, dispatch_uid="civicdesk.logging")
    signals.worker_init.connect(_worker_error_tracking, weak=False, dispatch_uid="civicdesk.sentry.worker")
    signals.beat_init.connect(_beat_error_tracking, weak=False, dispatch_uid="civicdesk.sentry.beat")
    signals.worker_process_init.connect(_fresh_pool_after_fork, weak=False, dispatch_uid="civicdesk.fork")
    signals.task_prerun.connect(_task_started, weak=False, dispatch_uid="civicdesk.task_prerun")
    signals.task_postrun.connect(_task_finished, weak=False, dispatch_uid="civicdesk.task_postrun")
    signals.task_failure.connect(_task_failed, weak=False, dispatch_uid="civicdesk.task_failure")
    signals.worker_process_shutdown.connect(
        _write_figures, weak=False, dispatch_uid="civicdesk.figures.child"
    )
    signals.worker_shutdown.connect(_write_figures, weak=False, dispatch_uid="civicdesk.figures.main")
    signals.heartbeat_sent.connect(_worker_heartbeat, weak=False, dispatch_uid="civicdesk.heartbeat")

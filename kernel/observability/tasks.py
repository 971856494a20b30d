"""Celery task figures: each finished task adds itself to its latency bucket in ``task_stat``."""

from __future__ import annotations

import bisect
import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from kernel.observability.models import TaskStat
from kernel.timeutil import utcnow

# Seconds. Triage takes tens of milliseconds, channel sends up to the HTTP timeout, transcription minutes.
BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
INF = "+Inf"
FLUSH_SECONDS = 2.0

log = logging.getLogger(__name__)


def bucket_label(seconds: float) -> str:
    index = bisect.bisect_left(BUCKETS, seconds)
    return INF if index == len(BUCKETS) else _format(BUCKETS[index])


def _format(bound: float) -> str:
    return INF if math.isinf(bound) else repr(float(bound))


Figures = dict[tuple[str, str, str], tuple[int, float]]  # (task, outcome, le) -> (count, seconds)


def record_many(engine: Engine, figures: Figures) -> None:
    """Add finished tasks, in one statement and transaction, to the figures every worker shares."""
    if not figures:
        return
    now = utcnow()
    statement = insert(TaskStat).values(
        [
            {
                "task": task,
                "outcome": outcome,
                "le": le,
                "count": count,
                "seconds_sum": seconds,
                "updated_at": now,
            }
            for (task, outcome, le), (count, seconds) in sorted(figures.items())  # one lock order for all
        ]
    )
    statement = statement.on_conflict_do_update(
        index_elements=["task", "outcome", "le"],
        set_={
            "count": col(TaskStat.count) + statement.excluded.count,
            "seconds_sum": col(TaskStat.seconds_sum) + statement.excluded.seconds_sum,
            "updated_at": statement.excluded.updated_at,
        },
    )
    with engine.begin() as conn:
        conn.execute(statement)


def record(engine: Engine, *, task: str, outcome: str, seconds: float) -> None:
    record_many(engine, {(task, outcome, bucket_label(seconds)): (1, seconds)})


class FigureBuffer:
    """Finished tasks summed in memory and written every ``every`` seconds by a daemon thread: a task pays
    a dictionary update, not a database round trip, and workers do not queue on the same hot row.

    At most ``every`` seconds of figures are lost when a process dies without its shutdown signal."""

    def __init__(self, engine: Callable[[], Engine], every: float = FLUSH_SECONDS) -> None:
        self._engine = engine
        self._every = every
        self._reset()

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._pending: Figures = {}
        self._thread: threading.Thread | None = None

    def after_fork(self) -> None:
        """A pool child starts empty: what the parent had pending is the parent's to write."""
        self._reset()

    def add(self, task: str, outcome: str, seconds: float) -> None:
        key = (task, outcome, bucket_label(seconds))
        with self._lock:
            count, total = self._pending.get(key, (0, 0.0))
            self._pending[key] = (count + 1, total + seconds)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="task-figures", daemon=True)
                self._thread.start()

    def flush(self) -> None:
        with self._lock:
            taken, self._pending = self._pending, {}
        try:
            record_many(self._engine(), taken)
        except Exception:  # kept for the next flush; the keys are few (tasks x outcomes x buckets)
            log.warning("could not write task figures; keeping them for the next try", exc_info=True)
            with self._lock:
                for key, (count, seconds) in taken.items():
                    pending_count, pending_seconds = self._pending.get(key, (0, 0.0))
                    self._pending[key] = (pending_count + count, pending_seconds + seconds)

    def _run(self) -> None:
        while True:
            time.sleep(self._every)
            self.flush()


@dataclass
class TaskHistogram:
    task: str
    outcome: str
    seconds_sum: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)  # per bucket, not cumulative

    def cumulative(self) -> list[tuple[str, float]]:
        """Buckets as Prometheus wants them: every bound, counts summed up to it, +Inf last."""
        running = 0
        result = []
        for bound in (*[_format(b) for b in BUCKETS], INF):
            running += self.counts.get(bound, 0)
            result.append((bound, float(running)))
        return result


def histograms(session: Session) -> list[TaskHistogram]:
    by_key: dict[tuple[str, str], TaskHistogram] = {}
    for row in session.exec(select(TaskStat)).all():
        histogram = by_key.setdefault((row.task, row.outcome), TaskHistogram(row.task, row.outcome))
        histogram.counts[row.le] = histogram.counts.get(row.le, 0) + row.count
        histogram.seconds_sum += row.seconds_sum
    return [by_key[key] for key in sorted(by_key)]

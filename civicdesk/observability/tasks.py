"""Celery task figures: each finished task adds itself to its latency bucket in ``task_stat``."""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from civicdesk.observability.models import TaskStat
from civicdesk.timeutil import utcnow

# Seconds. Triage takes tens of milliseconds, channel sends up to the HTTP timeout, transcription minutes.
BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
INF = "+Inf"


def bucket_label(seconds: float) -> str:
    index = bisect.bisect_left(BUCKETS, seconds)
    return INF if index == len(BUCKETS) else _format(BUCKETS[index])


def _format(bound: float) -> str:
    return INF if math.isinf(bound) else repr(float(bound))


def record(engine: Engine, *, task: str, outcome: str, seconds: float) -> None:
    """Add one finished task, in its own transaction, to the figures every worker shares."""
    statement = insert(TaskStat).values(
        task=task,
        outcome=outcome,
        le=bucket_label(seconds),
        count=1,
        seconds_sum=seconds,
        updated_at=utcnow(),
    )
    statement = statement.on_conflict_do_update(
        index_elements=["task", "outcome", "le"],
        set_={
            "count": col(TaskStat.count) + 1,
            "seconds_sum": col(TaskStat.seconds_sum) + statement.excluded.seconds_sum,
            "updated_at": statement.excluded.updated_at,
        },
    )
    with engine.begin() as conn:
        conn.execute(statement)


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

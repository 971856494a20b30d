"""Prometheus metrics: HTTP latency observed by the middleware, and the state of the product read at
scrape time (queue depth, outbox backlog, SLA, AMI link, channel tokens, Celery task figures), and the
category model files this process could not read.

The state is read through one custom collector and kept for a few seconds, so that several Prometheus
servers, or a scrape every second, cost one set of queries per ``SNAPSHOT_SECONDS``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Iterator
from datetime import datetime

from celery import Celery
from kombu.exceptions import ChannelError
from prometheus_client import CollectorRegistry, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from channels.models import ChannelToken, OutboundMessage, OutboxState
from kernel.observability import heartbeat
from kernel.observability import tasks as task_figures
from kernel.settings import Settings
from kernel.timeutil import utcnow
from sla.boards import URGENCIES, urgency_counts

log = logging.getLogger(__name__)

SNAPSHOT_SECONDS = 10.0
BROKER_TIMEOUT_SECONDS = 2.0
BACKLOG_STATES = (OutboxState.QUEUED, OutboxState.SENDING, OutboxState.FAILED)
SLA_STATES = ("open", *URGENCIES)

HTTP_LATENCY = Histogram(
    "civicdesk_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template (not the raw path) and status",
    ["method", "route", "status"],
    registry=None,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)


def queue_depth(app: Celery, queue: str) -> int:
    """Messages waiting on the broker in ``queue`` (0 when the queue was never declared)."""
    with app.connection_for_read() as conn:
        conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT_SECONDS)
        try:
            return int(conn.default_channel.queue_declare(queue=queue, passive=True).message_count)
        except ChannelError:
            return 0


class StateCollector(Collector):
    def __init__(self, engine: Engine, celery: Celery, settings: Settings) -> None:
        self.engine = engine
        self.celery = celery
        self.settings = settings
        self._lock = threading.Lock()
        self._taken = -SNAPSHOT_SECONDS
        self._families: list[Metric] = []

    def collect(self) -> Iterable[Metric]:
        with self._lock:
            if time.monotonic() - self._taken >= SNAPSHOT_SECONDS:
                self._families = list(self._read_state())
                self._taken = time.monotonic()
            return list(self._families)

    def forget(self) -> None:
        """The next scrape reads the state afresh."""
        with self._lock:
            self._taken = -SNAPSHOT_SECONDS

    def _read_state(self) -> Iterator[Metric]:
        up = GaugeMetricFamily(
            "civicdesk_dependency_up", "1 when the last read of this dependency worked", labels=["dependency"]
        )
        try:
            with Session(self.engine) as session:
                yield from self._database_families(session, utcnow())
            up.add_metric(["database"], 1)
        except Exception:  # a scrape must answer even when the database does not
            log.warning("metrics: could not read the database", exc_info=True)
            up.add_metric(["database"], 0)
        try:
            depth = queue_depth(self.celery, self.settings.task_queue)
            yield _gauge(
                "civicdesk_celery_queue_depth",
                "Messages waiting on the broker",
                {(self.settings.task_queue,): depth},
                ["queue"],
            )
            up.add_metric(["broker"], 1)
        except Exception:
            log.warning("metrics: could not read the broker queue", exc_info=True)
            up.add_metric(["broker"], 0)
        yield up

    def _database_families(self, session: Session, now: datetime) -> Iterator[Metric]:
        yield self._outbox(session)
        yield self._sla(session, now)
        yield self._tokens(session)
        beats = heartbeat.read_all(session, now=now)
        yield _gauge(
            "civicdesk_heartbeat_age_seconds",
            "Seconds since the component's last heartbeat (worker, beat, telephony)",
            {(name, beat.node): beat.age_seconds for name, beat in beats.items()},
            ["component", "node"],
        )
        if self.settings.ami_configured:
            yield _gauge(
                "civicdesk_ami_link_up",
                "1 when the telephony listener's link to Asterisk is up",
                {(): heartbeat.ami_link_up(beats, self.settings)},
                [],
            )
        yield self._task_histograms(session)

    def _outbox(self, session: Session) -> Metric:
        rows = session.exec(
            select(OutboundMessage.channel, OutboundMessage.state, func.count())
            .where(col(OutboundMessage.state).in_(BACKLOG_STATES))
            .group_by(col(OutboundMessage.channel), col(OutboundMessage.state))
        ).all()
        return _gauge(
            "civicdesk_outbox_messages",
            "Messages to citizens not yet sent (queued, sending) or given up on (failed)",
            {(channel, state): count for channel, state, count in rows},
            ["channel", "state"],
        )

    def _sla(self, session: Session, now: datetime) -> Metric:
        counts = urgency_counts(session, now=now)
        counts["open"] = sum(counts.values())
        return _gauge(
            "civicdesk_sla_tickets",
            "Open tickets by the state of their resolution deadline (open counts them all)",
            {(state,): counts[state] for state in SLA_STATES},
            ["state"],
        )

    def _tokens(self, session: Session) -> Metric:
        return _gauge(
            "civicdesk_channel_token_expiry_timestamp_seconds",
            "When the channel's stored access token expires (Unix time)",
            {
                (token.channel,): token.expires_at.timestamp()
                for token in session.exec(select(ChannelToken)).all()
            },
            ["channel"],
        )

    def _task_histograms(self, session: Session) -> Metric:
        family = HistogramMetricFamily(
            "civicdesk_celery_task_duration_seconds",
            "Celery tasks run by every worker, by task name and outcome (success, failure, retry)",
            labels=["task", "outcome"],
        )
        for histogram in task_figures.histograms(session):
            family.add_metric(
                [histogram.task, histogram.outcome], histogram.cumulative(), histogram.seconds_sum
            )
        return family


def _gauge(name: str, documentation: str, values: dict[tuple[str, ...], float], labels: list[str]) -> Metric:
    family = GaugeMetricFamily(name, documentation, labels=labels)
    for label_values, value in values.items():
        family.add_metric(list(label_values), value)
    return family


class ModelCollector(Collector):
    """This process's category model: how often a changed model file could not be read (the alert that
    the old model is still in use)."""

    def collect(self) -> Iterator[Metric]:
        from nlp import classifier

        yield CounterMetricFamily(
            "civicdesk_nlp_model_load_failures",
            "Changed category model files this process could not read (it kept the model it had)",
            value=classifier.model_load_failures(),
        )


def build_registry(
    engine: Engine, celery: Celery, settings: Settings
) -> tuple[CollectorRegistry, StateCollector]:
    """The registry one app serves: per-process metrics (or all web processes' when
    ``PROMETHEUS_MULTIPROC_DIR`` is set, for ``civicdesk web --workers N``) and the shared state."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(HTTP_LATENCY)
        ProcessCollector(registry=registry)
    registry.register(ModelCollector())
    state = StateCollector(engine, celery, settings)
    registry.register(state)
    return registry, state

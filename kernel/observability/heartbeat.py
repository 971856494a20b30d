"""Heartbeats of the processes the web cannot see: the Celery worker, beat and the telephony listener.

What each one proves, honestly:
- ``worker``: written from Celery's own worker heartbeat (every 2 s, kept at most every few seconds): the
  worker's main process runs and its consumer is connected to the broker. It does not prove a task can
  run (a pool could be stuck).
- ``beat``: written by the task ``civicdesk.heartbeat`` that beat schedules. Its freshness proves the
  whole path: beat is scheduling, the broker carries messages, and a worker on that queue runs tasks. A
  stale ``beat`` row with a fresh ``worker`` row means beat is down or the queue is backed up.
- ``telephony``: written by the AMI listener at login, at every answered Ping and when the link drops;
  ``state`` says whether the link to Asterisk is up.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kernel.observability.models import ServiceHeartbeat
from kernel.settings import Settings
from kernel.timeutil import utcnow

WORKER = "worker"
BEAT = "beat"
TELEPHONY = "telephony"
UP = "up"
DOWN = "down"


def node_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(engine: Engine, component: str, *, state: str = UP, at: datetime | None = None) -> None:
    """Record a sign of life in its own short transaction (the caller's work must not wait on it)."""
    values = {"component": component, "beat_at": at or utcnow(), "state": state, "node": node_name()}
    statement = insert(ServiceHeartbeat).values(**values)
    statement = statement.on_conflict_do_update(
        index_elements=["component"],
        set_={
            "beat_at": statement.excluded.beat_at,
            "state": statement.excluded.state,
            "node": statement.excluded.node,
        },
    )
    with engine.begin() as conn:
        conn.execute(statement)


@dataclass(frozen=True)
class Heartbeat:
    component: str
    age_seconds: float
    state: str
    node: str


def read_all(session: Session, *, now: datetime | None = None) -> dict[str, Heartbeat]:
    now = now or utcnow()
    return {
        row.component: Heartbeat(row.component, (now - row.beat_at).total_seconds(), row.state, row.node)
        for row in session.exec(select(ServiceHeartbeat)).all()
    }


def ami_link_up(beats: dict[str, Heartbeat], settings: Settings) -> int:
    telephony = beats.get(TELEPHONY)
    fresh_within = 3 * settings.ami_ping_seconds + 5
    return int(telephony is not None and telephony.state == UP and telephony.age_seconds < fresh_within)

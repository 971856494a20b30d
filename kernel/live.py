"""Live events for staff screens (screen pop, queue and board changes) across processes.

The telephony service, the Celery workers and the web processes are separate processes. A producer
writes a ``live_event`` row inside its own transaction; a trigger (migration 0015) queues a NOTIFY with
it, which PostgreSQL delivers only if that transaction commits, so a rolled-back change never shows.
Each web process holds one LISTEN connection (`Listener`) and fans events out to its server-sent-event
streams by topic. The table stays as the look-back: a browser reconnecting with Last-Event-ID, or the
listener coming back after its connection dropped, reads what it missed from it. Rows older than an
hour are purged by beat.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import JSON, Column, String, delete, func, or_
from sqlmodel import Field, Session, SQLModel, col, select

from kernel.timeutil import UTCDateTime, utcnow

KEEP_FOR = timedelta(hours=1)


class LiveEvent(SQLModel, table=True):
    __tablename__ = "live_event"

    id: int | None = Field(default=None, primary_key=True)
    # "agent:<user id>" for one agent's console, "queue" for wallboards, "tickets" for task lists
    topic: str = Field(sa_type=String(64), index=True)
    kind: str = Field(sa_type=String(32))
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)


def agent_topic(user_id: int) -> str:
    return f"agent:{user_id}"


def publish(session: Session, topic: str, kind: str, payload: dict[str, Any]) -> None:
    """Joins the caller's transaction: subscribers see the event once that transaction commits."""
    session.add(LiveEvent(topic=topic, kind=kind, payload=payload))


def latest_id(session: Session) -> int:
    return int(session.exec(select(func.coalesce(func.max(LiveEvent.id), 0))).one() or 0)


def read_since(
    session: Session,
    topics: Iterable[str] | None,
    after_id: int,
    limit: int = 100,
    *,
    also_since: datetime | None = None,
) -> list[LiveEvent]:
    """Events after ``after_id`` (of every topic when ``topics`` is None); with ``also_since``, also
    those created since then, because ids can commit out of order and a reader must look back to miss
    none."""
    newer = col(LiveEvent.id) > after_id
    if also_since is not None:
        newer = or_(newer, col(LiveEvent.created_at) >= also_since)
    query = select(LiveEvent).where(newer)
    if topics is not None:
        query = query.where(col(LiveEvent.topic).in_(list(topics)))
    return list(session.exec(query.order_by(col(LiveEvent.id)).limit(limit)))


def purge(session: Session, now: datetime | None = None) -> int:
    cutoff = (now or utcnow()) - KEEP_FOR
    result = session.exec(delete(LiveEvent).where(col(LiveEvent.created_at) < cutoff))
    return int(result.rowcount or 0)

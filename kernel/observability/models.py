"""Rows that let the web process see the other processes: their heartbeats and their task figures."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Column, Float, String
from sqlmodel import Field, SQLModel

from kernel.timeutil import UTCDateTime, utcnow


class ServiceHeartbeat(SQLModel, table=True):
    """The last sign of life of one component: worker, beat, telephony (with the AMI link's state)."""

    __tablename__ = "service_heartbeat"

    component: str = Field(primary_key=True, sa_type=String(32))
    beat_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    state: str = Field(default="up", sa_type=String(16))  # up or down (telephony: the AMI link)
    node: str = Field(default="", sa_type=String(200))  # host and process that wrote it


class TaskStat(SQLModel, table=True):
    """Celery task figures summed over every worker: one row per task, outcome and latency bucket.

    Workers run on other hosts (and, with the prefork pool, in child processes), so each finished task adds
    itself to its bucket's row here and the web's /metrics reads the totals: one scrape sees the whole fleet.
    """

    __tablename__ = "task_stat"

    task: str = Field(primary_key=True, sa_type=String(200))
    outcome: str = Field(primary_key=True, sa_type=String(16))  # success, failure, retry
    le: str = Field(primary_key=True, sa_type=String(16))  # the bucket's upper bound, as Prometheus writes it
    count: int = Field(default=0, sa_column=Column(BigInteger, nullable=False))
    seconds_sum: float = Field(default=0.0, sa_column=Column(Float, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

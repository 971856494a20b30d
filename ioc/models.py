"""Connectors, the time series they bring, alert rules and the episodes they open."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, String, Text
from sqlmodel import Field, SQLModel

from kernel.timeutil import UTCDateTime, utcnow


class Connector(SQLModel, table=True):
    """One per subsystem. kind: simulated (built-in source), http_json, http_csv, push, computed."""

    __tablename__ = "ioc_connector"

    code: str = Field(primary_key=True, sa_type=String(32))
    enabled: bool = True
    kind: str = Field(default="simulated", sa_type=String(16))
    url: str | None = Field(default=None, sa_type=String(500))
    push_key_hash: str | None = Field(default=None, sa_type=String(64))
    interval_seconds: int = 60
    # how the city's system wants to be asked (see sources.Auth); the secret is sealed (ioc.vault)
    auth_kind: str = Field(default="none", sa_type=String(16))
    auth_name: str | None = Field(default=None, sa_type=String(120))
    auth_secret_sealed: str | None = Field(default=None, sa_type=Text)
    # where our metrics are in the city's JSON: [{"metric", "value": JSONPath, "dimension"?: JSONPath}]
    mapping: list[dict[str, str]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    last_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_success_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    last_error: str | None = Field(default=None, sa_type=Text)
    last_error_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class MetricPoint(SQLModel, table=True):
    __tablename__ = "ioc_metric_point"
    __table_args__ = (Index("ix_ioc_point_series", "subsystem", "metric", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    subsystem: str = Field(sa_type=String(32))
    metric: str = Field(sa_type=String(48))
    dimension: str = Field(default="", sa_type=String(64))  # a ward code, a camera id, or "" for the city
    at: datetime = Field(sa_type=UTCDateTime)
    value: float


class AlertRule(SQLModel, table=True):
    __tablename__ = "ioc_alert_rule"

    id: int | None = Field(default=None, primary_key=True)
    subsystem: str = Field(sa_type=String(32))
    metric: str = Field(sa_type=String(48))
    op: str = Field(sa_type=String(2))  # ">" or "<"
    threshold: float
    for_minutes: int = 0  # the condition must hold this long before an episode opens
    dimension: str | None = Field(default=None, sa_type=String(64))  # one ward or station; None: any
    category_code: str = Field(foreign_key="category.code")
    text: str = Field(sa_type=String(200))
    active: bool = True


class AlertEpisode(SQLModel, table=True):
    __tablename__ = "ioc_alert_episode"
    __table_args__ = (Index("ix_ioc_episode_open", "rule_id", "dimension", "ended_at"),)

    id: int | None = Field(default=None, primary_key=True)
    rule_id: int = Field(foreign_key="ioc_alert_rule.id")
    dimension: str = Field(default="", sa_type=String(64))
    started_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    peak: float
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    details: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)

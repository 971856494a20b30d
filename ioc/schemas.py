"""What the IOC API answers: the wall's overview and a subsystem's detail, connectors, alert rules."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from kernel.schemas import FromRow


class HeadlineOut(BaseModel):
    """One of a subsystem card's figures."""

    label: str = Field(description="what it counts, in Vietnamese", examples=["Văn bản đến hôm nay"])
    unit: str = Field(description="its unit", examples=["văn bản"])
    value: float = Field(description="the latest value, across wards and stations", examples=[87])


class CardOut(BaseModel):
    """A subsystem's card on the wall."""

    code: str = Field(description="the subsystem's code", examples=["documents"])
    name: str = Field(description="its Vietnamese name")
    group: str = Field(description="the wall's group it sits in")
    headline: list[HeadlineOut] = Field(description="its first three figures")
    healthy: bool = Field(description="its connector pulled recently without error")
    lag_seconds: float | None = Field(description="seconds since the last successful pull")
    last_error: str | None = Field(description="the connector's last error")


class AlertOut(BaseModel):
    """A threshold alert that has not ended."""

    text: str = Field(description="the alert rule's text", examples=["PM2.5 vượt ngưỡng"])
    dimension: str | None = Field(description="the ward or station it concerns")
    since: str = Field(description="when it started, ISO 8601")
    peak: float = Field(description="the worst value seen")
    ticket_id: int | None = Field(description="the ticket it opened")


class OverviewOut(BaseModel):
    """What the wall's overview draws."""

    generated_at: str = Field(description="when, ISO 8601")
    subsystems: list[CardOut] = Field(description="one card per subsystem")
    alerts: list[AlertOut] = Field(description="the 20 newest alerts still open")


class PointOut(BaseModel):
    """A reading time's value."""

    at: str = Field(description="when, ISO 8601")
    value: float = Field(description="the value across wards and stations")


class DimensionValueOut(BaseModel):
    """The latest value in one ward or station."""

    dimension: str | None = Field(description="the ward or station")
    value: float = Field(description="the value")


class MetricOut(BaseModel):
    """One metric of a subsystem, with its history."""

    name: str = Field(description="the metric's code", examples=["pm25"])
    label: str = Field(description="what it measures, in Vietnamese")
    unit: str = Field(description="its unit", examples=["µg/m³"])
    range: list[float] | None = Field(default=None, description="the simulator's range of values")
    computed: bool | None = Field(default=None, description="computed from CivicDesk's own tickets")
    by_ward: bool | None = Field(default=None, description="measured per ward")
    cameras: int | None = Field(default=None, description="cameras per ward, for a camera metric")
    series: list[PointOut] = Field(description="its values over the asked span")
    by_dimension: list[DimensionValueOut] = Field(description="its latest value per ward or station")


class CameraOut(BaseModel):
    """A traffic or security camera."""

    id: str = Field(description="the camera's id", examples=["TRA-phan-rang-1"])
    ward: str = Field(description="the ward it watches")
    stream: str = Field(description="its stream URL")
    online: bool = Field(description="its latest status reading says it is up")


class ConnectorOut(FromRow):
    """Where a subsystem's figures come from; the credential is never shown, only whether one is stored."""

    code: str = Field(description="the subsystem's code", examples=["air"])
    enabled: bool = Field(description="pulled on schedule")
    kind: str = Field(description="simulated, http_json, http_csv, push or computed")
    url: str | None = Field(description="the source's URL (HTTP kinds)")
    interval_seconds: int = Field(description="seconds between pulls", examples=[60])
    auth_kind: str = Field(description="none, header, bearer, basic or query")
    auth_name: str | None = Field(description="the header, user or parameter name")
    mapping: list[dict[str, str]] = Field(description="where each metric sits in the source's answer")
    last_attempt_at: datetime | None = Field(description="the last pull (UTC)")
    last_success_at: datetime | None = Field(description="the last successful pull (UTC)")
    last_error: str | None = Field(description="the last pull's error")
    last_error_at: datetime | None = Field(description="when it failed (UTC)")
    has_secret: bool = Field(description="a credential is stored")


class ConfiguredOut(ConnectorOut):
    """A connector just configured; a push connector's new key is shown this once."""

    push_key: str | None = Field(default=None, description="the new push key, shown once")


class SubsystemOut(BaseModel):
    """One subsystem's dashboard."""

    code: str = Field(description="the subsystem's code", examples=["air"])
    name: str = Field(description="its Vietnamese name")
    name_en: str = Field(description="its English name")
    metrics: list[MetricOut] = Field(description="its metrics with their history")
    cameras: list[CameraOut] = Field(description="its cameras, if any")
    connector: ConnectorOut | None = Field(description="where its figures come from")


class ReadingOut(BaseModel):
    """A value a test pull found."""

    metric: str = Field(description="the metric's code")
    dimension: str | None = Field(description="the ward or station")
    value: float = Field(description="the value")


class SourceTestOut(BaseModel):
    """One pull without storing: the readings, or the error and the path at fault."""

    ok: bool = Field(description="the pull and the mapping worked")
    error: str | None = Field(default=None, description="what went wrong")
    path: str | None = Field(default=None, description="the mapping's path at fault")
    readings: list[ReadingOut] | None = Field(default=None, description="what the mapping found")


class AlertRuleOut(FromRow):
    """A threshold on a metric that opens a ticket when crossed."""

    id: int = Field(description="the rule's number")
    subsystem: str = Field(description="the subsystem's code", examples=["air"])
    metric: str = Field(description="the metric's code", examples=["pm25"])
    op: str = Field(description="> or <", examples=[">"])
    threshold: float = Field(description="the value that crosses", examples=[55.5])
    for_minutes: int = Field(description="how long it must hold before alerting")
    dimension: str | None = Field(description="only this ward or station")
    category_code: str = Field(description="the category of the ticket it opens")
    text: str = Field(description="the alert's text, in Vietnamese")
    active: bool = Field(description="in use")


class StoredOut(BaseModel):
    """How many readings a push stored."""

    stored: int = Field(description="readings stored", examples=[12])

"""An incident groups the citizens' reports of one event (a flooded district, a power cut) so the city
acts once and tells everyone once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlmodel import Field, SQLModel

from kernel.timeutil import UTCDateTime, utcnow


class IncidentStatus:
    OPEN = "open"
    RESOLVED = "resolved"


class Incident(SQLModel, table=True):
    __tablename__ = "incident"
    __table_args__ = (Index("ix_incident_open", "status", "category_code"),)

    id: int | None = Field(default=None, primary_key=True)
    category_code: str = Field(foreign_key="category.code")
    title: str = Field(sa_type=String(200))
    status: str = Field(default=IncidentStatus.OPEN, sa_type=String(16))
    source: str = Field(sa_type=String(16))  # surge, alert or supervisor
    latitude: float  # where the reports gather (their centre, or the ward's)
    longitude: float
    radius_m: int  # reports this close join it while it is open
    public_notice: str | None = Field(default=None, sa_type=Text)
    summary: str | None = Field(default=None, sa_type=Text)
    opened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    resolved_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    opened_by_user_id: int | None = Field(default=None, foreign_key="user.id")


class IncidentMember(SQLModel, table=True):
    __tablename__ = "incident_member"

    ticket_id: int = Field(primary_key=True, foreign_key="ticket.id")  # a ticket is in one incident at most
    incident_id: int = Field(foreign_key="incident.id", index=True)
    joined_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

"""Routing rules (ordered, editable by administrators) and the corrections people make to triage."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String, Text
from sqlmodel import Field, SQLModel

from kernel.timeutil import UTCDateTime, utcnow


class RoutingRule(SQLModel, table=True):
    """First match wins, by position. Empty conditions match anything. Keywords are folded and any one of
    them must appear in the report's normalised text."""

    __tablename__ = "routing_rule"

    id: int | None = Field(default=None, primary_key=True)
    position: int = Field(index=True)
    name: str = Field(sa_type=String(120))
    category_code: str | None = Field(default=None, foreign_key="category.code")
    ward_code: str | None = Field(default=None, foreign_key="ward.code")
    keywords: list[str] = Field(default_factory=list, sa_type=JSON)
    channel: str | None = Field(default=None, sa_type=String(16))
    department_code: str | None = Field(default=None, foreign_key="department.code")
    priority: str | None = Field(default=None, sa_type=String(16))
    ward_officer: bool = False  # the ward's officer handles it (the ticket is held at ward level)
    active: bool = True
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TriageCorrection(SQLModel, table=True):
    """A person changed what triage (or another person) decided: labelled data for the next training."""

    __tablename__ = "triage_correction"
    __table_args__ = (Index("ix_triage_correction_field", "field", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    field: str = Field(sa_type=String(24))  # category, ward or department
    old_value: str | None = Field(default=None, sa_type=String(48))
    new_value: str | None = Field(default=None, sa_type=String(48))
    text: str = Field(sa_type=Text)
    user_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

"""SLA tables: calendar exceptions, policy overrides, one clock per target and cycle, notifications."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, Index, String, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlmodel import Field, SQLModel

from kernel.timeutil import UTCDateTime, utcnow


class ExceptionKind(StrEnum):
    DAY_OFF = "day_off"  # an extra holiday or a swapped day off
    WORKING_DAY = "working_day"  # a make-up Saturday


class CalendarException(SQLModel, table=True):
    __tablename__ = "sla_calendar_exception"

    day: date = Field(primary_key=True, sa_type=Date)
    kind: str = Field(sa_type=String(16))
    note: str = Field(default="", sa_type=String(200))
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class TargetUnit(StrEnum):
    HOURS = "hours"
    DAYS = "days"


class SlaPolicy(SQLModel, table=True):
    """An administrator's override of the packaged defaults, for a priority or for one category."""

    __tablename__ = "sla_policy"
    __table_args__ = (UniqueConstraint("scope", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    scope: str = Field(sa_type=String(16))  # "priority" or "category"
    code: str = Field(sa_type=String(48))
    response_amount: float | None = None
    response_unit: str = Field(default=TargetUnit.HOURS, sa_type=String(8))
    resolution_amount: float | None = None
    resolution_unit: str = Field(default=TargetUnit.DAYS, sa_type=String(8))
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ClockKind(StrEnum):
    RESPONSE = "response"  # acknowledged by a person
    RESOLUTION = "resolution"


# sla.state.current_resolution_clock as SQL, the predicate of the partial index ix_sla_clock_current
CURRENT_CLOCK_SQL = (
    "kind = 'resolution' AND (state IN ('running', 'paused') OR (state = 'breached' AND met_at IS NULL))"
)

# the current clocks that are not paused and have a deadline: the ones sla.state can call breached
TIMED_CLOCK_SQL = (
    "kind = 'resolution' AND due_at IS NOT NULL"
    " AND (state = 'running' OR (state = 'breached' AND met_at IS NULL))"
)


class ClockState(StrEnum):
    RUNNING = "running"
    PAUSED = "paused"  # waiting for the citizen
    MET = "met"
    BREACHED = "breached"  # past due; met_at is still set when it is finally done
    CANCELLED = "cancelled"  # out of SLA after reclassification, or merged away


class SlaClock(SQLModel, table=True):
    __tablename__ = "sla_clock"
    __table_args__ = (
        UniqueConstraint("ticket_id", "kind", "cycle"),
        # the scans read only what is due: cost follows the number due, not the number open
        Index("ix_sla_clock_state_due", "state", "due_at"),
        Index("ix_sla_clock_warn_at", "warn_at"),
        # the current resolution clocks (sla.state.current_resolution_clock), with what urgency reads
        Index(
            "ix_sla_clock_current",
            "ticket_id",
            postgresql_include=["id", "state", "due_at", "warn_at", "warned", "breached_at"],
            postgresql_where=sql_text(CURRENT_CLOCK_SQL),
        ),
        # the staff list's first pages by urgency: the breached clocks, longest overdue first, read from
        # the top until a page of matching tickets is found (sla.boards.overdue_first; migration 0029)
        Index(
            "ix_sla_clock_timed_due",
            "due_at",
            postgresql_include=["ticket_id", "breached_at"],
            postgresql_where=sql_text(TIMED_CLOCK_SQL),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    kind: str = Field(sa_type=String(16))
    cycle: int = 1  # a reopen starts the next resolution cycle
    state: str = Field(default=ClockState.RUNNING, sa_type=String(16))
    target_minutes: float
    consumed_minutes: float = 0  # working minutes used before the current running segment
    started_at: datetime = Field(sa_type=UTCDateTime)
    segment_started_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    due_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    warn_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    warned: bool = False
    breached_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    met_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Notification(SQLModel, table=True):
    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user_unread", "user_id", "read_at"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user.id")
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    kind: str = Field(sa_type=String(32))
    text: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    read_at: datetime | None = Field(default=None, sa_type=UTCDateTime)

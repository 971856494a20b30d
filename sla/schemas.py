"""What the SLA API answers: the working calendar, the targets, compliance, each person's notifications."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel, Field

from kernel.schemas import FromRow


class CalendarExceptionOut(FromRow):
    """A day the administrators made a day off or a working day."""

    day: date = Field(description="the day", examples=["2026-09-01"])
    kind: str = Field(description="day_off or working_day", examples=["day_off"])
    note: str = Field(description="why", examples=["Nghỉ bù Quốc khánh"])
    created_at: datetime = Field(description="when it was set (UTC)")


class YearCalendarOut(BaseModel):
    """A year's working days at a glance."""

    office_hours: list[list[str]] = Field(
        description="the office's opening spans, local time",
        examples=[[["07:30", "11:30"], ["13:30", "17:00"]]],
    )
    exceptions: list[CalendarExceptionOut] = Field(description="the administrators' exceptions in the year")
    days_off_on_weekdays: list[str] = Field(description="holidays and days off that fall on working weekdays")
    working_days_on_weekends: list[str] = Field(description="make-up days that fall on weekends")
    working_days: int = Field(description="how many working days the year has", examples=[247])


class TargetOut(BaseModel):
    """A deadline in working hours or working days."""

    amount: float = Field(description="how many", examples=[2])
    unit: str = Field(description="hours or days", examples=["days"])


class TargetsOut(BaseModel):
    """The response and resolution targets of a priority."""

    response: TargetOut | None = Field(description="the first staff response is due within")
    resolution: TargetOut | None = Field(description="the resolution is due within")


class PolicyOut(FromRow):
    """An administrator's override of the targets for a priority or a category."""

    id: int = Field(description="the override's number")
    scope: str = Field(description="priority or category", examples=["category"])
    code: str = Field(description="the priority or category code", examples=["lighting"])
    response_amount: float | None = Field(description="the response target's amount")
    response_unit: str = Field(description="hours or days")
    resolution_amount: float | None = Field(description="the resolution target's amount")
    resolution_unit: str = Field(description="hours or days")
    updated_at: datetime = Field(description="when it last changed (UTC)")


class PoliciesOut(BaseModel):
    """The targets in force."""

    by_priority: dict[str, TargetsOut] = Field(description="the targets of each priority, overrides applied")
    overrides: list[PolicyOut] = Field(description="the administrators' overrides")


class DueOut(BaseModel):
    """When a ticket created at a moment would be due."""

    due_at: str | None = Field(description="the resolution deadline, ISO 8601; null when out of SLA")
    out_of_sla: bool = Field(description="the category follows no SLA")


class ComplianceOut(BaseModel):
    """Resolution clocks that ended in the span, for one group."""

    key: str | None = Field(description="the department, ward or category code", examples=["urban"])
    finished: int = Field(description="clocks that ended (met or breached)")
    on_time: int = Field(description="clocks met in time")
    breached: int = Field(description="clocks that breached")
    rate: float | None = Field(description="on time out of finished, 0-1", examples=[0.93])


class NotificationOut(FromRow):
    """A message to a staff member (an SLA warning or breach, a citizen's reply)."""

    id: int = Field(description="the notification's number")
    user_id: int = Field(description="whom it is for")
    ticket_id: int | None = Field(description="the ticket it is about")
    kind: str = Field(description="what happened", examples=["sla_breached"])
    text: str = Field(description="the message, in Vietnamese")
    created_at: datetime = Field(description="when (UTC)")
    read_at: datetime | None = Field(description="when it was read (UTC)")


class MarkedOut(BaseModel):
    """How many notifications were marked read."""

    marked: int = Field(description="notifications newly marked read", examples=[3])

"""/api/v1/sla: the working calendar's exceptions and the targets (admins), compliance (supervisors),
and each person's notifications."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from typing import Literal

from fastapi import APIRouter, Query
from pydantic import ConfigDict, Field

from kernel.text import CleanInput, RowId, SaneDate, SaneDateTime
from kernel.timeutil import utcnow
from sla import policies, service
from sla.models import TargetUnit
from sla.schemas import (
    CalendarExceptionOut,
    ComplianceOut,
    DueOut,
    MarkedOut,
    NotificationOut,
    PoliciesOut,
    PolicyOut,
    TargetOut,
    TargetsOut,
    YearCalendarOut,
)
from tickets import permissions
from tickets.models import Priority
from web.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/api/v1/sla", tags=["sla"])
notifications_router = APIRouter(prefix="/api/v1/notifications", tags=["sla"])


class ExceptionIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    day: date = Field(description="the day", examples=["2026-09-01"])
    kind: Literal["day_off", "working_day"] = Field(description="a day off or a make-up working day")
    note: str = Field(default="", max_length=200, description="why", examples=["Nghỉ bù Quốc khánh"])


@router.get("/calendar")
def calendar(session: SessionDep, user: CurrentUser, year: int = Query(ge=2000, le=2100)) -> YearCalendarOut:
    """The year's working days at a glance: holidays and make-up days from the package, and the
    administrators' exceptions."""
    return YearCalendarOut.model_validate(service.year_calendar(session, year), from_attributes=True)


@router.put("/calendar/exceptions")
def put_exception(body: ExceptionIn, session: SessionDep, user: CurrentUser) -> CalendarExceptionOut:
    """Make a day a day off or a working day; running deadlines that cross it move."""
    permissions.require_action(user, "manage_sla")
    return CalendarExceptionOut.model_validate(service.add_exception(session, body.day, body.kind, body.note))


@router.delete("/calendar/exceptions/{day}", status_code=204)
def delete_exception(day: SaneDate, session: SessionDep, user: CurrentUser) -> None:
    """Remove an exception; running deadlines that cross the day move back."""
    permissions.require_action(user, "manage_sla")
    service.remove_exception(session, day)


class TargetIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    amount: float = Field(gt=0, le=365, description="how many", examples=[2])
    unit: TargetUnit = Field(description="working hours or working days")


class PolicyIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    response: TargetIn | None = Field(
        default=None, description="the first response's target; none to drop it"
    )
    resolution: TargetIn | None = Field(default=None, description="the resolution's target; none to drop it")


def _target_out(target: policies.Target | None) -> TargetOut | None:
    return TargetOut(amount=target.amount, unit=target.unit.value) if target else None


@router.get("/policies")
def list_policies(session: SessionDep, user: CurrentUser) -> PoliciesOut:
    """The targets of each priority as they apply now, and the administrators' overrides."""
    by_priority = {
        p.value: TargetsOut(response=_target_out(t.response), resolution=_target_out(t.resolution))
        for p in Priority
        for t in [policies.targets_for(session, p.value, None)]
    }
    overrides = [PolicyOut.model_validate(o) for o in policies.overrides(session)]
    return PoliciesOut(by_priority=by_priority, overrides=overrides)


@router.put("/policies/{scope}/{code}")
def put_policy(
    scope: Literal["priority", "category"], code: str, body: PolicyIn, session: SessionDep, user: CurrentUser
) -> PolicyOut:
    """Override the targets of a priority or a category (administrators)."""
    permissions.require_action(user, "manage_sla")
    policy = policies.set_policy(
        session,
        scope,
        code,
        response=policies.Target(body.response.amount, body.response.unit) if body.response else None,
        resolution=policies.Target(body.resolution.amount, body.resolution.unit) if body.resolution else None,
    )
    return PolicyOut.model_validate(policy)


@router.get("/due")
def due(
    session: SessionDep,
    user: CurrentUser,
    start: SaneDateTime = Query(alias="from"),
    priority: Priority = Query(),
    category: str | None = Query(default=None, max_length=48),
) -> DueOut:
    """What `civicdesk sla due` prints, for the admin pages."""
    moment = service.due_for(session, start, priority.value, category)
    return DueOut(due_at=moment.isoformat() if moment else None, out_of_sla=moment is None)


@router.get("/compliance")
def compliance(
    session: SessionDep,
    user: CurrentUser,
    by: Literal["department", "ward", "category"] = "department",
    since: SaneDateTime | None = Query(default=None, alias="from"),
    until: SaneDateTime | None = Query(default=None, alias="to"),
) -> list[ComplianceOut]:
    """Resolution clocks that ended in the span (the last 30 days unless told), on time versus late,
    by department, ward or category."""
    permissions.require_action(user, "read_compliance")
    until = until or utcnow()
    since = since or until - timedelta(days=30)
    rows = service.compliance(session, by, since, until)
    return [ComplianceOut(**asdict(row), rate=row.rate) for row in rows]


class ReadIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    ids: list[RowId] = Field(max_length=500, description="the notifications to mark read", examples=[[1, 2]])


@notifications_router.get("")
def my_notifications(session: SessionDep, user: CurrentUser, unread: bool = True) -> list[NotificationOut]:
    """The signed-in person's notifications, unread ones only unless told."""
    rows = service.notifications_for(session, user, unread_only=unread)
    return [NotificationOut.model_validate(n) for n in rows]


@notifications_router.post("/read")
def read(body: ReadIn, session: SessionDep, user: CurrentUser) -> MarkedOut:
    """Mark some of the signed-in person's notifications read."""
    return MarkedOut(marked=service.mark_read(session, user, body.ids))

"""/api/v1/sla: the working calendar's exceptions and the targets (admins), compliance (supervisors),
and each person's notifications."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from typing import Any, Literal

from fastapi import APIRouter, Query
from pydantic import ConfigDict, Field
from sqlmodel import col, select

from civicdesk.errors import Forbidden
from civicdesk.i18n import _, label
from civicdesk.text import CleanInput, RowId, SaneDate, SaneDateTime
from civicdesk.timeutil import utcnow
from sla import policies, service
from sla.models import CalendarException, SlaPolicy, TargetUnit
from tickets.models import Priority
from tickets.staff import Role, User
from web.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/api/v1/sla", tags=["sla"])
notifications_router = APIRouter(prefix="/api/v1/notifications", tags=["sla"])


def _require(user: User, *roles: Role) -> None:
    if Role(user.role) not in roles:
        raise Forbidden(_("Chỉ {roles} được làm việc này.", roles=[label("r_", r.value) for r in roles]))


class ExceptionIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    day: date
    kind: Literal["day_off", "working_day"]
    note: str = Field(default="", max_length=200)


@router.get("/calendar")
def calendar(session: SessionDep, user: CurrentUser, year: int = Query(ge=2000, le=2100)) -> dict[str, Any]:
    """The year's working days at a glance: holidays and make-up days from the package, and the
    administrators' exceptions."""
    working = service.calendar_for(session)
    exceptions = session.exec(select(CalendarException).order_by(col(CalendarException.day))).all()
    first, last = date(year, 1, 1), date(year, 12, 31)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    return {
        "office_hours": [[a.isoformat("minutes"), b.isoformat("minutes")] for a, b in working.office_hours],
        "exceptions": [e.model_dump(mode="json") for e in exceptions if first <= e.day <= last],
        "days_off_on_weekdays": [
            d.isoformat() for d in days if d.weekday() in working.weekdays and not working.is_working_day(d)
        ],
        "working_days_on_weekends": [
            d.isoformat() for d in days if d.weekday() not in working.weekdays and working.is_working_day(d)
        ],
        "working_days": sum(1 for _ in working.working_days(first, last)),
    }


@router.put("/calendar/exceptions")
def put_exception(body: ExceptionIn, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    _require(user, Role.ADMIN)
    return service.add_exception(session, body.day, body.kind, body.note).model_dump(mode="json")


@router.delete("/calendar/exceptions/{day}", status_code=204)
def delete_exception(day: SaneDate, session: SessionDep, user: CurrentUser) -> None:
    _require(user, Role.ADMIN)
    service.remove_exception(session, day)


class TargetIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    amount: float = Field(gt=0, le=365)
    unit: TargetUnit


class PolicyIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    response: TargetIn | None = None
    resolution: TargetIn | None = None


def _target_out(target: policies.Target | None) -> dict[str, Any] | None:
    return {"amount": target.amount, "unit": target.unit.value} if target else None


@router.get("/policies")
def list_policies(session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    by_priority = {
        p.value: {
            "response": _target_out(t.response),
            "resolution": _target_out(t.resolution),
        }
        for p in Priority
        for t in [policies.targets_for(session, p.value, None)]
    }
    overrides = session.exec(select(SlaPolicy).order_by(SlaPolicy.scope, SlaPolicy.code)).all()
    return {"by_priority": by_priority, "overrides": [o.model_dump(mode="json") for o in overrides]}


@router.put("/policies/{scope}/{code}")
def put_policy(
    scope: Literal["priority", "category"], code: str, body: PolicyIn, session: SessionDep, user: CurrentUser
) -> dict[str, Any]:
    _require(user, Role.ADMIN)
    policy = policies.set_policy(
        session,
        scope,
        code,
        response=policies.Target(body.response.amount, body.response.unit) if body.response else None,
        resolution=policies.Target(body.resolution.amount, body.resolution.unit) if body.resolution else None,
    )
    return policy.model_dump(mode="json")


@router.get("/due")
def due(
    session: SessionDep,
    user: CurrentUser,
    start: SaneDateTime = Query(alias="from"),
    priority: Priority = Query(),
    category: str | None = Query(default=None, max_length=48),
) -> dict[str, Any]:
    """What `civicdesk sla due` prints, for the admin pages."""
    moment = service.due_for(session, start, priority.value, category)
    return {"due_at": moment.isoformat() if moment else None, "out_of_sla": moment is None}


@router.get("/compliance")
def compliance(
    session: SessionDep,
    user: CurrentUser,
    by: Literal["department", "ward", "category"] = "department",
    since: SaneDateTime | None = Query(default=None, alias="from"),
    until: SaneDateTime | None = Query(default=None, alias="to"),
) -> list[dict[str, Any]]:
    _require(user, Role.ADMIN, Role.SUPERVISOR)
    until = until or utcnow()
    since = since or until - timedelta(days=30)
    rows = service.compliance(session, by, since, until)
    return [{**asdict(row), "rate": row.rate} for row in rows]


class ReadIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    ids: list[RowId] = Field(max_length=500)


@notifications_router.get("")
def my_notifications(session: SessionDep, user: CurrentUser, unread: bool = True) -> list[dict[str, Any]]:
    return [n.model_dump(mode="json") for n in service.notifications_for(session, user, unread_only=unread)]


@notifications_router.post("/read")
def read(body: ReadIn, session: SessionDep, user: CurrentUser) -> dict[str, int]:
    return {"marked": service.mark_read(session, user, body.ids)}

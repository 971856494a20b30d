"""/api/v1/citizen-notifications: what telling citizens costs (ZNS and SMS per department, JSON or
CSV) and the fallback order administrators set."""

from __future__ import annotations

import csv
import io
from dataclasses import asdict
from datetime import timedelta

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from kernel.text import CleanInput, SaneDateTime
from kernel.timeutil import utcnow
from notifications import service
from tickets import permissions
from web.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/api/v1/citizen-notifications", tags=["notifications"])


class CostOut(BaseModel):
    """Paid messages sent for one department on one route."""

    department_code: str | None = Field(description="the department of the tickets told", examples=["urban"])
    route: str = Field(description="zns or sms", examples=["zns"])
    messages: int = Field(description="messages sent", examples=[120])
    cost_vnd: int = Field(description="what they cost, VND", examples=[36000])


class FallbackOrder(CleanInput):
    """The routes tried, in order, when a citizen cannot be told in the chat they wrote from."""

    model_config = ConfigDict(extra="forbid")

    order: list[str] = Field(
        max_length=3, description="the paid routes in order", examples=[["zns", "sms", "email"]]
    )


def _rows(session: SessionDep, since: SaneDateTime | None, until: SaneDateTime | None) -> list[CostOut]:
    until = until or utcnow()
    since = since or until - timedelta(days=30)
    return [CostOut(**asdict(row)) for row in service.costs(session, since=since, until=until)]


@router.get("/costs")
def costs(
    session: SessionDep,
    user: CurrentUser,
    since: SaneDateTime | None = Query(default=None, alias="from"),
    until: SaneDateTime | None = Query(default=None, alias="to"),
) -> list[CostOut]:
    """Paid messages (ZNS, SMS) sent per department; the last 30 days unless told."""
    permissions.require_action(user, "read_notification_costs")
    return _rows(session, since, until)


@router.get("/costs.csv", response_class=Response, response_model=None)
def costs_csv(
    session: SessionDep,
    user: CurrentUser,
    since: SaneDateTime | None = Query(default=None, alias="from"),
    until: SaneDateTime | None = Query(default=None, alias="to"),
) -> Response:
    """The same as /costs, as a CSV file for spreadsheets."""
    permissions.require_action(user, "read_notification_costs")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["department_code", "route", "messages", "cost_vnd"])
    for row in _rows(session, since, until):
        writer.writerow([row.department_code or "", row.route, row.messages, row.cost_vnd])
    return Response(
        "\ufeff" + out.getvalue(),  # a BOM, so spreadsheet programs read UTF-8
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="notification-costs.csv"'},
    )


@router.get("/fallback-order")
def get_fallback_order(session: SessionDep, user: CurrentUser) -> FallbackOrder:
    """The order the paid routes are tried in."""
    return FallbackOrder(order=[route.value for route in service.fallback_order(session)])


@router.put("/fallback-order")
def put_fallback_order(body: FallbackOrder, session: SessionDep, user: CurrentUser) -> FallbackOrder:
    """Set the order the paid routes are tried in (administrators)."""
    permissions.require_action(user, "set_fallback_order")
    return FallbackOrder(order=[route.value for route in service.set_fallback_order(session, body.order)])

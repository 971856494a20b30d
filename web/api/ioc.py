"""/api/v1/ioc: what the IOC dashboards draw, connector settings for administrators, pushes from sources."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import ConfigDict, Field
from sqlmodel import select

from civicdesk.errors import Forbidden, Invalid
from civicdesk.i18n import _
from civicdesk.settings import get_settings
from civicdesk.text import CleanInput, RowId
from ioc import admin, service
from ioc.models import Connector
from tickets.staff import Role
from web.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/api/v1/ioc", tags=["ioc"])
SOURCE_TEST_TIMEOUT = 10.0  # seconds; the same as a scheduled pull


def wall_access(request: Request) -> None:
    """The one access check of the dashboards: the wall's key (query or cookie) when one is configured."""
    key = get_settings().ioc_wall_key
    given = request.query_params.get("key") or request.cookies.get("ioc_key") or ""
    if key and not hmac.compare_digest(given, key):
        raise Forbidden("the IOC dashboards need the wall key (?key=…)")


WallAccess = Annotated[None, Depends(wall_access)]


@router.get("/overview")
def overview(session: SessionDep, _: WallAccess) -> dict[str, Any]:
    return service.overview(session)


@router.get("/subsystems/{code}")
def subsystem(code: str, session: SessionDep, _: WallAccess, hours: int = 24) -> dict[str, Any]:
    if not 1 <= hours <= 24 * 31:
        raise Invalid("hours must be between 1 and 744")
    return service.subsystem_detail(session, code, hours)


@router.post("/push/{code}")
async def push(
    code: str, request: Request, session: SessionDep, x_ioc_key: Annotated[str | None, Header()] = None
) -> dict[str, int]:
    try:
        payload = await request.json()
    except ValueError as exc:
        raise Invalid("the body is not JSON") from exc
    # the database is blocking work: not on the event loop
    stored = await run_in_threadpool(service.accept_push, session, code, x_ioc_key, payload)
    return {"stored": stored}


class ConnectorIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    kind: str = Field(pattern="^(simulated|http_json|http_csv|push|computed)$")
    url: str | None = Field(default=None, max_length=500, pattern="^https?://")
    interval_seconds: int = Field(default=60, ge=10, le=86400)
    auth_kind: str = Field(default="none", pattern="^(none|header|bearer|basic|query)$")
    auth_name: str | None = Field(default=None, max_length=120)
    auth_secret: str | None = Field(default=None, max_length=4000, description="write-only; omit to keep")
    mapping: list[dict[str, Any]] | None = Field(default=None, description="omit to keep the stored one")


def _admin(user: Any) -> None:
    if Role(user.role) != Role.ADMIN:
        raise Forbidden(_("Chỉ quản trị viên cấu hình được nguồn dữ liệu IOC và quy tắc cảnh báo."))


@router.get("/connectors")
def connectors(session: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    _admin(user)
    return [admin.describe(row) for row in session.exec(select(Connector).order_by(Connector.code)).all()]


@router.put("/connectors/{code}")
def configure(code: str, body: ConnectorIn, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """Enable, point, sign in and map a connector without code; a push connector gets a new key, shown
    once; the credential is stored sealed and never shown back."""
    _admin(user)
    row, push_key = admin.configure(session, code, admin.ConnectorConfig(**body.model_dump()))
    return {**admin.describe(row), **({"push_key": push_key} if push_key else {})}


@router.post("/connectors/{code}/test")
def test_connector(code: str, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """Pull once without storing: the parsed readings, or the error and the path at fault."""
    _admin(user)
    with httpx.Client(timeout=SOURCE_TEST_TIMEOUT) as http:
        return admin.try_source(session, code, http)


class RuleIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    subsystem: str = Field(min_length=1, max_length=32)
    metric: str = Field(min_length=1, max_length=48)
    op: str = Field(pattern="^[<>]$")
    threshold: float = Field(allow_inf_nan=False)
    category_code: str = Field(min_length=1, max_length=48)
    text: str = Field(min_length=1, max_length=200)
    for_minutes: int = Field(default=0, ge=0, le=7 * 24 * 60)
    dimension: str | None = Field(default=None, max_length=64)
    active: bool = True


@router.get("/alert-rules")
def alert_rules(session: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    _admin(user)
    return [rule.model_dump(mode="json") for rule in admin.rules(session)]


@router.post("/alert-rules", status_code=201)
def create_alert_rule(body: RuleIn, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    _admin(user)
    return admin.save_rule(session, admin.RuleDraft(**body.model_dump())).model_dump(mode="json")


@router.put("/alert-rules/{rule_id}")
def update_alert_rule(rule_id: RowId, body: RuleIn, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    _admin(user)
    return admin.save_rule(session, admin.RuleDraft(**body.model_dump()), rule_id).model_dump(mode="json")


@router.delete("/alert-rules/{rule_id}", status_code=204)
def delete_alert_rule(rule_id: RowId, session: SessionDep, user: CurrentUser) -> None:
    _admin(user)
    admin.delete_rule(session, rule_id)

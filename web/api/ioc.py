"""/api/v1/ioc: what the IOC dashboards draw, connector settings for administrators, pushes from sources."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Header, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import ConfigDict, Field

from ioc import admin, service
from ioc.schemas import (
    AlertRuleOut,
    ConfiguredOut,
    ConnectorOut,
    OverviewOut,
    SourceTestOut,
    StoredOut,
    SubsystemOut,
)
from kernel.errors import Forbidden, Invalid
from kernel.settings import get_settings
from kernel.text import CleanInput, RowId
from tickets import permissions
from web.deps import CurrentUser, SessionDep, end_transaction

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
def overview(session: SessionDep, _: WallAccess) -> OverviewOut:
    """The wall's overview: each subsystem's card and health, the open alerts."""
    return OverviewOut.model_validate(service.overview(session))


@router.get("/subsystems/{code}")
def subsystem(code: str, session: SessionDep, _: WallAccess, hours: int = 24) -> SubsystemOut:
    """One subsystem's dashboard: its metrics over the last hours (1-744), its cameras, its connector."""
    if not 1 <= hours <= 24 * 31:
        raise Invalid("hours must be between 1 and 744")
    return SubsystemOut.model_validate(service.subsystem_detail(session, code, hours))


@router.post("/push/{code}")
async def push(
    code: str, request: Request, session: SessionDep, x_ioc_key: Annotated[str | None, Header()] = None
) -> StoredOut:
    """A source pushes its readings (JSON), signed with the connector's key in X-IOC-Key."""
    try:
        payload = await request.json()
    except ValueError as exc:
        raise Invalid("the body is not JSON") from exc
    # the database is blocking work: not on the event loop
    stored = await run_in_threadpool(service.accept_push, session, code, x_ioc_key, payload)
    return StoredOut(stored=stored)


class ConnectorIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(default=True, description="pulled on schedule")
    kind: str = Field(
        pattern="^(simulated|http_json|http_csv|push|computed)$", description="where figures come from"
    )
    url: str | None = Field(
        default=None, max_length=500, pattern="^https?://", description="the source's URL"
    )
    interval_seconds: int = Field(default=60, ge=10, le=86400, description="seconds between pulls")
    auth_kind: str = Field(
        default="none",
        pattern="^(none|header|bearer|basic|query)$",
        description="how to sign in to the source",
    )
    auth_name: str | None = Field(
        default=None, max_length=120, description="the header, user or parameter name"
    )
    auth_secret: str | None = Field(default=None, max_length=4000, description="write-only; omit to keep")
    mapping: list[dict[str, Any]] | None = Field(default=None, description="omit to keep the stored one")


@router.get("/connectors")
def connectors(session: SessionDep, user: CurrentUser) -> list[ConnectorOut]:
    """Every subsystem's connector: kind, schedule, health; never the credential."""
    permissions.require_action(user, "manage_ioc")
    return [ConnectorOut.model_validate(admin.describe(row)) for row in admin.connectors(session)]


@router.put("/connectors/{code}")
def configure(code: str, body: ConnectorIn, session: SessionDep, user: CurrentUser) -> ConfiguredOut:
    """Enable, point, sign in and map a connector without code; a push connector gets a new key, shown
    once; the credential is stored sealed and never shown back."""
    permissions.require_action(user, "manage_ioc")
    row, push_key = admin.configure(session, code, admin.ConnectorConfig(**body.model_dump()))
    return ConfiguredOut.model_validate({**admin.describe(row), "push_key": push_key})


@router.post("/connectors/{code}/test")
def test_connector(code: str, session: SessionDep, user: CurrentUser) -> SourceTestOut:
    """Pull once without storing: the parsed readings, or the error and the path at fault."""
    permissions.require_action(user, "manage_ioc")
    row = admin.connector(session, code)
    end_transaction(session)  # the source may take its whole timeout to answer
    with httpx.Client(timeout=SOURCE_TEST_TIMEOUT) as http:
        return SourceTestOut.model_validate(admin.try_source(row, http))


class RuleIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    subsystem: str = Field(min_length=1, max_length=32, description="the subsystem's code", examples=["air"])
    metric: str = Field(min_length=1, max_length=48, description="the metric's code", examples=["pm25"])
    op: str = Field(pattern="^[<>]$", description="> or <", examples=[">"])
    threshold: float = Field(allow_inf_nan=False, description="the value that crosses", examples=[55.5])
    category_code: str = Field(min_length=1, max_length=48, description="the category of the ticket it opens")
    text: str = Field(min_length=1, max_length=200, description="the alert's text, in Vietnamese")
    for_minutes: int = Field(default=0, ge=0, le=7 * 24 * 60, description="how long it must hold first")
    dimension: str | None = Field(default=None, max_length=64, description="only this ward or station")
    active: bool = Field(default=True, description="in use")


@router.get("/alert-rules")
def alert_rules(session: SessionDep, user: CurrentUser) -> list[AlertRuleOut]:
    """Every alert rule, by subsystem."""
    permissions.require_action(user, "manage_ioc")
    return [AlertRuleOut.model_validate(rule) for rule in admin.rules(session)]


@router.post("/alert-rules", status_code=201)
def create_alert_rule(body: RuleIn, session: SessionDep, user: CurrentUser) -> AlertRuleOut:
    """Add an alert rule; the subsystem, metric and category must exist."""
    permissions.require_action(user, "manage_ioc")
    return AlertRuleOut.model_validate(admin.save_rule(session, admin.RuleDraft(**body.model_dump())))


@router.put("/alert-rules/{rule_id}")
def update_alert_rule(rule_id: RowId, body: RuleIn, session: SessionDep, user: CurrentUser) -> AlertRuleOut:
    """Change an alert rule as a whole."""
    permissions.require_action(user, "manage_ioc")
    return AlertRuleOut.model_validate(
        admin.save_rule(session, admin.RuleDraft(**body.model_dump()), rule_id)
    )


@router.delete("/alert-rules/{rule_id}", status_code=204)
def delete_alert_rule(rule_id: RowId, session: SessionDep, user: CurrentUser) -> None:
    """Remove an alert rule."""
    permissions.require_action(user, "manage_ioc")
    admin.delete_rule(session, rule_id)

"""/api/v1/ioc: what the IOC dashboards draw, connector settings for administrators, pushes from sources."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from pydantic import ConfigDict, Field

from civicdesk.errors import Forbidden, Invalid, NotFound
from civicdesk.i18n import _
from civicdesk.settings import get_settings
from civicdesk.text import CleanInput
from ioc import service
from ioc.models import Connector
from tickets.staff import Role
from web.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/api/v1/ioc", tags=["ioc"])


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
    return {"stored": service.accept_push(session, code, x_ioc_key, payload)}


class ConnectorIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    kind: str = Field(pattern="^(simulated|http_json|http_csv|push|computed)$")
    url: str | None = Field(default=None, max_length=500, pattern="^https?://")
    interval_seconds: int = Field(default=60, ge=10, le=86400)


@router.put("/connectors/{code}")
def configure(code: str, body: ConnectorIn, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """Enable, point and time a connector without code; a push connector gets a new key, shown once."""
    if Role(user.role) != Role.ADMIN:
        raise Forbidden(_("Chỉ quản trị viên cấu hình được nguồn dữ liệu IOC."))
    connector = session.get(Connector, code)
    if connector is None:
        raise NotFound(f"no subsystem '{code}'")
    if body.kind.startswith("http") and not body.url:
        raise Invalid("an HTTP connector needs a url", field="url")
    connector.enabled, connector.kind, connector.url = body.enabled, body.kind, body.url
    connector.interval_seconds = body.interval_seconds
    answer: dict[str, Any] = {}
    if body.kind == "push":
        key = secrets.token_urlsafe(24)
        connector.push_key_hash = hashlib.sha256(key.encode()).hexdigest()
        answer["push_key"] = key
    return {**connector.model_dump(mode="json", exclude={"push_key_hash"}), **answer}

"""/ioc: the overview for the video wall and one page per subsystem; data comes from /api/v1/ioc."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from incidents.service import open_incidents
from ioc import admin, service
from kernel.i18n import _
from tickets import public
from tickets.refcache import reference
from web.api.ioc import WallAccess
from web.deps import Session, SessionDep
from web.pages.common import render
from web.pages.public import ward_map

router = APIRouter(prefix="/ioc", include_in_schema=False)


def _remember_key(request: Request, response: HTMLResponse) -> HTMLResponse:
    key = request.query_params.get("key")
    if key:
        response.set_cookie("ioc_key", key, httponly=True, samesite="lax", max_age=30 * 86400)
    return response


def _ward_names(session: Session) -> dict[str, str]:
    """Ward codes name the figures' places; people read the ward's name."""
    return {code: ward.name_vi for code, ward in reference(session).wards.items()}


@router.get("", response_class=HTMLResponse)
def overview(request: Request, session: SessionDep, _: WallAccess) -> HTMLResponse:
    # the map needs places only: no text to mask for a thousand reports
    open_reports = public.public_points(session, public.PublicFilter(status="open"), limit=1000)
    incidents = open_incidents(session)
    page = render(
        request,
        "ioc/overview.html",
        subsystems=service.subsystems(),
        map=ward_map(session, open_reports, incidents),
        incidents=incidents,
        ward_names=_ward_names(session),
    )
    return _remember_key(request, page)


@router.get("/{code}", response_class=HTMLResponse)
def subsystem(code: str, request: Request, session: SessionDep, _: WallAccess) -> HTMLResponse:
    detail = service.subsystem_detail(session, code, 1)
    connector = admin.find_connector(session, code)
    page = render(
        request,
        "ioc/subsystem.html",
        detail=detail,
        connector_seen=connector.last_success_at if connector else None,  # in the city's time, not UTC
        connector_kind=CONNECTOR_KINDS.get(connector.kind, connector.kind) if connector else "",
        ward_names=_ward_names(session),
    )
    return _remember_key(request, page)


# what feeds a subsystem, in the wall's words (the codes stay in the admin API)
CONNECTOR_KINDS = {
    "simulated": _("dữ liệu mô phỏng"),
    "http_json": _("kết nối HTTP (JSON)"),
    "http_csv": _("kết nối HTTP (CSV)"),
    "push": _("nguồn tự gửi dữ liệu"),
    "computed": _("tính từ hệ thống phản ánh"),
}

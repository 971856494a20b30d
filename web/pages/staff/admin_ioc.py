"""/staff/admin/ioc: where each IOC connector pulls from, how it signs in and maps the city's JSON (with a
button that tries the source), and the alert rules. Changes go through /api/v1/ioc."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from ioc import admin, service
from ioc.sources import AUTH_KINDS
from web.deps import CredentialsDep, SessionDep
from web.i18n import language_of
from web.pages.staff.common import AdminUser, render_staff
from web.pages.staff.reference import reference_lists

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/admin/ioc", response_class=HTMLResponse)
def ioc_admin(
    request: Request, user: AdminUser, credentials: CredentialsDep, session: SessionDep
) -> HTMLResponse:
    connectors = [admin.describe(row) for row in admin.connectors(session)]
    for shown in connectors:
        shown["mapping_json"] = json.dumps(shown["mapping"], ensure_ascii=False) if shown["mapping"] else ""
    return render_staff(
        request,
        "staff/admin_ioc.html",
        user,
        credentials,
        connectors=connectors,
        kinds=admin.KINDS,
        auth_kinds=AUTH_KINDS,
        rules=admin.rules(session),
        metrics={code: [spec["name"] for spec in specs] for code, specs in service.metric_specs().items()},
        subsystem_names=_subsystem_names(language_of(request)),
        **reference_lists(session, language_of(request)),
    )


def _subsystem_names(language: str) -> dict[str, str]:
    """A subsystem's name in the page's language (its code stays the option's value)."""
    key = "name_vi" if language == "vi" else "name_en"
    return {row["code"]: row[key] for row in service.subsystems()}

"""The public JSON of reports: what the status page and the public list show, for apps and portals.

Same rules as the pages: no phone, e-mail, Zalo or Facebook id or name; tracking tokens are never listed.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Query, Request

from sla import service as sla_service
from tickets import public
from web.deps import SessionDep
from web.public_access import ticket_or_404

router = APIRouter(prefix="/api/v1/public", tags=["public"])


@router.get("/reports")
def list_reports(
    session: SessionDep,
    category: str | None = Query(default=None, max_length=48),
    ward: str | None = Query(default=None, max_length=48),
    status: str | None = Query(default=None, max_length=24),
    limit: int = Query(default=100, ge=1, le=500),
) -> list[dict[str, Any]]:
    filters = public.PublicFilter(category=category, ward=ward, status=status)
    return [_summary(report) for report in public.public_list(session, filters, limit=limit)]


@router.get("/reports/{token}")
def report_by_token(request: Request, token: str, session: SessionDep) -> dict[str, Any]:
    ticket = ticket_or_404(session, request, token)
    view = public.public_report(session, ticket)
    view.due_at = sla_service.deadline_of(session, ticket)
    report = asdict(view)
    report["photos"] = [{"id": photo_id, "purpose": purpose} for photo_id, purpose in report["photos"]]
    return report


def _summary(report: public.PublicReport) -> dict[str, Any]:
    fields = asdict(report)
    for detail_only in ("events", "photos", "can_rate", "can_reopen", "address", "due_at", "rating"):
        fields.pop(detail_only)
    return fields

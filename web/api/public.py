"""The public JSON of reports: what the status page and the public list show, for apps and portals.

Same rules as the pages: no phone, e-mail, Zalo or Facebook id or name; tracking tokens are never listed.
"""

from __future__ import annotations

import json
from dataclasses import asdict, field
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, TypeAdapter
from pydantic.dataclasses import dataclass as validated

from sla import service as sla_service
from tickets import public
from tickets.models import Ticket
from web import list_cache, status_cache
from web.deps import SessionDep

router = APIRouter(prefix="/api/v1/public", tags=["public"])
MAX_PINS = 500


class PinsOut(BaseModel):
    total: int  # the listed reports with a location under these filters, counted up to 10,000 (then 10,001)
    offset: int
    limit: int
    pins: list[public.PublicPin]  # each rounded to about 100 m (tickets.public.PIN_DECIMALS)


class PhotoOut(BaseModel):
    id: int
    purpose: str


@validated
class PublicReportOut(public.PublicReport):
    """What the status page shows, as JSON: never a phone, an e-mail, a channel id or a name. Its fields
    are tickets.public.PublicReport's (written there once); only a photo is an object here."""

    photos: list[PhotoOut] = field(default_factory=list)  # type: ignore[assignment]


REPORT_JSON = TypeAdapter(PublicReportOut)


@router.get("/reports", response_model=list[dict[str, Any]])
def list_reports(
    session: SessionDep,
    category: str | None = Query(default=None, max_length=48),
    ward: str | None = Query(default=None, max_length=48),
    status: str | None = Query(default=None, max_length=24),
    limit: int = Query(default=100, ge=1, le=500),
) -> Response:
    """The newest listed reports; served as encoded for every caller of the same query for a few seconds
    (``web.list_cache``: ``public_list_seconds``)."""
    filters = public.PublicFilter(category=category, ward=ward, status=status)

    def encoded() -> bytes:
        reports = [_summary(report) for report in public.public_list(session, filters, limit=limit)]
        return json.dumps(jsonable_encoder(reports), ensure_ascii=False, separators=(",", ":")).encode()

    query = urlencode({"category": category or "", "ward": ward or "", "status": status or "", "n": limit})
    body = list_cache.kept_list(session, "reports-json", [query], encoded)
    return Response(body, media_type="application/json")


@router.get("/pins", response_model=PinsOut)
def map_pins(
    session: SessionDep,
    category: str | None = Query(default=None, max_length=48),
    ward: str | None = Query(default=None, max_length=48),
    status: str | None = Query(default=None, max_length=24),
    limit: int = Query(default=200, ge=1, le=MAX_PINS),
    offset: int = Query(default=0, ge=0, le=100_000),
) -> PinsOut:
    """The /reports map's pins: the public list's reports that have a location, newest first, each as a
    rounded point with its code, category and status; the next page by `offset`."""
    filters = public.PublicFilter(category=category or None, ward=ward or None, status=status or None)
    total, pins = public.public_pins(session, filters, limit=limit, offset=offset)
    return PinsOut(
        total=total,
        offset=offset,
        limit=limit,
        pins=pins,
    )


@router.get("/reports/{token}", response_model=PublicReportOut)
def report_by_token(request: Request, token: str, session: SessionDep) -> Response:
    """The status page's data, rendered once per version of the ticket (``web.status_cache``), with
    ETag/Last-Modified and 304 when the caller's copy is current."""
    version = status_cache.version_or_404(session, request, token)
    headers = version.headers("json")
    if status_cache.not_modified(request, version, "json"):
        return Response(status_code=304, headers=headers)
    key = status_cache.PAGES.key(token, version, "json")
    body = status_cache.PAGES.get(key)
    if body is None:
        ticket = session.get(Ticket, version.ticket_id)
        assert ticket is not None
        view = public.public_report(session, ticket)
        view.due_at = sla_service.deadline_of(session, ticket)
        report = asdict(view)
        report["photos"] = [{"id": photo_id, "purpose": purpose} for photo_id, purpose in report["photos"]]
        body = REPORT_JSON.dump_json(REPORT_JSON.validate_python(report))
        status_cache.PAGES.put(key, body)
    return Response(body, media_type="application/json", headers=headers)


def _summary(report: public.PublicReport) -> dict[str, Any]:
    fields = asdict(report)
    for detail_only in ("events", "photos", "can_rate", "can_reopen", "address", "due_at", "rating"):
        fields.pop(detail_only)
    return fields

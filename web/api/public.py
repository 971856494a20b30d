"""The public JSON of reports: what the status page and the public list show, for apps and portals.

Same rules as the pages: no phone, e-mail, Zalo or Facebook id or name; tracking tokens are never listed.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, Field

from flows.status_page import StatusRead
from tickets import public
from web import list_cache, status_cache
from web.deps import SessionDep, database_of, request_session
from web.status_cache import PageKey

router = APIRouter(prefix="/api/v1/public", tags=["public"])
MAX_PINS = 500


class ReportHeading(BaseModel):
    """What names a report in public: its code, its status and its category; the map's pins and the
    public list's rows start with these fields, in this order."""

    code: str = Field(description="the report's public code", examples=["PR-2026-000123"])
    status: str = Field(description="the report's status", examples=["in_progress"])
    category_code: str | None = Field(description="the category's code", examples=["street_lighting"])
    category_vi: str | None = Field(
        description="the category's name in Vietnamese", examples=["Chiếu sáng công cộng"]
    )
    category_en: str | None = Field(
        description="the category's name in English", examples=["Street lighting"]
    )


class PinOut(ReportHeading):
    """One report on the public map: a rounded point, never an address or a person."""

    ward_name: str | None = Field(description="the ward's name", examples=["Phan Rang"])
    latitude: float = Field(description="WGS84, rounded to about 100 m", examples=[11.565])
    longitude: float = Field(description="WGS84, rounded to about 100 m", examples=[108.988])


class PinsOut(BaseModel):
    """One page of the public map's pins, newest first."""

    total: int = Field(
        description="the listed reports with a location under these filters, up to 10,000 (then 10,001)",
        examples=[312],
    )
    offset: int = Field(description="how many pins this page skips", examples=[0])
    limit: int = Field(description="the most pins this page holds", examples=[200])
    pins: list[PinOut] = Field(description="the pins, newest report first")


class PublicEventOut(BaseModel):
    """One step of a report's public timeline: a status change, a public note or a message."""

    kind: str = Field(
        description="what happened (status_changed, note, message, ...)", examples=["status_changed"]
    )
    at: datetime = Field(description="when (UTC)")
    status: str | None = Field(description="the new status, for a status change", examples=["resolved"])
    note: str | None = Field(description="the public note or message, personal data masked")
    rating: int | None = Field(description="the citizen's rating (1-5), for a rating", examples=[5])
    id: int | None = Field(description="the event's id, for a message the status page can point at")
    speaker: str = Field(
        description="who wrote the note: city or citizen (never which person)", examples=["city"]
    )
    merged_into: str | None = Field(description="the code of the report this one was merged into")
    photos: list[int] = Field(description="the ids of the photos sent with this message")


class PhotoOut(BaseModel):
    """A public photo of the report (GET /t/{token}/photos/{id} serves it)."""

    id: int = Field(description="the attachment's id", examples=[42])
    purpose: str = Field(description="evidence, before or after", examples=["after"])


class PublicSummaryOut(ReportHeading):
    """One report of the public list: what anyone may see, never a phone, an e-mail, a channel id, a
    name or the report's tracking token."""

    ward_code: str | None = Field(description="the ward's code")
    ward_name: str | None = Field(description="the ward's name", examples=["Phan Rang"])
    text: str = Field(description="the report's public wording (or title), personal data masked")
    latitude: float | None = Field(description="where, WGS84", examples=[11.5648])
    longitude: float | None = Field(description="where, WGS84", examples=[108.9886])
    created_at: datetime = Field(description="when the report arrived (UTC)")
    resolved_at: datetime | None = Field(description="when it was resolved (UTC), if it was")
    can_reply: bool = Field(description="whether the report is open to the citizen's answers")
    question: str | None = Field(description="what the city asked, while it waits for the citizen's answer")


class PublicReportOut(BaseModel):
    """What the status page shows, as JSON: never a phone, an e-mail, a channel id or a name."""

    code: str = Field(description="the report's public code", examples=["PR-2026-000123"])
    status: str = Field(description="the report's status", examples=["in_progress"])
    category_code: str | None = Field(description="the category's code", examples=["street_lighting"])
    category_vi: str | None = Field(description="the category's name in Vietnamese")
    category_en: str | None = Field(description="the category's name in English")
    ward_code: str | None = Field(description="the ward's code", examples=["phan-rang"])
    ward_name: str | None = Field(description="the ward's name", examples=["Phan Rang"])
    text: str = Field(description="the report's public wording, personal data masked")
    address: str | None = Field(description="where, in words, personal data masked")
    latitude: float | None = Field(description="where, WGS84", examples=[11.5648])
    longitude: float | None = Field(description="where, WGS84", examples=[108.9886])
    created_at: datetime = Field(description="when the report arrived (UTC)")
    resolved_at: datetime | None = Field(description="when it was resolved (UTC), if it was")
    due_at: datetime | None = Field(description="when the city promises an answer (UTC), while open")
    rating: int | None = Field(description="the citizen's rating (1-5), once rated", examples=[4])
    events: list[PublicEventOut] = Field(description="the public timeline, oldest first")
    photos: list[PhotoOut] = Field(description="the public photos not sent with a message")
    can_rate: bool = Field(description="whether the citizen may rate the answer now")
    can_reopen: bool = Field(description="whether the citizen may still reopen the report")
    can_reply: bool = Field(
        description="whether the citizen may answer or add information (the report is open)"
    )
    question: str | None = Field(description="what the city asked, while it waits for the citizen's answer")


@router.get("/reports", response_model=list[PublicSummaryOut])
async def list_reports(
    request: Request,
    category: str | None = Query(default=None, max_length=48),
    ward: str | None = Query(default=None, max_length=48),
    status: str | None = Query(default=None, max_length=24),
    limit: int = Query(default=100, ge=1, le=500),
) -> Response:
    """The newest listed reports; served as encoded for every caller of the same query for a few seconds
    (``web.list_cache``: ``public_list_seconds``)."""
    filters = public.PublicFilter(category=category, ward=ward, status=status)
    query = urlencode({"category": category or "", "ward": ward or "", "status": status or "", "n": limit})
    key = list_cache.list_key(database_of(request), "reports-json", [query])
    body = list_cache.fresh_here(key)
    if body is None:
        body = await run_in_threadpool(_kept_list, request, key, filters, limit)
    return Response(body, media_type="application/json")


def _kept_list(request: Request, key: str, filters: public.PublicFilter, limit: int) -> bytes:
    with request_session(request) as session:

        def encoded() -> bytes:
            reports = [_summary(report) for report in public.public_list(session, filters, limit=limit)]
            return json.dumps(jsonable_encoder(reports), ensure_ascii=False, separators=(",", ":")).encode()

        return list_cache.kept_list(key, encoded)


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
        pins=[PinOut.model_validate(pin, from_attributes=True) for pin in pins],
    )


@router.get(
    "/reports/{token}",
    response_model=PublicReportOut,
    responses={304: {"description": "the caller's copy (If-None-Match / If-Modified-Since) is current"}},
)
async def report_by_token(request: Request, token: str) -> Response:
    """The status page's data, rendered once per version of the ticket (``web.status_cache``), with
    ETag/Last-Modified and 304 when the caller's copy is current. The read, the 304 and this process's
    kept copy are done on the event loop; only a report this process does not hold takes a trip to the
    thread pool."""
    read = await status_cache.read_or_404(request, token)
    headers = status_cache.headers(read, "json")
    if status_cache.not_modified(request, read, "json"):
        return Response(status_code=304, headers=headers)
    key = status_cache.PAGES.key(token, read, "json")
    body = status_cache.PAGES.local(key) or await run_in_threadpool(_report_body, request, read, key)
    return Response(body, media_type="application/json", headers=headers)


def _report_body(request: Request, read: StatusRead, key: PageKey) -> bytes:
    """Another worker's copy from the shared cache, or the report rendered and kept."""
    body = status_cache.PAGES.get(key)
    if body is None:
        with request_session(request) as session:
            report = dict(vars(read.report(session)))  # shallow: dataclasses.asdict copied every event deeply
        report["photos"] = [{"id": photo_id, "purpose": purpose} for photo_id, purpose in report["photos"]]
        body = PublicReportOut.model_validate(report, from_attributes=True).model_dump_json().encode()
        status_cache.PAGES.put(key, body)
    return body


def _summary(report: public.PublicReport) -> dict[str, Any]:
    fields = asdict(report)
    for detail_only in ("events", "photos", "can_rate", "can_reopen", "address", "due_at", "rating"):
        fields.pop(detail_only)
    return fields

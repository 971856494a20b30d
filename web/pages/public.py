"""The citizens' pages: report form, status page by secret link, lookup, public list and map.

No sign-in. Nothing here shows a phone number, an e-mail, a Zalo or Facebook id or a person's name.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from sqlmodel import Session, col, select

from channels import web as web_channel
from civicdesk.errors import DomainError, Invalid, NotFound
from civicdesk.i18n import _, localize
from civicdesk.settings import get_settings
from civicdesk.text import CleanStr, RowId
from sla import service as sla_service
from tickets import public, service
from tickets.citizens import identities_of
from tickets.links import tracking_url
from tickets.models import IdentityKind, Status, Ticket
from tickets.privacy import last_digits
from tickets.reference import Category, Ward
from tickets.service import CITIZEN
from web.deps import SessionDep, StoreDep
from web.geo import SvgMap, centre_of, voronoi_cells
from web.i18n import language_of, translator
from web.pages.common import render
from web.public_access import AttemptLimit, count_attempt, ticket_or_404

router = APIRouter(include_in_schema=False)

MAX_PHOTOS = 5
REPORTS = AttemptLimit("report", 5, 600, _("Quá nhiều phản ánh từ địa chỉ này; hãy thử lại sau ít phút."))
LOOKUPS = AttemptLimit("lookup", 10, 600, _("Tra cứu quá nhiều lần; hãy thử lại sau ít phút."))


def _categories(session: Session) -> list[Category]:
    public_first = select(Category).where(col(Category.public)).order_by(Category.name_vi)
    return list(session.exec(public_first).all())


def _current_wards(session: Session) -> list[Ward]:
    return list(session.exec(select(Ward).where(Ward.valid_to == None).order_by(Ward.name_vi)).all())  # noqa: E711


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return render(request, "public/home.html")


@router.get("/report", response_class=HTMLResponse)
def report_form(request: Request) -> HTMLResponse:
    return render(request, "public/report.html", errors=[], form={"submission_id": uuid.uuid4().hex})


@router.post("/report", response_model=None)
async def submit_report(
    request: Request,
    session: SessionDep,
    text: Annotated[CleanStr, Form(max_length=5000)] = "",
    address: Annotated[CleanStr, Form(max_length=500)] = "",
    latitude: Annotated[CleanStr, Form(max_length=20)] = "",
    longitude: Annotated[CleanStr, Form(max_length=20)] = "",
    phone: Annotated[CleanStr, Form(max_length=30)] = "",
    email: Annotated[CleanStr, Form(max_length=200)] = "",
    website: Annotated[CleanStr, Form(max_length=200)] = "",  # the honeypot: people never see it
    submission_id: Annotated[CleanStr, Form(pattern=r"^[0-9a-f]{32}$")] = "",
    photos: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    form = {
        "text": text,
        "address": address,
        "latitude": latitude,
        "longitude": longitude,
        "phone": phone,
        "email": email,
        "submission_id": submission_id or uuid.uuid4().hex,  # a form sent twice makes one report
    }
    if website:
        return render(request, "public/honeypot.html")
    count_attempt(session, request, REPORTS)
    try:
        uploads = await _read_uploads([p for p in photos or [] if p.filename])
        ticket = await run_in_threadpool(_file_report, session, form, uploads)
    except DomainError as problem:
        session.rollback()
        return render(
            request, "public/report.html", status_code=422, errors=[_explain(request, problem)], form=form
        )
    return RedirectResponse(f"/t/{ticket.tracking_token}?new=1", status_code=303)


def _explain(request: Request, problem: DomainError) -> str:
    """The message in the page's language, after the field's name when the catalogue has one."""
    language = language_of(request)
    message = localize(problem.message, language)
    label = translator(language)(f"field_{problem.detail.get('field')}")
    return message if label.startswith("field_") else f"{label}: {message}"


def _file_report(session: Session, form: dict[str, str], uploads: list[tuple[str | None, bytes]]) -> Ticket:
    report = web_channel.WebReport(
        submission_id=form["submission_id"],
        text=form["text"],
        address=form["address"] or None,
        latitude=_coordinate(form["latitude"], "latitude"),
        longitude=_coordinate(form["longitude"], "longitude"),
        phone=form["phone"] or None,
        email=form["email"] or None,
        photos=uploads,
    )
    return web_channel.file_report(session, report)


def _coordinate(value: str, name: str) -> float | None:
    if not value.strip():
        return None
    try:
        return float(value.replace(",", "."))
    except ValueError as exc:
        raise Invalid(_("Hãy nhập một số, ví dụ 11.5648."), field=name) from exc


async def _read_uploads(uploads: list[UploadFile]) -> list[tuple[str | None, bytes]]:
    if len(uploads) > MAX_PHOTOS:
        raise Invalid(_("Gửi tối đa {limit} ảnh.", limit=MAX_PHOTOS), field="photos")
    limit = get_settings().attachment_max_bytes
    read = []
    for upload in uploads:
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise Invalid(
                _("Ảnh {name} lớn hơn {limit} MB.", name=upload.filename, limit=limit // (1024 * 1024)),
                field="photos",
            )
        read.append((upload.filename, data))
    return read


@router.get("/t/{token}", response_class=HTMLResponse)
def status_page(request: Request, token: str, session: SessionDep) -> HTMLResponse:
    ticket = ticket_or_404(session, request, token)
    report = public.public_report(session, ticket)
    report.due_at = sla_service.deadline_of(session, ticket)
    return render(
        request,
        "public/status.html",
        report=report,
        token=token,
        is_new=request.query_params.get("new") == "1",
        tracking_url=tracking_url(token),
        reopen_until=public.reopen_deadline(ticket),
        message=request.query_params.get("m"),
    )


@router.get("/t/{token}/photos/{attachment_id}", response_class=StreamingResponse)
def status_photo(
    request: Request, token: str, attachment_id: RowId, session: SessionDep, store: StoreDep
) -> StreamingResponse:
    ticket = ticket_or_404(session, request, token)
    attachment = public.public_photo(session, ticket, attachment_id)
    if attachment is None:
        raise NotFound(_("Không tìm thấy ảnh."))
    return StreamingResponse(
        store.open(attachment.storage_key),
        media_type=attachment.mime_type,
        headers={"Cache-Control": "private, max-age=3600"},
    )


@router.post("/t/{token}/rate")
def rate(
    request: Request,
    token: str,
    session: SessionDep,
    rating: Annotated[int, Form(ge=1, le=5)],
    comment: Annotated[CleanStr, Form(max_length=1000)] = "",
) -> RedirectResponse:
    ticket = ticket_or_404(session, request, token)
    if ticket.rating is not None:
        return RedirectResponse(f"/t/{token}?m=rated", status_code=303)
    service.rate(session, ticket.id or 0, rating=rating, comment=comment.strip() or None)
    return RedirectResponse(f"/t/{token}?m=rated", status_code=303)


@router.post("/t/{token}/reopen")
def reopen(
    request: Request,
    token: str,
    session: SessionDep,
    reason: Annotated[CleanStr, Form(min_length=3, max_length=2000)],
) -> RedirectResponse:
    ticket = ticket_or_404(session, request, token)
    service.transition(session, ticket.id or 0, Status.REOPENED, actor=CITIZEN, reason=reason.strip())
    return RedirectResponse(f"/t/{token}?m=reopened", status_code=303)


@router.get("/lookup", response_class=HTMLResponse)
def lookup_form(request: Request) -> HTMLResponse:
    return render(request, "public/lookup.html", failed=False)


@router.post("/lookup", response_model=None)
def lookup(
    request: Request,
    session: SessionDep,
    code: Annotated[CleanStr, Form(max_length=32)],
    phone_last4: Annotated[CleanStr, Form(pattern=r"^\d{4}$")],
) -> Response:
    count_attempt(session, request, LOOKUPS)
    ticket = session.exec(select(Ticket).where(Ticket.code == code.strip().upper())).first()
    if ticket and ticket.citizen_id and _phone_ends_with(session, ticket.citizen_id, phone_last4):
        return RedirectResponse(f"/t/{ticket.tracking_token}", status_code=303)
    return render(request, "public/lookup.html", status_code=404, failed=True)


def _phone_ends_with(session: Session, citizen_id: int, digits: str) -> bool:
    return any(
        identity.kind == IdentityKind.PHONE and last_digits(identity.value) == digits
        for identity in identities_of(session, citizen_id)
    )


@router.get("/reports", response_class=HTMLResponse)
def public_reports(
    request: Request,
    session: SessionDep,
    category: str | None = None,
    ward: str | None = None,
    status: str | None = None,
) -> HTMLResponse:
    filters = public.PublicFilter(category=category or None, ward=ward or None, status=status or None)
    reports = public.public_list(session, filters, limit=200)
    return render(
        request,
        "public/reports.html",
        reports=reports,
        filters=filters,
        categories=_categories(session),
        wards=_current_wards(session),
        map=ward_map(session, reports),
    )


def ward_map(session: Session, reports: list[public.PublicReport]) -> dict[str, object]:
    """Old units shaded by the ward that took them over, with the number of reports per current ward."""
    svg = SvgMap()
    wards = {w.code: w for w in session.exec(select(Ward)).all()}

    def current(code: str) -> str:
        while wards[code].successor_code:
            code = wards[code].successor_code or code
        return code

    counts: dict[str, int] = {}
    for report in reports:
        if report.ward_code in wards:
            key = current(report.ward_code)
            counts[key] = counts.get(key, 0) + 1
    groups: dict[str, list[str]] = {}
    for old in voronoi_cells():
        groups.setdefault(current(old), []).append(old)
    cells = [
        {"path": svg.path(cell), "ward": current(code), "old": wards[code].name_vi}
        for code, cell in voronoi_cells().items()
    ]
    labels = []
    for code, olds in groups.items():
        x, y = svg.xy(*centre_of(olds))
        labels.append(
            {"x": x, "y": y, "name": wards[code].name_vi, "count": counts.get(code, 0), "code": code}
        )
    dots = [
        svg.xy(r.latitude, r.longitude) for r in reports if r.latitude is not None and r.longitude is not None
    ]
    return {
        "width": svg.width,
        "height": svg.height,
        "cells": cells,
        "labels": labels,
        "dots": dots,
        "palette": sorted(groups),
    }

"""The citizens' pages: report form, status page by secret link, lookup, public list and map.

No sign-in. Nothing here shows a phone number, an e-mail, a Zalo or Facebook id or a person's name.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from functools import partial
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from channels import web as web_channel
from flows.status_page import StatusRead
from geo import boundaries
from geo.centres import centre_of
from geo.locate import locate_pin
from incidents.models import Incident
from kernel.errors import Conflict, DomainError, Invalid, NotFound
from kernel.i18n import _, localize
from kernel.settings import get_settings
from kernel.text import CleanStr, RowId
from kernel.timeutil import local_date
from tickets import confirmation, conversation, public, service
from tickets.links import tracking_url
from tickets.models import Status, Ticket
from tickets.refcache import reference
from tickets.reference import Category, Ward
from tickets.service import CITIZEN
from web import list_cache, status_cache
from web.deps import Session, SessionDep, StoreDep, database_of, request_session
from web.geo import SvgMap, voronoi_cells
from web.i18n import language_of, translator
from web.pages.common import keep_language, render
from web.public_access import AttemptLimit, count_attempt, ticket_or_404
from web.status_cache import PageKey

router = APIRouter(include_in_schema=False)

MAX_PHOTOS = 5
METRES_PER_DEGREE_LON = 109_000  # at the city's latitude (11.6° N)
PUBLIC_PAGE = 20  # a phone shows a page without endless scrolling
MAP_REPORTS = 200
REPORTS = AttemptLimit("report", 5, 600, _("Quá nhiều phản ánh từ địa chỉ này; hãy thử lại sau ít phút."))
REPLIES = AttemptLimit("reply", 10, 600, _("Quá nhiều tin nhắn từ địa chỉ này; hãy thử lại sau ít phút."))
LOOKUPS = AttemptLimit("lookup", 10, 600, _("Tra cứu quá nhiều lần; hãy thử lại sau ít phút."))


def _categories(session: Session) -> list[Category]:
    return [c for c in reference(session).categories.values() if c.public]  # in order of name


def _current_wards(session: Session) -> list[Ward]:
    return [w for w in reference(session).wards.values() if w.valid_to is None]  # in order of name


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
        "language": language_of(request),
    }
    if website:
        return render(request, "public/honeypot.html")
    await run_in_threadpool(count_attempt, session, request, REPORTS)  # the database: not on the event loop
    try:
        uploads = await _read_uploads([p for p in photos or [] if p.filename])
        ticket = await run_in_threadpool(_file_report, session, form, uploads)
    except DomainError as problem:
        await run_in_threadpool(session.rollback)
        return render(
            request, "public/report.html", status_code=422, errors=[_explain(request, problem)], form=form
        )
    return RedirectResponse(f"/t/{ticket.tracking_token}?new=1", status_code=303)


def _explain(request: Request, problem: DomainError) -> str:
    """The message in the page's language (the catalogue's words for its reason when it has them), after
    the field's name when the catalogue has one."""
    language = language_of(request)
    t = translator(language)
    reason = f"err_{problem.detail.get('reason')}"
    message = t(reason) if t(reason) != reason else localize(problem.message, language)
    label = t(f"field_{problem.detail.get('field')}")
    return message if label.startswith("field_") else f"{label}: {message}"


def _file_report(session: Session, form: dict[str, str], uploads: list[tuple[str | None, bytes]]) -> Ticket:
    latitude, longitude = (
        _coordinate(form["latitude"], "latitude"),
        _coordinate(form["longitude"], "longitude"),
    )
    if latitude is not None and longitude is not None:
        pin = locate_pin(session, latitude, longitude, local_date())
        if pin.message:  # a pin outside the city: the citizen moves it or types the address instead
            raise Invalid(pin.message)
    report = web_channel.WebReport(
        submission_id=form["submission_id"],
        text=form["text"],
        address=form["address"] or None,
        latitude=latitude,
        longitude=longitude,
        phone=form["phone"] or None,
        email=form["email"] or None,
        photos=uploads,
        language=form.get("language"),
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
        raise Invalid(
            _("Gửi tối đa {limit} ảnh.", limit=MAX_PHOTOS), field="photos", reason="too_many_photos"
        )
    limit = get_settings().attachment_max_bytes
    read = []
    for upload in uploads:
        data = await upload.read(limit + 1)
        if len(data) > limit:
            raise Invalid(
                _("Ảnh {name} lớn hơn {limit} MB.", name=upload.filename, limit=limit // (1024 * 1024)),
                field="photos",
                reason="photo_too_large",
            )
        read.append((upload.filename, data))
    return read


@router.get("/t/{token}", response_class=HTMLResponse)
async def status_page(request: Request, token: str) -> Response:
    """Rendered once per version of the ticket and language (``web.status_cache``), answered with 304
    when the browser's copy is current. The read, the 304 and this process's kept copy are done on the
    event loop; only a page this process does not hold takes a trip to the thread pool."""
    read = await status_cache.read_or_404(request, token)
    kind = f"html-{language_of(request)}"
    headers = status_cache.headers(read, kind)
    if status_cache.not_modified(request, read, kind):
        return Response(status_code=304, headers=headers)
    # the plain link (or its language switch) is kept; ?new=1 and ?m=… notices are rendered each time
    plain = set(request.query_params) <= {"lang"}
    key = status_cache.PAGES.key(token, read, kind)
    kept = status_cache.PAGES.local(key) if plain else None
    if kept is not None:
        return _kept_page(request, kept, headers)
    return await run_in_threadpool(_status_answer, request, read, token, key if plain else None, headers)


def _status_answer(
    request: Request, read: StatusRead, token: str, key: PageKey | None, headers: dict[str, str]
) -> Response:
    """Another worker's copy from the shared cache, or the page rendered and kept (``key``: the plain
    link's, None for a page with a notice, rendered each time)."""
    kept = status_cache.PAGES.get(key) if key else None
    if kept is not None:
        return _kept_page(request, kept, headers)
    with request_session(request) as session:
        page = _status_page(request, session, read, token, submission_id=FORM_ID if key else None)
    if key:
        status_cache.PAGES.put(key, bytes(page.body))
        page.body = bytes(page.body).replace(FORM_ID, uuid.uuid4().hex.encode())  # the same length
    page.headers.update(headers)
    return page


def _kept_page(request: Request, kept: bytes, headers: dict[str, str]) -> HTMLResponse:
    page = HTMLResponse(kept.replace(FORM_ID, uuid.uuid4().hex.encode()), headers=headers)
    keep_language(request, page)
    return page


# stands for the reply form's id in a kept page; each answer puts a fresh one in its place
FORM_ID = uuid.uuid4().hex.encode()


def _status_page(
    request: Request,
    session: Session,
    read: StatusRead,
    token: str,
    *,
    status_code: int = 200,
    reply_errors: list[str] | None = None,
    reply_text: str = "",
    submission_id: bytes | None = None,
) -> HTMLResponse:
    form_id = submission_id.decode() if submission_id else uuid.uuid4().hex
    return render(
        request,
        "public/status.html",
        status_code=status_code,
        report=read.report(session),
        token=token,
        is_new=request.query_params.get("new") == "1",
        tracking_url=tracking_url(token),
        reopen_until=public.reopen_deadline(read.ticket),
        message=request.query_params.get("m"),
        reply={"errors": reply_errors or [], "text": reply_text, "submission_id": form_id},
    )


@router.post("/t/{token}/reply", response_model=None)
async def reply(
    request: Request,
    token: str,
    session: SessionDep,
    text: Annotated[CleanStr, Form(max_length=5000)] = "",
    website: Annotated[CleanStr, Form(max_length=200)] = "",  # the honeypot, as on the report form
    submission_id: Annotated[CleanStr, Form(pattern=r"^[0-9a-f]{32}$")] = "",
    photos: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    """The citizen answers the city's question, or adds information while the report is open."""
    if website:
        return render(request, "public/honeypot.html")
    await run_in_threadpool(count_attempt, session, request, REPLIES)  # the database: not on the event loop
    t = translator(language_of(request))
    try:
        ticket = await run_in_threadpool(ticket_or_404, session, request, token)
    except NotFound:
        return _reply_refused(request, 404, t("not_found"), text)
    try:
        uploads = await _read_uploads([p for p in photos or [] if p.filename])
        await run_in_threadpool(
            conversation.citizen_reply,
            session,
            ticket,
            text=text,
            photos=uploads,
            submission_id=submission_id or None,
        )
    except Conflict:
        await run_in_threadpool(session.rollback)
        return _reply_refused(request, 409, t("reply_closed"), text)
    except Invalid as problem:
        await run_in_threadpool(session.rollback)
        read = await status_cache.read_or_404(request, token)
        return await run_in_threadpool(
            partial(_refused_reply_page, request, session, read, token, [_explain(request, problem)], text)
        )
    return RedirectResponse(f"/t/{token}?m=replied#conversation", status_code=303)


def _refused_reply_page(
    request: Request, session: Session, read: StatusRead, token: str, errors: list[str], text: str
) -> HTMLResponse:
    """The status page again, with what was wrong with the reply and the typed words kept."""
    return _status_page(request, session, read, token, status_code=422, reply_errors=errors, reply_text=text)


def _reply_refused(request: Request, status_code: int, message: str, text: str) -> HTMLResponse:
    """The reply cannot be taken here: say why, and give the typed words back to copy elsewhere."""
    t = translator(language_of(request))
    return render(
        request,
        "public/error.html",
        status_code=status_code,
        title=t("problem_title"),
        message=message,
        kept_text=text,
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


@router.get("/confirm/{token}", response_class=HTMLResponse)
def confirm_page(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    """What a confirmation link opens: a button, so a mail scanner that fetches links confirms nothing."""
    try:
        pending = confirmation.pending(session, token)
    except NotFound as exc:
        return render(request, "public/confirm.html", status_code=404, gone=exc.message)
    return render(request, "public/confirm.html", pending=pending, token=token)


@router.post("/confirm/{token}", response_class=HTMLResponse)
def confirm(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    try:
        done = confirmation.confirm(session, token)
    except NotFound as exc:
        return render(request, "public/confirm.html", status_code=404, gone=exc.message)
    return render(request, "public/confirm.html", done=done)


@router.post("/lookup", response_model=None)
def lookup(
    request: Request,
    session: SessionDep,
    code: Annotated[CleanStr, Form(max_length=32)],
    phone_last4: Annotated[CleanStr, Form(pattern=r"^\d{4}$")],
) -> Response:
    count_attempt(session, request, LOOKUPS)
    tracking_token = public.lookup_token(session, code, phone_last4)
    if tracking_token:
        return RedirectResponse(f"/t/{tracking_token}", status_code=303)
    return render(request, "public/lookup.html", status_code=404, failed=True)


@router.get("/reports", response_class=HTMLResponse)
async def public_reports(
    request: Request,
    category: str | None = None,
    ward: str | None = None,
    status: str | None = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    """Served as rendered for every visitor of the same query and language for a few seconds
    (``web.list_cache``): the count, the page and the map cost far more than a visitor waits."""
    filters = public.PublicFilter(category=category or None, ward=ward or None, status=status or None)
    language = language_of(request)
    query = sorted((k, v) for k, v in request.query_params.multi_items() if k != "lang")
    key = list_cache.list_key(database_of(request), "reports-html", [language, urlencode(query)])
    body = list_cache.fresh_here(key)
    if body is None:
        body = await run_in_threadpool(_kept_reports_page, request, key, filters, page)
    answer = HTMLResponse(body)
    keep_language(request, answer)
    return answer


def _kept_reports_page(request: Request, key: str, filters: public.PublicFilter, page: int) -> bytes:
    with request_session(request) as session:
        return list_cache.kept_list(key, lambda: bytes(_reports_page(request, session, filters, page).body))


def _reports_page(
    request: Request, session: Session, filters: public.PublicFilter, page: int
) -> HTMLResponse:
    counted = public.public_count(session, filters)
    total = min(counted, public.COUNT_CAP)
    offset = (page - 1) * PUBLIC_PAGE
    # past the counted reports a page is empty: no statement walks a million rows to find that out
    reports = public.public_list(session, filters, limit=PUBLIC_PAGE, offset=offset) if offset < total else []
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in ("page", "lang")]
    return render(
        request,
        "public/reports.html",
        reports=reports,
        filters=filters,
        categories=_categories(session),
        wards=_current_wards(session),
        map=ward_map(session, public.public_points(session, filters, limit=MAP_REPORTS)),
        pins_url="/api/v1/public/pins?" + urlencode([(k, v) for k, v in vars(filters).items() if v]),
        status_names={s.value: translator(language_of(request))(f"st_{s.value}") for s in Status},
        list_seconds=list_cache.list_seconds(),
        paging={
            "page": page,
            "pages": max(1, -(-total // PUBLIC_PAGE)),
            "total": total,
            "more": counted > total,
            "first": min((page - 1) * PUBLIC_PAGE + 1, total),
            "last": min(page * PUBLIC_PAGE, total),
            "link": lambda n: "/reports?" + urlencode([*kept, ("page", str(n))]),
        },
    )


def ward_map(
    session: Session, reports: Sequence[public.Placed], incidents: Sequence[tuple[Incident, int]] = ()
) -> dict[str, object]:
    """Old units shaded by the ward that took them over, with the number of reports per current ward,
    and open incidents as circles of their radius."""
    svg = SvgMap()
    ref = reference(session)
    wards = ref.wards
    current = ref.current_ward

    counts: dict[str, int] = {}
    for report in reports:
        if report.ward_code in wards:
            key = current(report.ward_code)
            counts[key] = counts.get(key, 0) + 1
    groups: dict[str, list[str]] = {}
    for old in voronoi_cells():
        groups.setdefault(current(old), []).append(old)
    imported = boundaries.current(session)
    if imported is not None:  # the operator's outlines replace the schematic cells
        cells = [
            {"path": svg.shape_path(b.shape), "ward": current(b.ward), "old": wards[b.ward].name_vi}
            for b in imported.boundaries
        ]
    else:
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
        "incidents": [_incident_circle(svg, incident, count) for incident, count in incidents],
        "source": {"licence": imported.licence, "attribution": imported.attribution} if imported else None,
    }


def _incident_circle(svg: SvgMap, incident: Incident, count: int) -> dict[str, object]:
    x, y = svg.xy(incident.latitude, incident.longitude)
    east, _ = svg.xy(incident.latitude, incident.longitude + incident.radius_m / METRES_PER_DEGREE_LON)
    return {"x": x, "y": y, "r": round(max(east - x, 6.0), 1), "title": incident.title, "count": count}

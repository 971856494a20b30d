"""/staff/tasks, /staff/tickets and /staff/tickets/{id}: the worklist, the filtered list with exports,
and one ticket with the actions the viewer's role allows."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from channels.templates import canned_replies
from kernel.errors import Invalid, NotFound
from kernel.i18n import _
from kernel.settings import get_settings
from kernel.text import RowId
from kernel.timeutil import city_tz
from routing import flows
from sla import service as sla_service
from sla import state as sla_state
from sla.exports import export_csv, export_xlsx
from sla.lists import SORTS, URGENCY_RANK, ListPage, staff_list
from tickets import permissions, service
from tickets.citizens import find_citizen_by_id, identities_of, tickets_of
from tickets.lifecycle import allowed_next
from tickets.merges import merges_of
from tickets.models import OPEN_STATUSES, Channel, Status, Ticket, TicketEvent
from tickets.staff import Role, User, ward_officers
from web.deps import CredentialsDep, CurrentUser, Session, SessionDep
from web.i18n import language_of, translator
from web.pages.staff.common import TasksUser, render_staff
from web.pages.staff.listform import ListForm, read_list_form
from web.pages.staff.reference import reference_lists

router = APIRouter(prefix="/staff", include_in_schema=False)

OPEN = {s.value for s in OPEN_STATUSES}


def _known_codes(lists: dict[str, Any]) -> dict[str, set[str]]:
    return {
        "category": {c.code for c in lists["categories"]},
        "ward": {w.code for w in lists["wards"]},
        "department": {d.code for d in lists["departments"]},
    }


def _link_with(request: Request, **changes: str | int) -> str:
    """This page's address with some parameters replaced (paging and sorting keep every filter)."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in changes and k != "lang"]
    return f"{request.url.path}?{urlencode(kept + [(k, str(v)) for k, v in changes.items()])}"


def _render_list(
    request: Request,
    template: str,
    user: User,
    credentials: CredentialsDep,
    form: ListForm,
    result: ListPage | None,
    lists: dict[str, Any],
    **context: Any,
) -> HTMLResponse:
    t = translator(language_of(request))
    errors = {name: t(key) for name, key in form.errors.items()}
    return render_staff(
        request,
        template,
        user,
        credentials,
        status_code=422 if errors else 200,
        form=form,
        errors=errors,
        result=result,
        sorts=SORTS,
        urgencies=list(URGENCY_RANK),
        link_with=lambda **changes: _link_with(request, **changes),
        **lists,
        **context,
    )


@router.get("/tasks", response_class=HTMLResponse)
def tasks(
    request: Request, user: TasksUser, credentials: CredentialsDep, session: SessionDep
) -> HTMLResponse:
    lists = reference_lists(session, language_of(request))
    form = read_list_form(request, known=_known_codes(lists), allowed_statuses=OPEN)
    result = None if form.errors else _page(session, form, user)
    statuses = [s.value for s in Status if s.value in OPEN]
    return _render_list(
        request, "staff/tasks.html", user, credentials, form, result, lists, statuses=statuses
    )


def _page(session: Session, form: ListForm, user: User) -> ListPage:
    return staff_list(
        session, form.filters, viewer=user, sort=form.sort, page=form.page, urgency=form.urgency
    )


@router.get("/tickets", response_class=HTMLResponse)
def ticket_list(
    request: Request, user: CurrentUser, credentials: CredentialsDep, session: SessionDep
) -> HTMLResponse:
    lists = reference_lists(session, language_of(request))
    form = read_list_form(request, known=_known_codes(lists))
    result = None if form.errors else _page(session, form, user)
    return _render_list(
        request,
        "staff/tickets.html",
        user,
        credentials,
        form,
        result,
        lists,
        query=request.url.query,
        statuses=[s.value for s in Status],
        channels=[c.value for c in Channel],
        can_reassign=permissions.can_open(user, "console"),
    )


@router.get("/tickets/export.{fmt}")
def export(fmt: str, request: Request, user: CurrentUser, session: SessionDep) -> Response:
    """The same filtered list, in the same order, as far as the viewer may see, as CSV or XLSX."""
    language = language_of(request)
    t = translator(language)
    if fmt not in ("csv", "xlsx"):
        raise NotFound(_("Chỉ xuất được tệp .csv hoặc .xlsx."))
    form = read_list_form(request, known=_known_codes(reference_lists(session, language)))
    if form.errors:
        name, key = next(iter(form.errors.items()))
        raise Invalid(t(key), field=name)
    exporter = export_csv if fmt == "csv" else export_xlsx
    body = exporter(session, form.filters, user, t, language=language, sort=form.sort, urgency=form.urgency)
    media = (
        "text/csv; charset=utf-8"
        if fmt == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"phan-anh-{datetime.now(city_tz()):%Y%m%d-%H%M}.{fmt}"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _actions(user: User, ticket: Ticket) -> list[str]:
    """The moves the page offers: allowed by the life cycle, by the role, and by who holds the ticket."""
    if not permissions.works_on(user, ticket):
        return []
    allowed = permissions.STATUS_MOVES_BY_ROLE[Role(user.role)]
    return [s.value for s in allowed_next(Status(ticket.status)) if s in allowed]


def _ward_officers(session: Session, user: User, ticket: Ticket) -> list[User]:
    """Whom a ward officer may hand a ward-level ticket to: the other active officers of the ward."""
    if user.role != Role.WARD_OFFICER or not permissions.works_on(user, ticket) or ticket.ward_code is None:
        return []
    return ward_officers(session, ticket.ward_code)


def _routed_by(timeline: list[TicketEvent]) -> str | None:
    """The routing rule that chose the ticket's current holder, as the timeline recorded it."""
    return next((e.data["rule"] for e in reversed(timeline) if e.data.get("rule")), None)


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(
    ticket_id: RowId, request: Request, user: CurrentUser, credentials: CredentialsDep, session: SessionDep
) -> HTMLResponse:
    ticket = service.get_ticket(session, ticket_id, viewer=user)
    citizen = find_citizen_by_id(session, ticket.citizen_id)
    identities = identities_of(session, ticket.citizen_id) if ticket.citizen_id else []
    person_desk = ticket.citizen_id is not None and Role(user.role) in permissions.CITIZEN_DESK
    timeline = service.timeline(session, ticket_id)
    queued = ticket.needs_review and ticket.status in flows.QUEUE_STATUSES
    lookup_link = get_settings().public_base_url.rstrip("/") + "/lookup"
    sla = sla_service.view(session, ticket)
    return render_staff(
        request,
        "staff/ticket.html",
        user,
        credentials,
        ticket=ticket,
        sla=sla,
        standing=sla_state.state_of(session, ticket),
        timeline=timeline,
        messages=service.messages_of(session, ticket_id),
        files=service.attachments_of(session, ticket_id),
        canned=canned_replies(session, code=ticket.code, lookup_link=lookup_link),
        citizen=citizen,
        identities=identities,
        person_desk=person_desk,
        citizen_tickets=tickets_of(session, ticket.citizen_id or 0) if person_desk else [],
        citizen_merges=merges_of(session, ticket.citizen_id or 0) if person_desk else [],
        moves=_actions(user, ticket),
        ward_officers=_ward_officers(session, user, ticket),
        routed_by=_routed_by(timeline),
        queue_reasons=flows.reasons_for(session, ticket) if queued else [],
        desk=permissions.can_open(user, "console"),
        field_officer=user.role in (Role.DEPARTMENT_STAFF, Role.WARD_OFFICER),
        **reference_lists(session, language_of(request)),
    )

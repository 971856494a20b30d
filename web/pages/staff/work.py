"""/staff/tasks, /staff/tickets and /staff/tickets/{id}: the worklist, the filtered list with exports,
and one ticket with the actions the viewer's role allows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from civicdesk.errors import Invalid, NotFound
from civicdesk.i18n import _
from civicdesk.text import RowId, SaneDateTime
from sla import boards
from sla import service as sla_service
from tickets import permissions, service
from tickets.citizens import identities_of
from tickets.exports import export_csv, export_xlsx
from tickets.lifecycle import allowed_next
from tickets.models import Channel, Citizen, Status
from tickets.service import TicketFilter
from tickets.staff import Role, User
from web.deps import CredentialsDep, CurrentUser, SessionDep
from web.i18n import language_of, translator
from web.pages.staff.common import TasksUser, render_staff
from web.pages.staff.reference import reference_lists

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/tasks", response_class=HTMLResponse)
def tasks(
    request: Request, user: TasksUser, credentials: CredentialsDep, session: SessionDep
) -> HTMLResponse:
    items = boards.worklist(session, user)
    return render_staff(
        request,
        "staff/tasks.html",
        user,
        credentials,
        items=items,
        **reference_lists(session, language_of(request)),
    )


def list_filters(
    request: Request,
    status: Annotated[list[str] | None, Query()] = None,
    category: str | None = None,
    ward: str | None = None,
    department: str | None = None,
    channel: Annotated[str | None, Query(max_length=40)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    created_from: SaneDateTime | None = None,
    created_to: SaneDateTime | None = None,
) -> TicketFilter:
    """The list's filters from the query string; an empty select means "all"."""
    return TicketFilter(
        status=[s for s in status or [] if s],
        category=category or None,
        ward=ward or None,
        department=department or None,
        channel=_channel(request, channel),
        text=q or None,
        created_from=created_from,
        created_to=created_to,
    )


def _channel(request: Request, value: str | None) -> Channel | None:
    """An empty choice ("Tất cả") means any channel; an unknown one is refused in the viewer's language."""
    if not value:
        return None
    try:
        return Channel(value)
    except ValueError:
        raise Invalid(translator(language_of(request))("bad_channel")) from None


Filters = Annotated[TicketFilter, Depends(list_filters)]


@router.get("/tickets", response_class=HTMLResponse)
def ticket_list(
    request: Request,
    user: CurrentUser,
    credentials: CredentialsDep,
    session: SessionDep,
    filters: Filters,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    rows, next_cursor = service.list_tickets(session, filters, viewer=user, limit=100, cursor=cursor)
    query = request.url.query
    return render_staff(
        request,
        "staff/tickets.html",
        user,
        credentials,
        rows=rows,
        next_cursor=next_cursor,
        filters=filters,
        query=query,
        statuses=[s.value for s in Status],
        channels=[c.value for c in Channel],
        can_reassign=permissions.can_open(user, "console"),
        **reference_lists(session, language_of(request)),
    )


@router.get("/tickets/export.{fmt}")
def export(fmt: str, user: CurrentUser, session: SessionDep, filters: Filters) -> Response:
    """The same filtered list as the page, as far as the viewer may see, as CSV or XLSX."""
    if fmt == "csv":
        body, media = export_csv(session, filters, user), "text/csv; charset=utf-8"
    elif fmt == "xlsx":
        body = export_xlsx(session, filters, user)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        raise NotFound(_("Chỉ xuất được tệp .csv hoặc .xlsx."))
    name = f"phan-anh-{datetime.now():%Y%m%d-%H%M}.{fmt}"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _actions(user: User, current: Status) -> list[str]:
    """The moves the page offers: allowed by the life cycle and by the role."""
    return [s.value for s in allowed_next(current) if s in permissions.STATUS_MOVES_BY_ROLE[Role(user.role)]]


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(
    ticket_id: RowId, request: Request, user: CurrentUser, credentials: CredentialsDep, session: SessionDep
) -> HTMLResponse:
    ticket = service.get_ticket(session, ticket_id, viewer=user)
    citizen = session.get(Citizen, ticket.citizen_id) if ticket.citizen_id else None
    identities = identities_of(session, ticket.citizen_id) if ticket.citizen_id else []
    return render_staff(
        request,
        "staff/ticket.html",
        user,
        credentials,
        ticket=ticket,
        sla=sla_service.view(session, ticket),
        timeline=service.timeline(session, ticket_id),
        messages=service.messages_of(session, ticket_id),
        citizen=citizen,
        identities=identities,
        moves=_actions(user, Status(ticket.status)),
        desk=permissions.can_open(user, "console"),
        field_officer=user.role in (Role.DEPARTMENT_STAFF, Role.WARD_OFFICER),
        **reference_lists(session, language_of(request)),
    )

"""/staff/tasks, /staff/tickets and /staff/tickets/{id}: the worklist, the filtered list with exports,
and one ticket with the actions the viewer's role allows."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col, select

from civicdesk.errors import Invalid, NotFound
from civicdesk.text import RowId, SaneDateTime
from routing import flows
from sla import boards
from sla import service as sla_service
from sla import state as sla_state
from tickets import permissions, service
from tickets.citizens import identities_of, tickets_of
from tickets.exports import export_csv, export_xlsx
from tickets.lifecycle import allowed_next
from tickets.merges import merges_of
from tickets.models import Channel, Citizen, Status, Ticket, TicketEvent
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
        raise NotFound("exports come as .csv or .xlsx")
    name = f"phan-anh-{datetime.now():%Y%m%d-%H%M}.{fmt}"
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
    query = select(User).where(
        User.role == Role.WARD_OFFICER, User.ward_code == ticket.ward_code, col(User.active).is_(True)
    )
    return list(session.exec(query.order_by(col(User.username))).all())


def _routed_by(timeline: list[TicketEvent]) -> str | None:
    """The routing rule that chose the ticket's current holder, as the timeline recorded it."""
    return next((e.data["rule"] for e in reversed(timeline) if e.data.get("rule")), None)


@router.get("/tickets/{ticket_id}", response_class=HTMLResponse)
def ticket_page(
    ticket_id: RowId, request: Request, user: CurrentUser, credentials: CredentialsDep, session: SessionDep
) -> HTMLResponse:
    ticket = service.get_ticket(session, ticket_id, viewer=user)
    citizen = session.get(Citizen, ticket.citizen_id) if ticket.citizen_id else None
    identities = identities_of(session, ticket.citizen_id) if ticket.citizen_id else []
    person_desk = ticket.citizen_id is not None and Role(user.role) in permissions.CITIZEN_DESK
    timeline = service.timeline(session, ticket_id)
    queued = ticket.needs_review and ticket.status in flows.QUEUE_STATUSES
    return render_staff(
        request,
        "staff/ticket.html",
        user,
        credentials,
        ticket=ticket,
        sla=sla_service.view(session, ticket),
        standing=sla_state.state_of(session, ticket),
        timeline=timeline,
        messages=service.messages_of(session, ticket_id),
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

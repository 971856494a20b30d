"""/api/v1/tickets: HTTP translated to ticket service calls, nothing more."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from kernel.settings import get_settings
from kernel.text import RowId, SaneDateTime
from sla import service as sla_service
from sla import state as sla_state
from sla.state import SlaState
from tickets import permissions, service
from tickets.attachments import store_attachment
from tickets.citizens import contact_card
from tickets.links import tracking_url
from tickets.models import Attachment, Channel, EventKind, Status, Ticket, TicketEvent
from tickets.photos import without_metadata
from tickets.schemas import (
    AssignRequest,
    AttachmentOut,
    CommentRequest,
    ContactOut,
    EventOut,
    MergeRequest,
    SlaOut,
    TicketCreate,
    TicketDetail,
    TicketOut,
    TicketPage,
    TicketUpdate,
    TransitionRequest,
)
from tickets.service import Actor, TicketFilter
from web.deps import CurrentUser, Session, SessionDep, StoreDep
from web.files import private_file

router = APIRouter(prefix="/api/v1/tickets", tags=["tickets"])


def ticket_out(ticket: Ticket, standing: SlaState | None = None) -> TicketOut:
    return TicketOut(
        sla_urgency=standing.urgency if standing else None,
        due_at=standing.due_at if standing else None,
        id=ticket.id or 0,
        code=ticket.code,
        status=Status(ticket.status),
        title=ticket.title,
        description=ticket.description,
        public_description=ticket.public_description,
        category=ticket.category_code,
        ward=ticket.ward_code,
        department=ticket.department_code,
        assignee_id=ticket.assignee_id,
        priority=ticket.priority,
        channel=ticket.origin_channel,
        address=ticket.address_text,
        latitude=ticket.latitude,
        longitude=ticket.longitude,
        duplicate_of=ticket.duplicate_of_id,
        hidden_from_public=ticket.hidden_from_public,
        city_level=ticket.city_level,
        legal_process=ticket.legal_process,
        rating=ticket.rating,
        tracking_url=tracking_url(ticket.tracking_token),
        created_at=ticket.created_at,
        updated_at=ticket.updated_at,
        resolved_at=ticket.resolved_at,
        closed_at=ticket.closed_at,
    )


def event_out(event: TicketEvent) -> EventOut:
    return EventOut.model_validate(event, from_attributes=True)


def _contact(session: Session, ticket: Ticket) -> ContactOut | None:
    if ticket.citizen_id is None:
        return None
    card = contact_card(session, ticket.citizen_id)
    return ContactOut(citizen_id=card.citizen_id, name=card.name, **card.identifiers)


def detail(session: Session, ticket: Ticket) -> TicketDetail:
    assert ticket.id is not None
    return TicketDetail(
        **ticket_out(ticket, sla_state.state_of(session, ticket)).model_dump(),
        contact=_contact(session, ticket),
        timeline=[event_out(e) for e in service.timeline(session, ticket.id)],
        sla=SlaOut(**asdict(sla_service.view(session, ticket))),
    )


@router.post("", status_code=201)
def create_ticket(body: TicketCreate, session: SessionDep, user: CurrentUser) -> TicketDetail:
    """File a ticket for a citizen (the desk): triage and the SLA clocks start at once."""
    permissions.require_action(user, "create")
    ticket = service.create_ticket(session, body.draft(), actor=Actor.staff(user))
    return detail(session, ticket)


@router.get("")
def list_tickets(
    session: SessionDep,
    user: CurrentUser,
    status: Annotated[list[str] | None, Query()] = None,
    category: str | None = None,
    ward: str | None = None,
    department: str | None = None,
    channel: Channel | None = None,
    q: Annotated[
        str | None, Query(max_length=200, description="text search, with or without diacritics")
    ] = None,
    created_from: SaneDateTime | None = None,
    created_to: SaneDateTime | None = None,
    assignee_id: RowId | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> TicketPage:
    """Tickets this person may see, newest first, filtered; pages follow `next_cursor`."""
    filters = TicketFilter(
        status=status or [],
        category=category,
        ward=ward,
        department=department,
        channel=channel,
        text=q,
        created_from=created_from,
        created_to=created_to,
        assignee_id=assignee_id,
    )
    rows, next_cursor = service.list_tickets(session, filters, viewer=user, limit=limit, cursor=cursor)
    standings = sla_state.states_for(session, rows)
    return TicketPage(items=[ticket_out(t, standings.get(t.id or 0)) for t in rows], next_cursor=next_cursor)


@router.get("/{ticket_id}")
def get_ticket(ticket_id: RowId, session: SessionDep, user: CurrentUser) -> TicketDetail:
    """One ticket with its citizen, timeline and SLA clocks (404 outside what this person may see)."""
    return detail(session, service.get_ticket(session, ticket_id, viewer=user))


@router.post("/{ticket_id}/transition")
def transition(
    ticket_id: RowId, body: TransitionRequest, session: SessionDep, user: CurrentUser
) -> TicketDetail:
    """Move the ticket to another status (with a reason where the move needs one)."""
    permissions.require_status_move(user, body.status)
    ticket = service.transition(
        session, ticket_id, body.status, actor=Actor.staff(user), viewer=user, reason=body.reason
    )
    return detail(session, ticket)


@router.post("/{ticket_id}/assign")
def assign(ticket_id: RowId, body: AssignRequest, session: SessionDep, user: CurrentUser) -> TicketDetail:
    """Hand the ticket to a department or a person, with a reason on the timeline."""
    ticket = service.assign(
        session,
        ticket_id,
        department=body.department,
        assignee_id=body.assignee_id,
        actor=Actor.staff(user),
        viewer=user,
        reason=body.reason,
    )
    return detail(session, ticket)


@router.post("/{ticket_id}/comments", status_code=201)
def comment(ticket_id: RowId, body: CommentRequest, session: SessionDep, user: CurrentUser) -> EventOut:
    """An internal note, or a public reply the citizen is told about."""
    permissions.require_action(user, "comment")
    event = service.add_comment(
        session, ticket_id, text=body.text, public=body.public, actor=Actor.staff(user), viewer=user
    )
    return event_out(event)


@router.patch("/{ticket_id}")
def update(ticket_id: RowId, body: TicketUpdate, session: SessionDep, user: CurrentUser) -> TicketDetail:
    """Change the ticket's fields; each role may change only some (403 names the refused ones)."""
    permissions.require_action(user, "edit")
    names = {"category": "category_code", "ward": "ward_code", "address": "address_text"}
    changes: dict[str, Any] = {names.get(k, k): v for k, v in body.model_dump(exclude_unset=True).items()}
    ticket = service.update_ticket(session, ticket_id, changes, actor=Actor.staff(user), viewer=user)
    return detail(session, ticket)


@router.post("/{ticket_id}/merge")
def merge(ticket_id: RowId, body: MergeRequest, session: SessionDep, user: CurrentUser) -> TicketDetail:
    """Merge the ticket into another (by id or code): it becomes a duplicate that follows the other."""
    permissions.require_action(user, "merge")
    into_id = body.into
    if into_id is None:
        assert body.into_code is not None  # the schema asks for exactly one of the two
        into_id = service.ticket_id_by_code(session, body.into_code, viewer=user)
    ticket = service.merge(session, ticket_id, into_id=into_id, actor=Actor.staff(user), viewer=user)
    return detail(session, ticket)


@router.post("/{ticket_id}/attachments", status_code=201)
async def attach(
    ticket_id: RowId,
    session: SessionDep,
    user: CurrentUser,
    file: Annotated[UploadFile, File(description="the file; photos lose their metadata when public")],
    purpose: Annotated[str, Form(max_length=16, description="evidence, result or document")] = "evidence",
    public: Annotated[bool, Form(description="shown on the citizen's status page")] = True,
) -> AttachmentOut:
    """Attach a file; a public photo loses its metadata (GPS, camera) before it is stored."""
    permissions.require_action(user, "attach")
    # the database, image decoding and the file store are blocking work: never on the event loop
    ticket = await run_in_threadpool(service.get_ticket, session, ticket_id, viewer=user)
    limit = get_settings().attachment_max_bytes
    data = await file.read(limit + 1)

    def store() -> Attachment:
        cleaned = without_metadata(data) if public and len(data) <= limit else data
        attachment = store_attachment(
            session,
            data=cleaned,
            original_name=file.filename,
            ticket_id=ticket.id,
            purpose=purpose,
            public=public,
        )
        service.record_event(
            session,
            ticket,
            EventKind.ATTACHMENT_ADDED,
            actor=Actor.staff(user),
            public=public,
            attachment_id=attachment.id,
            purpose=purpose,
        )
        return attachment

    attachment = await run_in_threadpool(store)
    return AttachmentOut.model_validate(attachment, from_attributes=True)


attachments_router = APIRouter(prefix="/api/v1/attachments", tags=["tickets"])


@attachments_router.get(
    "/{attachment_id}",
    response_class=Response,
    responses={200: {"description": "the file, as a download", "content": {"application/octet-stream": {}}}},
)
def download(attachment_id: RowId, session: SessionDep, user: CurrentUser, store: StoreDep) -> Response:
    """The file, if the signed-in person may see its ticket."""
    return private_file(service.visible_attachment(session, attachment_id, viewer=user), store)

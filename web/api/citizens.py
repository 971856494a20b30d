"""/api/v1/citizens: one person across channels — their tickets everywhere, linking an identifier,
merging two records and undoing a merge. The call-centre desk only (agents, supervisors, admins)."""

from __future__ import annotations

from dataclasses import asdict

from fastapi import APIRouter

from kernel.errors import Invalid
from kernel.text import RowId
from notifications import phone_question
from tickets import audit, merges, permissions, service
from tickets.citizens import get_citizen, identities_of, link_identity, tickets_of
from tickets.models import ChannelIdentity, CitizenMerge
from tickets.schemas import (
    CitizenMergeOut,
    CitizenMergeRequest,
    CitizenOut,
    CitizenTicketOut,
    IdentityLink,
    IdentityOut,
    PhoneQuestionOut,
)
from tickets.staff import User
from web.deps import CurrentUser, Session, SessionDep

router = APIRouter(prefix="/api/v1", tags=["citizens"])


def identity_out(row: ChannelIdentity) -> IdentityOut:
    return IdentityOut.model_validate(row, from_attributes=True)


def merge_out(row: CitizenMerge) -> CitizenMergeOut:
    return CitizenMergeOut.model_validate(row, from_attributes=True)


def citizen_out(session: Session, citizen_id: int) -> CitizenOut:
    citizen = get_citizen(session, citizen_id)
    return CitizenOut(
        id=citizen_id,
        display_name=citizen.display_name,
        merged_into_id=citizen.merged_into_id,
        identities=[identity_out(i) for i in identities_of(session, citizen_id)],
        tickets=[CitizenTicketOut.model_validate(asdict(line)) for line in tickets_of(session, citizen_id)],
        merges=[merge_out(m) for m in merges.merges_of(session, citizen_id)],
    )


@router.get("/citizens/{citizen_id}", response_model=CitizenOut)
def get_citizen_view(citizen_id: RowId, session: SessionDep, user: CurrentUser) -> CitizenOut:
    """One person across channels: their identifiers, their tickets everywhere, merges."""
    permissions.require_citizen_desk(user)
    return citizen_out(session, citizen_id)


@router.post("/citizens/{citizen_id}/identities", status_code=201, response_model=IdentityOut)
def link(citizen_id: RowId, body: IdentityLink, session: SessionDep, user: CurrentUser) -> IdentityOut:
    """Staff vouch that a phone, e-mail, Zalo or Facebook id is this person's (kept in the audit log)."""
    permissions.require_citizen_desk(user)
    row = link_identity(session, citizen_id, body.kind, body.value)
    audit.record(
        session,
        "citizen.link",
        user_id=user.id,
        username=user.username,
        target=f"citizen:{citizen_id}",
        identity_id=row.id,
        kind=row.kind,
    )
    return identity_out(row)


@router.post("/citizens/{citizen_id}/merge", response_model=CitizenMergeOut)
def merge(
    citizen_id: RowId, body: CitizenMergeRequest, session: SessionDep, user: CurrentUser
) -> CitizenMergeOut:
    """Join this person's record into another's (a citizen id, or one of their tickets' codes)."""
    permissions.require_citizen_desk(user)
    target = body.into if body.into is not None else _citizen_of_ticket(session, body.into_code or "", user)
    done = merges.merge(
        session,
        source_id=citizen_id,
        target_id=target,
        actor_user_id=user.id,
        actor_name=user.username,
        reason=body.reason,
    )
    return merge_out(done)


@router.post("/citizen-merges/{merge_id}/undo", response_model=CitizenMergeOut)
def undo_merge(merge_id: RowId, session: SessionDep, user: CurrentUser) -> CitizenMergeOut:
    """Undo a merge: what moved goes back."""
    permissions.require_citizen_desk(user)
    return merge_out(merges.undo(session, merge_id, actor_user_id=user.id, actor_name=user.username))


@router.post("/tickets/{ticket_id}/ask-phone", status_code=202, response_model=PhoneQuestionOut)
def ask_phone(ticket_id: RowId, session: SessionDep, user: CurrentUser) -> PhoneQuestionOut:
    """Ask the person behind a Zalo or Messenger ticket for their phone; their answer (a bare number)
    links them to whoever verifiably holds it, such as a caller."""
    permissions.require_citizen_desk(user)
    ticket = service.get_ticket(session, ticket_id, viewer=user)
    queued = phone_question.ask(session, ticket)
    return PhoneQuestionOut(outbound_id=queued.id or 0, channel=queued.channel, text=queued.text)


def _citizen_of_ticket(session: Session, code: str, user: User) -> int:
    ticket = service.get_ticket(session, service.ticket_id_by_code(session, code, viewer=user), viewer=user)
    if ticket.citizen_id is None:
        raise Invalid(f"Phản ánh {ticket.code} không gắn với người dân nào.", field="into_code")
    return ticket.citizen_id

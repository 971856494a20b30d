"""/api/v1/calls and /api/v1/telephony: call records, queue figures, agents, pause and call-back."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import ConfigDict, Field
from sqlmodel import Session, select

from civicdesk.errors import Forbidden, Invalid, NotFound
from civicdesk.i18n import _
from civicdesk.text import CleanInput, RowId, SaneDate
from telephony import actions, calls
from telephony.agents import link_agent as link_agent_to_user
from telephony.models import Call, Outcome, PbxAction, QueueMember
from telephony.store import phone_of, screen_pop
from tickets import permissions
from tickets import service as ticket_service
from tickets.citizens import PBX, Contact
from tickets.schemas import TicketCreate, TicketDetail
from tickets.service import Actor
from tickets.staff import Role, User
from web.api.tickets import detail
from web.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/api/v1", tags=["telephony"])
CALL_CENTRE = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT})
MAX_RANGE_DAYS = 92


def _require_call_centre(user: User) -> None:
    if Role(user.role) not in CALL_CENTRE:
        raise Forbidden(_("Dữ liệu cuộc gọi dành cho tổng đài; hãy hỏi giám sát viên."))


def call_out(session: Session, call: Call) -> dict[str, Any]:
    return {
        "uniqueid": call.uniqueid,
        "linkedid": call.linkedid,
        "caller_number": call.caller_number,
        "caller_name": call.caller_name,
        "citizen_id": call.citizen_id,
        "queue": call.queue,
        "outcome": call.outcome,
        "queue_exit": call.queue_exit,
        "agent": call.agent_interface,
        "agent_user_id": call.agent_user_id,
        "agents_rung": call.agents_rung,
        "transferred_to": call.transferred_to,
        "ended_by": call.ended_by,
        "started_at": call.started_at,
        "entered_at": call.entered_at,
        "first_ring_at": call.first_ring_at,
        "answered_at": call.answered_at,
        "ended_at": call.ended_at,
        "wait_seconds": call.wait_seconds,
        "ring_seconds": call.ring_seconds,
        "talk_seconds": call.talk_seconds,
        "hangup_cause": call.hangup_cause,
        "recording_file": call.recording_file,
        "voicemail_file": call.voicemail_file,
        "transcription_status": call.transcription_status,
        "transcription_error": call.transcription_error,
        "recovered": call.recovered,
        "ticket_ids": calls.tickets_of_call(session, call),
    }


@router.get("/calls")
def list_calls(
    session: SessionDep,
    user: CurrentUser,
    date_: Annotated[SaneDate | None, Query(alias="date", description="local day, YYYY-MM-DD")] = None,
    outcome: Outcome | None = None,
    agent: Annotated[str | None, Query(max_length=120, description="interface, e.g. PJSIP/agent101")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[dict[str, Any]]:
    _require_call_centre(user)
    filters = calls.CallFilter(day=date_, outcome=outcome, agent=agent, limit=limit, offset=offset)
    return [call_out(session, c) for c in calls.list_calls(session, filters)]


@router.get("/calls/stats")
def call_stats(
    session: SessionDep,
    user: CurrentUser,
    date_: Annotated[SaneDate, Query(alias="date", description="local day, YYYY-MM-DD")],
) -> dict[str, Any]:
    _require_call_centre(user)
    return calls.day_stats(session, date_)


@router.get("/calls/stats/days")
def call_stats_by_day(
    session: SessionDep,
    user: CurrentUser,
    first: Annotated[SaneDate, Query(alias="from")],
    last: Annotated[SaneDate, Query(alias="to")],
) -> list[dict[str, Any]]:
    _require_call_centre(user)
    if last < first or last - first > timedelta(days=MAX_RANGE_DAYS):
        raise Invalid(f"'to' must be on or after 'from' and at most {MAX_RANGE_DAYS} days later")
    return calls.range_stats(session, first, last)


@router.get("/calls/{uniqueid}")
def get_call(uniqueid: str, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    _require_call_centre(user)
    call = calls.get_call(session, uniqueid)
    return {**call_out(session, call), "screen_pop": screen_pop(session, call)}


class CallTicketCreate(TicketCreate):
    model_config = ConfigDict(extra="forbid")


@router.post("/calls/{uniqueid}/tickets", status_code=201)
def file_ticket_from_call(
    uniqueid: str, body: CallTicketCreate, session: SessionDep, user: CurrentUser
) -> TicketDetail:
    """The screen pop's one click: a ticket from the caller's words, linked to the call."""
    permissions.require_action(user, "create")
    call = calls.get_call(session, uniqueid)
    draft = body.draft(
        Contact(
            phone=body.phone or call.caller_number,
            email=body.email,
            name=body.citizen_name,
            phone_verified_by=PBX if _is_the_caller(body.phone, call.caller_number) else None,
        )
    )
    ticket = ticket_service.create_ticket(session, draft, actor=Actor.staff(user))
    calls.link_ticket_to_call(session, uniqueid, ticket.id or 0, Actor.staff(user))
    return detail(session, ticket)


def _is_the_caller(typed: str | None, caller_number: str | None) -> bool:
    """The number the PBX received is vouched for; one the agent typed is not, unless it is the same."""
    caller = phone_of(caller_number)
    return caller is not None and (not typed or phone_of(typed) == caller)


@router.get("/telephony/queue")
def queue(session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    _require_call_centre(user)
    return calls.queue_snapshot(session)


@router.get("/telephony/agents")
def agents(session: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    _require_call_centre(user)
    members = session.exec(select(QueueMember).order_by(QueueMember.interface)).all()
    return [
        {
            "interface": m.interface,
            "member_name": m.member_name,
            "extension": m.extension,
            "user_id": m.user_id,
            "state": m.state,
            "paused_reason": m.paused_reason,
            "state_since": m.state_since,
        }
        for m in members
    ]


class AgentLink(CleanInput):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=3, max_length=64)
    extension: str | None = Field(default=None, max_length=40)


@router.put("/telephony/agents/{interface:path}")
def link_agent(interface: str, body: AgentLink, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    permissions.require_action(user, "manage_users")
    member = link_agent_to_user(
        session, interface=interface, username=body.username, extension=body.extension
    )
    return {"interface": interface, "user_id": member.user_id, "extension": member.extension}


class PauseRequest(CleanInput):
    model_config = ConfigDict(extra="forbid")
    paused: bool
    reason: str | None = Field(default=None, max_length=80)


def action_out(action: PbxAction) -> dict[str, Any]:
    return {
        "id": action.id,
        "kind": action.kind,
        "status": action.status,
        "params": action.params,
        "result": action.result,
        "ticket_id": action.ticket_id,
        "created_at": action.created_at,
        "finished_at": action.finished_at,
    }


@router.post("/telephony/agents/me/pause", status_code=202)
def pause(body: PauseRequest, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    return action_out(actions.request_pause(session, user, body.paused, body.reason))


@router.post("/tickets/{ticket_id}/callback", status_code=202)
def callback(ticket_id: RowId, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    _require_call_centre(user)
    ticket = ticket_service.get_ticket(session, ticket_id, viewer=user)
    return action_out(actions.request_callback(session, ticket, user))


@router.get("/telephony/actions/{action_id}")
def get_action(action_id: RowId, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    action = session.get(PbxAction, action_id)
    if action is None or (
        action.requested_by != user.id and Role(user.role) not in CALL_CENTRE - {Role.AGENT}
    ):
        raise NotFound(f"no PBX action {action_id}")
    return action_out(action)

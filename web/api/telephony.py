"""/api/v1/calls and /api/v1/telephony: call records, queue figures, agents, pause and call-back."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import ConfigDict, Field

from kernel.errors import Invalid
from kernel.text import CleanInput, RowId, SaneDate
from telephony import actions, calls
from telephony.agents import link_agent as link_agent_to_user
from telephony.agents import queue_members
from telephony.models import Call, Outcome, PbxAction
from telephony.schemas import (
    ActionOut,
    AgentLinkOut,
    AgentOut,
    CallDetailOut,
    CallOut,
    DayFiguresOut,
    DayStatsOut,
    QueueSnapshotOut,
    ScreenPopOut,
)
from telephony.store import phone_of, screen_pop
from tickets import permissions
from tickets import service as ticket_service
from tickets.citizens import PBX, Contact
from tickets.schemas import TicketCreate, TicketDetail
from tickets.service import Actor
from web.api.tickets import detail
from web.deps import CurrentUser, Session, SessionDep

router = APIRouter(prefix="/api/v1", tags=["telephony"])
MAX_RANGE_DAYS = 92


def call_out(session: Session, call: Call) -> CallOut:
    return CallOut.model_validate(
        {
            **call.model_dump(),
            "agent": call.agent_interface,
            "ticket_ids": calls.tickets_of_call(session, call),
        }
    )


@router.get("/calls")
def list_calls(
    session: SessionDep,
    user: CurrentUser,
    date_: Annotated[SaneDate | None, Query(alias="date", description="local day, YYYY-MM-DD")] = None,
    outcome: Outcome | None = None,
    agent: Annotated[str | None, Query(max_length=120, description="interface, e.g. PJSIP/agent101")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[CallOut]:
    """Calls to the hotline, newest first, filtered by local day, outcome or answering agent."""
    permissions.require_action(user, "call_centre")
    filters = calls.CallFilter(day=date_, outcome=outcome, agent=agent, limit=limit, offset=offset)
    return [call_out(session, c) for c in calls.list_calls(session, filters)]


@router.get("/calls/stats")
def call_stats(
    session: SessionDep,
    user: CurrentUser,
    date_: Annotated[SaneDate, Query(alias="date", description="local day, YYYY-MM-DD")],
) -> DayStatsOut:
    """One local day's call-centre figures, in total and hour by hour."""
    permissions.require_action(user, "call_centre")
    return DayStatsOut.model_validate(calls.day_stats(session, date_))


@router.get("/calls/stats/days")
def call_stats_by_day(
    session: SessionDep,
    user: CurrentUser,
    first: Annotated[SaneDate, Query(alias="from")],
    last: Annotated[SaneDate, Query(alias="to")],
) -> list[DayFiguresOut]:
    """The call-centre figures of each local day in a range of at most 92 days."""
    permissions.require_action(user, "call_centre")
    if last < first or last - first > timedelta(days=MAX_RANGE_DAYS):
        raise Invalid(f"'to' must be on or after 'from' and at most {MAX_RANGE_DAYS} days later")
    return [DayFiguresOut.model_validate(day) for day in calls.range_stats(session, first, last)]


@router.get("/calls/{uniqueid}")
def get_call(uniqueid: str, session: SessionDep, user: CurrentUser) -> CallDetailOut:
    """One call with its screen pop: who called and what they reported before, on every channel."""
    permissions.require_action(user, "call_centre")
    call = calls.get_call(session, uniqueid)
    return CallDetailOut(
        **call_out(session, call).model_dump(),
        screen_pop=ScreenPopOut.model_validate(screen_pop(session, call)),
    )


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
def queue(session: SessionDep, user: CurrentUser) -> QueueSnapshotOut:
    """The wallboard: callers waiting now, agents by state, and today's service level and abandonment."""
    permissions.require_action(user, "call_centre")
    return QueueSnapshotOut.model_validate(calls.queue_snapshot(session))


@router.get("/telephony/agents")
def agents(session: SessionDep, user: CurrentUser) -> list[AgentOut]:
    """Every queue member's interface, its live state and the staff member linked to it."""
    permissions.require_action(user, "call_centre")
    return [AgentOut.model_validate(member) for member in queue_members(session)]


class AgentLink(CleanInput):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=3, max_length=64, description="the staff member", examples=["agent1"])
    extension: str | None = Field(
        default=None, max_length=40, description="their extension", examples=["101"]
    )


@router.put("/telephony/agents/{interface:path}")
def link_agent(interface: str, body: AgentLink, session: SessionDep, user: CurrentUser) -> AgentLinkOut:
    """Tie a queue interface (e.g. PJSIP/agent101) to a staff member, so screen pops reach them."""
    permissions.require_action(user, "manage_users")
    member = link_agent_to_user(
        session, interface=interface, username=body.username, extension=body.extension
    )
    return AgentLinkOut.model_validate(member)


class PauseRequest(CleanInput):
    model_config = ConfigDict(extra="forbid")
    paused: bool = Field(description="pause (true) or take calls again (false)")
    reason: str | None = Field(default=None, max_length=80, description="why", examples=["lunch"])


def action_out(action: PbxAction) -> ActionOut:
    return ActionOut.model_validate(action)


@router.post("/telephony/agents/me/pause", status_code=202)
def pause(body: PauseRequest, session: SessionDep, user: CurrentUser) -> ActionOut:
    """Pause or unpause the signed-in agent's queue membership (sent by the telephony service)."""
    return action_out(actions.request_pause(session, user, body.paused, body.reason))


@router.post("/tickets/{ticket_id}/callback", status_code=202)
def callback(ticket_id: RowId, session: SessionDep, user: CurrentUser) -> ActionOut:
    """Ring the agent's phone, then the citizen's: a call-back about a ticket."""
    permissions.require_action(user, "call_centre")
    ticket = ticket_service.get_ticket(session, ticket_id, viewer=user)
    return action_out(actions.request_callback(session, ticket, user))


@router.get("/telephony/actions/{action_id}")
def get_action(action_id: RowId, session: SessionDep, user: CurrentUser) -> ActionOut:
    """A PBX action's state, for whoever asked for it (supervisors and administrators see all)."""
    return action_out(actions.action_seen_by(session, action_id, user))

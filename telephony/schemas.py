"""What the telephony API answers: call records, the screen pop, call figures, the queue wallboard, agents
and the PBX actions staff request."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from kernel.schemas import FromRow


class CallOut(FromRow):
    """One call to the hotline, as the PBX reported it."""

    uniqueid: str = Field(description="the PBX's id of the call", examples=["1764300000.42"])
    linkedid: str | None = Field(description="the id shared by the call's channels")
    caller_number: str | None = Field(description="the number that called", examples=["0912345678"])
    caller_name: str | None = Field(description="the caller id name the PBX received")
    citizen_id: int | None = Field(description="the citizen the number belongs to")
    queue: str | None = Field(description="the queue it entered", examples=["hotline"])
    outcome: str = Field(description="answered, abandoned, voicemail, after_hours, transferred…")
    queue_exit: str | None = Field(description="why the queue was left unanswered (caller, timeout…)")
    agent: str | None = Field(description="the interface that answered", examples=["PJSIP/agent101"])
    agent_user_id: int | None = Field(description="the staff member at that interface")
    agents_rung: int = Field(description="how many agents' phones rang")
    transferred_to: str | None = Field(description="where it was transferred")
    ended_by: str | None = Field(description="caller, agent or transfer")
    started_at: datetime = Field(description="when the call arrived (UTC)")
    entered_at: datetime | None = Field(description="when it joined the queue (UTC)")
    first_ring_at: datetime | None = Field(description="when an agent's phone first rang (UTC)")
    answered_at: datetime | None = Field(description="when an agent answered (UTC)")
    ended_at: datetime | None = Field(description="when it ended (UTC)")
    wait_seconds: int | None = Field(description="seconds in the queue before an answer or hang-up")
    ring_seconds: int | None = Field(description="seconds agents' phones rang")
    talk_seconds: int | None = Field(description="seconds of conversation")
    hangup_cause: str | None = Field(description="the PBX's hang-up cause")
    recording_file: str | None = Field(description="the recording's file name")
    voicemail_file: str | None = Field(description="the voicemail's file name")
    transcription_status: str | None = Field(description="the voicemail transcription's state")
    transcription_error: str | None = Field(description="why transcription failed")
    recovered: bool = Field(description="reconstructed after the AMI link was down (times are estimates)")
    ticket_ids: list[int] = Field(description="the tickets filed from or linked to the call")


class LastMessageOut(BaseModel):
    """A ticket's latest message."""

    text: str = Field(description="its words")
    channel: str = Field(description="the channel it travelled on")
    direction: str = Field(description="in or out")
    at: str = Field(description="when, ISO 8601")


class TicketLineOut(BaseModel):
    """One of the caller's tickets on the screen pop."""

    id: int = Field(description="the ticket's number")
    code: str = Field(description="the ticket's code", examples=["PR-2026-001234"])
    title: str = Field(description="its title")
    status: str = Field(description="where it stands")
    channel: str = Field(description="how it arrived")
    category_code: str | None = Field(description="its category")
    created_at: str = Field(description="when it was filed, ISO 8601")
    last_message: LastMessageOut | None = Field(description="its latest message, if any")


class CallerOut(BaseModel):
    """The citizen the calling number belongs to."""

    id: int = Field(description="the citizen's number")
    display_name: str | None = Field(description="the name they gave")


class ScreenPopOut(BaseModel):
    """What the agent's console shows while the phone rings."""

    uniqueid: str = Field(description="the PBX's id of the call")
    caller_number: str | None = Field(description="the number that calls")
    queue: str | None = Field(description="the queue it came through")
    citizen: CallerOut | None = Field(description="who calls, when the number is known")
    open_tickets: list[TicketLineOut] = Field(description="their open tickets on every channel")
    recent_tickets: list[TicketLineOut] = Field(description="their last five closed tickets")


class CallDetailOut(CallOut):
    """A call with its screen pop."""

    screen_pop: ScreenPopOut = Field(description="who called and what they reported before")


class FiguresOut(BaseModel):
    """Call-centre figures over a span of time."""

    calls: int = Field(description="calls that ended in the span")
    offered: int = Field(description="calls that entered the queue")
    answered: int = Field(description="offered calls an agent answered")
    abandoned: int = Field(description="offered calls the caller hung up while waiting")
    short_abandoned: int = Field(description="abandoned sooner than the short-abandon threshold")
    timed_out: int = Field(description="offered calls that left the queue unanswered by the PBX's rules")
    voicemail: int = Field(description="calls that left a voicemail")
    after_hours: int = Field(description="calls outside office hours (voicemail included)")
    transferred: int = Field(description="calls transferred elsewhere")
    service_level: float | None = Field(description="share of offered calls answered in time", examples=[0.8])
    service_level_seconds: int = Field(description="what 'in time' means, seconds", examples=[20])
    abandonment_rate: float | None = Field(description="share of offered calls abandoned")
    asa_seconds: float | None = Field(description="average speed of answer, seconds")
    aht_seconds: float | None = Field(description="average talk time, seconds")
    average_wait_seconds: float | None = Field(description="average wait of offered calls, seconds")


class HourFiguresOut(FiguresOut):
    """One hour of a day's figures."""

    hour: int = Field(description="the local hour, 0-23", examples=[9])


class DayFiguresOut(FiguresOut):
    """One local day's figures."""

    date: str = Field(description="the local day, YYYY-MM-DD", examples=["2026-11-27"])


class DayStatsOut(DayFiguresOut):
    """One local day's figures, hour by hour."""

    hours: list[HourFiguresOut] = Field(description="the 24 local hours")


class QueueSnapshotOut(BaseModel):
    """The wallboard: who waits now, agents by state, today's figures."""

    calls_waiting: int = Field(description="callers waiting in the queue now")
    longest_wait_seconds: int = Field(description="how long the longest waiting caller has waited")
    agents: dict[str, int] = Field(description="agents by state", examples=[{"available": 3, "busy": 2}])
    service_level: float | None = Field(description="today's share of offered calls answered in time")
    abandonment_rate: float | None = Field(description="today's share of offered calls abandoned")
    answered: int = Field(description="calls answered today")
    abandoned: int = Field(description="calls abandoned today")
    offered: int = Field(description="calls offered today")


class AgentOut(FromRow):
    """A queue member's interface and the staff member behind it."""

    interface: str = Field(description="the PBX interface", examples=["PJSIP/agent101"])
    member_name: str | None = Field(description="the member's name in the queue")
    extension: str | None = Field(description="the agent's extension", examples=["101"])
    user_id: int | None = Field(description="the staff member who answers there")
    state: str = Field(description="available, ringing, on_call, wrap_up, paused or logged_out")
    paused_reason: str | None = Field(description="why the agent paused")
    state_since: datetime = Field(description="since when (UTC)")


class AgentLinkOut(FromRow):
    """An interface tied to a staff member."""

    interface: str = Field(description="the PBX interface", examples=["PJSIP/agent101"])
    user_id: int | None = Field(description="the staff member who answers there")
    extension: str | None = Field(description="the agent's extension", examples=["101"])


class ActionOut(FromRow):
    """Something staff asked the PBX to do; the telephony service sends it and records the answer."""

    id: int = Field(description="the action's number")
    kind: str = Field(description="pause or callback", examples=["callback"])
    status: str = Field(description="pending, sent, done or failed", examples=["pending"])
    params: dict[str, Any] = Field(description="what was asked (interface, number, reason)")
    result: str | None = Field(description="the PBX's answer")
    ticket_id: int | None = Field(description="the ticket a call-back is about")
    created_at: datetime = Field(description="when it was asked (UTC)")
    finished_at: datetime | None = Field(description="when the PBX answered (UTC)")

"""The hotline's tables: one record per inbound call, the queue members (agents) and their state, the
tickets filed from a call, and the actions staff ask the PBX to perform (pause, call-back)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from kernel.timeutil import UTCDateTime, utcnow


class Outcome(StrEnum):
    IN_PROGRESS = "in_progress"  # still in the IVR, the queue or talking
    ANSWERED = "answered"
    ABANDONED = "abandoned"
    VOICEMAIL = "voicemail"
    TRANSFERRED = "transferred"
    AFTER_HOURS = "after_hours"


class AgentState(StrEnum):
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"
    PAUSED = "paused"
    LOGGED_OUT = "logged_out"


class TranscriptionStatus(StrEnum):
    PENDING = "pending"
    DONE = "done"
    FAILED = "failed"


def _time(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class Call(SQLModel, table=True):
    """An inbound call as the caller lived it, keyed by the caller leg's Uniqueid."""

    id: int | None = Field(default=None, primary_key=True)
    uniqueid: str = Field(sa_type=String(64), unique=True)
    linkedid: str = Field(sa_type=String(64), index=True)
    channel: str | None = Field(default=None, sa_type=String(120))
    caller_number: str | None = Field(default=None, sa_type=String(40), index=True)
    caller_name: str | None = Field(default=None, sa_type=String(200))
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    queue: str | None = Field(default=None, sa_type=String(64))
    outcome: str = Field(default=Outcome.IN_PROGRESS, sa_type=String(16), index=True)
    # why a queue was left without an answer: caller (a true abandon), timeout, leaveempty, joinempty, full
    queue_exit: str | None = Field(default=None, sa_type=String(16))
    agent_interface: str | None = Field(default=None, sa_type=String(120))
    agent_user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    agents_rung: int = 0
    transferred_to: str | None = Field(default=None, sa_type=String(80))
    ended_by: str | None = Field(default=None, sa_type=String(16))  # caller, agent, transfer
    started_at: datetime = _time(default_factory=utcnow, index=True)
    entered_at: datetime | None = _time(default=None, index=True)  # joined the queue
    first_ring_at: datetime | None = _time(default=None)
    answered_at: datetime | None = _time(default=None)
    ended_at: datetime | None = _time(default=None)
    wait_seconds: int | None = None
    ring_seconds: int | None = None
    talk_seconds: int | None = None
    hangup_cause: str | None = Field(default=None, sa_type=String(80))
    recording_file: str | None = Field(default=None, sa_type=String(300))
    voicemail_file: str | None = Field(default=None, sa_type=String(300))
    transcription_status: str | None = Field(default=None, sa_type=String(16))
    transcription_error: str | None = Field(default=None, sa_type=Text)
    transcript: str | None = Field(default=None, sa_type=Text)
    # times reconstructed after the AMI link was down are estimates from QueueStatus/CoreShowChannels
    recovered: bool = False


class CallTicket(SQLModel, table=True):
    __tablename__ = "call_ticket"
    __table_args__ = (UniqueConstraint("call_id", "ticket_id"),)

    id: int | None = Field(default=None, primary_key=True)
    call_id: int = Field(foreign_key="call.id", index=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    created_at: datetime = _time(default_factory=utcnow)


class QueueMember(SQLModel, table=True):
    """A queue member's interface (PJSIP/agent101), the CivicDesk user behind it and its live state."""

    __tablename__ = "queue_member"

    interface: str = Field(primary_key=True, sa_type=String(120))
    member_name: str | None = Field(default=None, sa_type=String(120))
    extension: str | None = Field(default=None, sa_type=String(40), index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", unique=True)
    state: str = Field(default=AgentState.LOGGED_OUT, sa_type=String(16))
    paused_reason: str | None = Field(default=None, sa_type=String(120))
    wrap_up_until: datetime | None = _time(default=None)
    current_call: str | None = Field(default=None, sa_type=String(64))
    state_since: datetime = _time(default_factory=utcnow)


class PbxActionKind(StrEnum):
    PAUSE = "pause"
    CALLBACK = "callback"


class PbxActionStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    DONE = "done"
    FAILED = "failed"


class PbxAction(SQLModel, table=True):
    """What staff asked the PBX to do. The web process only writes the row; the telephony service, which
    holds the AMI link, sends it and records the result, so a request survives a link that is down."""

    __tablename__ = "pbx_action"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(sa_type=String(16))
    status: str = Field(default=PbxActionStatus.PENDING, sa_type=String(16), index=True)
    params: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    requested_by: int | None = Field(default=None, foreign_key="user.id")
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    result: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = _time(default_factory=utcnow)
    sent_at: datetime | None = _time(default=None)
    finished_at: datetime | None = _time(default=None)

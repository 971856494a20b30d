"""Turns the AMI event stream into call records and agent states, in memory.

The tracker is pure: it knows nothing of sockets or the database. The service feeds it events, then
`telephony.store` writes what changed (dirty calls and members, screen pops, finished calls) in one
transaction per batch. Event names and headers follow ../shared/contracts/asterisk-ami.md (Asterisk 20).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from telephony.models import AgentState, Outcome

Event = Mapping[str, str]

# QueueMemberStatus.Status (ast_device_state): 1 not in use, 2 in use, 3 busy, 4 invalid, 5 unavailable,
# 6 ringing, 7 ring in use, 8 on hold
_DEVICE_STATES = {
    "1": AgentState.AVAILABLE,
    "2": AgentState.ON_CALL,
    "3": AgentState.ON_CALL,
    "4": AgentState.LOGGED_OUT,
    "5": AgentState.LOGGED_OUT,
    "6": AgentState.RINGING,
    "7": AgentState.ON_CALL,
    "8": AgentState.ON_CALL,
}
NOT_ANSWERED_EXITS = {"TIMEOUT", "LEAVEEMPTY", "JOINEMPTY", "FULL", "LEAVEUNAVAIL"}
_CHANNEL_SUFFIX = re.compile(r"-[0-9a-f]+(;\d)?$")


def interface_of(channel: str) -> str:
    """'PJSIP/agent101-0000002a' → 'PJSIP/agent101'."""
    return _CHANNEL_SUFFIX.sub("", channel)


def event_time(event: Event, received_at: datetime) -> datetime:
    """Asterisk's own time when manager.conf has timestampevents=yes, else when we read the event."""
    stamp = event.get("Timestamp")
    if stamp:
        try:
            return datetime.fromtimestamp(float(stamp), tz=UTC)
        except ValueError:
            pass
    return received_at


def _known(value: str | None) -> str | None:
    return None if value in (None, "", "<unknown>") else value


def _seconds(value: str | None, *, millis: bool = False) -> int | None:
    try:
        number = float(value or "")
    except ValueError:
        return None
    return round(number / 1000 if millis else number)


@dataclass
class CallState:
    uniqueid: str
    linkedid: str
    started_at: datetime
    channel: str | None = None
    caller_number: str | None = None
    caller_name: str | None = None
    queue: str | None = None
    outcome: str = Outcome.IN_PROGRESS
    queue_exit: str | None = None
    agent_interface: str | None = None
    agents_rung: int = 0
    transferred_to: str | None = None
    ended_by: str | None = None
    entered_at: datetime | None = None
    first_ring_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    wait_seconds: int | None = None
    ring_seconds: int | None = None
    talk_seconds: int | None = None
    hangup_cause: str | None = None
    recording_file: str | None = None
    voicemail_file: str | None = None
    after_hours: bool = False
    recovered: bool = False
    ringing: set[str] = field(default_factory=set)

    def finish(self, at: datetime) -> None:
        self.ended_at = self.ended_at or at
        if self.outcome == Outcome.IN_PROGRESS:
            if self.answered_at is not None:
                self.outcome = Outcome.ANSWERED
            elif self.after_hours:
                self.outcome = Outcome.AFTER_HOURS
            else:
                self.outcome = Outcome.ABANDONED
                self.queue_exit = self.queue_exit or ("caller" if self.entered_at else "ivr")
        if self.answered_at is not None and self.talk_seconds is None:
            self.talk_seconds = max(0, round((self.ended_at - self.answered_at).total_seconds()))
        if self.entered_at is not None and self.wait_seconds is None:
            until = self.answered_at or self.ended_at
            self.wait_seconds = max(0, round((until - self.entered_at).total_seconds()))


@dataclass
class MemberState:
    interface: str
    member_name: str | None = None
    state: str = AgentState.LOGGED_OUT
    paused_reason: str | None = None
    wrap_up_until: datetime | None = None
    current_call: str | None = None
    state_since: datetime | None = None


@dataclass(frozen=True)
class Ring:
    """A call started (or stopped) ringing a member: the screen pop, or its withdrawal."""

    interface: str
    uniqueid: str
    ringing: bool


@dataclass
class Channel:
    uniqueid: str
    linkedid: str
    name: str
    caller_number: str | None
    caller_name: str | None
    started_at: datetime


class Tracker:
    def __init__(self, *, inbound_contexts: Iterable[str], hotline: str, wrap_up_seconds: int = 10) -> None:
        self.inbound_contexts = set(inbound_contexts)
        self.hotline = hotline
        self.wrap_up = timedelta(seconds=wrap_up_seconds)
        self.calls: dict[str, CallState] = {}
        self.linked: dict[str, str] = {}  # linkedid → the caller leg's uniqueid
        self.channels: dict[str, Channel] = {}
        self.members: dict[str, MemberState] = {}
        self.dirty_calls: set[str] = set()
        self.dirty_members: set[str] = set()
        self.rings: list[Ring] = []
        self.finished: list[CallState] = []

    # -- feeding -------------------------------------------------------------------------------------

    def feed(self, event: Event, received_at: datetime) -> None:
        handler = self._HANDLERS.get(event.get("Event", ""))
        if handler is not None:
            handler(self, event, event_time(event, received_at))

    def take_changes(self) -> tuple[list[CallState], list[MemberState], list[Ring], list[CallState]]:
        """What changed since the last call: dirty calls, dirty members, rings and finished calls."""
        calls = [self.calls[u] for u in self.dirty_calls if u in self.calls]
        calls += [c for c in self.finished if c.uniqueid not in self.calls]
        members = [self.members[i] for i in self.dirty_members]
        rings, finished = self.rings, self.finished
        self.dirty_calls, self.dirty_members, self.rings, self.finished = set(), set(), [], []
        return calls, members, rings, finished

    def adopt(self, call: CallState) -> None:
        """Take over a call that was in progress when the service (re)started."""
        self.calls[call.uniqueid] = call
        self.linked[call.linkedid] = call.uniqueid

    # -- calls ---------------------------------------------------------------------------------------

    def is_inbound(self, event: Event) -> bool:
        return event.get("Uniqueid") == event.get("Linkedid") and (
            event.get("Context") in self.inbound_contexts or event.get("Exten") == self.hotline
        )

    def _on_newchannel(self, event: Event, at: datetime) -> None:
        uniqueid = event.get("Uniqueid", "")
        self.channels[uniqueid] = Channel(
            uniqueid=uniqueid,
            linkedid=event.get("Linkedid", uniqueid),
            name=event.get("Channel", ""),
            caller_number=_known(event.get("CallerIDNum")),
            caller_name=_known(event.get("CallerIDName")),
            started_at=at,
        )
        if self.is_inbound(event):
            self._call(uniqueid, at)

    def _call(self, uniqueid: str, at: datetime, event: Event | None = None) -> CallState:
        call = self.calls.get(uniqueid)
        if call is None:
            channel = self.channels.get(uniqueid)
            linkedid = (event or {}).get("Linkedid") or (channel.linkedid if channel else uniqueid)
            call = CallState(
                uniqueid=uniqueid, linkedid=linkedid, started_at=channel.started_at if channel else at
            )
            if channel is not None:
                call.channel, call.caller_number, call.caller_name = (
                    channel.name,
                    channel.caller_number,
                    channel.caller_name,
                )
            self.calls[uniqueid] = call
            self.linked[linkedid] = uniqueid
        if event is not None:
            call.caller_number = call.caller_number or _known(event.get("CallerIDNum"))
            call.caller_name = call.caller_name or _known(event.get("CallerIDName"))
            call.channel = call.channel or _known(event.get("Channel"))
        self.dirty_calls.add(uniqueid)
        return call

    def _call_of_linked(self, linkedid: str | None) -> CallState | None:
        uniqueid = self.linked.get(linkedid or "")
        return self.calls.get(uniqueid) if uniqueid else None

    def _on_queue_join(self, event: Event, at: datetime) -> None:
        call = self._call(event.get("Uniqueid", ""), at, event)
        call.queue = event.get("Queue")
        call.entered_at = call.entered_at or at

    def _on_agent_called(self, event: Event, at: datetime) -> None:
        call = self._call(event.get("Uniqueid", ""), at, event)
        interface = event.get("Interface", "")
        call.queue = call.queue or event.get("Queue")
        call.agents_rung += 1
        call.first_ring_at = call.first_ring_at or at
        call.ringing.add(interface)
        self.rings.append(Ring(interface, call.uniqueid, True))
        self._set_member(interface, AgentState.RINGING, at, name=event.get("MemberName"))

    def _on_ring_no_answer(self, event: Event, at: datetime) -> None:
        interface = event.get("Interface", "")
        call = self.calls.get(event.get("Uniqueid", ""))
        if call is not None and interface in call.ringing:
            call.ringing.discard(interface)
            self.rings.append(Ring(interface, call.uniqueid, False))
        member = self.members.get(interface)
        if member is not None and member.state == AgentState.RINGING:
            self._set_member(interface, AgentState.AVAILABLE, at)

    def _on_agent_connect(self, event: Event, at: datetime) -> None:
        call = self._call(event.get("Uniqueid", ""), at, event)
        interface = event.get("Interface", "")
        call.agent_interface = interface
        call.answered_at = at
        call.wait_seconds = _seconds(event.get("HoldTime"))
        call.ring_seconds = _seconds(event.get("RingTime"))
        for other in sorted(call.ringing - {interface}):
            self.rings.append(Ring(other, call.uniqueid, False))
        call.ringing.clear()
        member = self._set_member(interface, AgentState.ON_CALL, at, name=event.get("MemberName"))
        member.current_call = call.uniqueid

    def _on_abandon(self, event: Event, at: datetime) -> None:
        call = self._call(event.get("Uniqueid", ""), at, event)
        call.outcome = Outcome.ABANDONED
        call.queue_exit = call.queue_exit or "caller"
        call.wait_seconds = _seconds(event.get("HoldTime"))
        for interface in sorted(call.ringing):
            self.rings.append(Ring(interface, call.uniqueid, False))
        call.ringing.clear()

    def _on_varset(self, event: Event, at: datetime) -> None:
        variable, value = event.get("Variable", ""), event.get("Value", "")
        call = self._call_of_linked(event.get("Linkedid"))
        if call is None:
            return
        if variable == "QUEUESTATUS" and value in NOT_ANSWERED_EXITS and call.answered_at is None:
            call.queue_exit = value.lower()
            self.dirty_calls.add(call.uniqueid)
        elif variable == "MIXMONITOR_FILENAME" and value:
            call.recording_file = value
            self.dirty_calls.add(call.uniqueid)

    def _on_user_event(self, event: Event, at: datetime) -> None:
        kind = event.get("UserEvent", "")
        if kind == "CivicDeskRecording":
            call = self._call_of_linked(event.get("Linkedid"))
            if call is not None and event.get("File"):
                call.recording_file = event["File"]
                self.dirty_calls.add(call.uniqueid)
        elif kind == "CivicDeskAfterHours":
            self._call(event.get("Uniqueid", ""), at, event).after_hours = True
        elif kind == "CivicDeskVoicemail":
            call = self._call(event.get("Uniqueid", ""), at, event)
            call.outcome = Outcome.VOICEMAIL
            call.voicemail_file = _known(event.get("File"))

    def _on_blind_transfer(self, event: Event, at: datetime) -> None:
        call = self._call_of_linked(event.get("TransfererLinkedid"))
        if call is not None:
            call.transferred_to = event.get("Extension")
            if call.answered_at is not None:
                call.outcome = Outcome.TRANSFERRED
            self.dirty_calls.add(call.uniqueid)

    def _on_agent_complete(self, event: Event, at: datetime) -> None:
        call = self.calls.get(event.get("Uniqueid", ""))
        interface = event.get("Interface", "")
        if call is not None:
            call.talk_seconds = _seconds(event.get("TalkTime"))
            call.ended_by = event.get("Reason")
            if call.ended_by == "transfer":
                call.outcome = Outcome.TRANSFERRED
            self.dirty_calls.add(call.uniqueid)
        member = self._set_member(interface, AgentState.WRAP_UP, at)
        member.wrap_up_until = at + self.wrap_up
        member.current_call = None

    def _on_hangup(self, event: Event, at: datetime) -> None:
        uniqueid = event.get("Uniqueid", "")
        self.channels.pop(uniqueid, None)
        call = self.calls.get(uniqueid)
        if call is None:
            return
        cause = _known(event.get("Cause-txt")) or _known(event.get("Cause"))
        call.hangup_cause = cause
        self.end_call(call, at)

    def end_call(self, call: CallState, at: datetime) -> None:
        for interface in sorted(call.ringing):
            self.rings.append(Ring(interface, call.uniqueid, False))
        call.ringing.clear()
        call.finish(at)
        self.calls.pop(call.uniqueid, None)
        self.linked.pop(call.linkedid, None)
        self.dirty_calls.discard(call.uniqueid)
        self.finished.append(call)

    # -- members -------------------------------------------------------------------------------------

    def _member(self, interface: str) -> MemberState:
        member = self.members.get(interface)
        if member is None:
            member = self.members[interface] = MemberState(interface=interface)
        self.dirty_members.add(interface)
        return member

    def _set_member(
        self, interface: str, state: str, at: datetime, *, name: str | None = None
    ) -> MemberState:
        member = self._member(interface)
        member.member_name = name or member.member_name
        if member.state == AgentState.PAUSED and state == AgentState.AVAILABLE:
            return member  # a paused member stays paused however its phone's state changes
        if state == AgentState.AVAILABLE and member.wrap_up_until and at < member.wrap_up_until:
            state = AgentState.WRAP_UP
        if member.state != state:
            member.state, member.state_since = state, at
        return member

    def _on_member_status(self, event: Event, at: datetime) -> None:
        interface = event.get("Interface") or event.get("Location") or ""
        member = self._member(interface)
        member.member_name = event.get("MemberName") or event.get("Name") or member.member_name
        device_state = _DEVICE_STATES.get(event.get("Status", ""), AgentState.LOGGED_OUT)
        if event.get("Paused") == "1" and device_state == AgentState.AVAILABLE:
            member.paused_reason = _known(event.get("PausedReason"))
            if member.state != AgentState.PAUSED:
                member.state, member.state_since = AgentState.PAUSED, at
            return
        if event.get("Paused") == "0" and member.state == AgentState.PAUSED:
            member.state, member.paused_reason = AgentState.AVAILABLE, None
        if device_state == AgentState.AVAILABLE and member.state == AgentState.WRAP_UP:
            if member.wrap_up_until and at < member.wrap_up_until:
                return
        self._set_member(interface, device_state, at)

    def _on_member_pause(self, event: Event, at: datetime) -> None:
        member = self._member(event.get("Interface", ""))
        if event.get("Paused") == "1":
            member.paused_reason = _known(event.get("PausedReason") or event.get("Reason"))
            if member.state in (AgentState.AVAILABLE, AgentState.WRAP_UP, AgentState.LOGGED_OUT):
                member.state, member.state_since = AgentState.PAUSED, at
        elif member.state == AgentState.PAUSED:
            member.state, member.paused_reason, member.state_since = AgentState.AVAILABLE, None, at

    def _on_member_added(self, event: Event, at: datetime) -> None:
        self._on_member_status(event, at)

    def _on_member_removed(self, event: Event, at: datetime) -> None:
        member = self._member(event.get("Interface", ""))
        member.state, member.state_since, member.paused_reason = AgentState.LOGGED_OUT, at, None

    _HANDLERS = {
        "Newchannel": _on_newchannel,
        "QueueCallerJoin": _on_queue_join,
        "AgentCalled": _on_agent_called,
        "AgentRingNoAnswer": _on_ring_no_answer,
        "AgentConnect": _on_agent_connect,
        "QueueCallerAbandon": _on_abandon,
        "VarSet": _on_varset,
        "UserEvent": _on_user_event,
        "BlindTransfer": _on_blind_transfer,
        "AgentComplete": _on_agent_complete,
        "Hangup": _on_hangup,
        "QueueMemberStatus": _on_member_status,
        "QueueMember": _on_member_status,
        "QueueMemberPause": _on_member_pause,
        "QueueMemberAdded": _on_member_added,
        "QueueMemberRemoved": _on_member_removed,
    }


def effective_state(state: str, wrap_up_until: datetime | None, now: datetime) -> str:
    if state == AgentState.WRAP_UP and (wrap_up_until is None or now >= wrap_up_until):
        return AgentState.AVAILABLE
    return state

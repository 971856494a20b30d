"""After every (re)connect: reconcile the tracker with what Asterisk says is happening now.

`QueueStatus` gives the members (with `LastCall`, the epoch when each last finished a call) and the callers
waiting (`QueueEntry` with `Wait`); `CoreShowChannels` gives every live channel with its `Duration`.
Calls we were following that have no channel any more ended while the link was down; channels of calls we
never saw started while it was down. Times that AMI cannot give exactly are estimated from these figures
and the record is marked `recovered`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from telephony.tracker import CallState, Event, Tracker, interface_of


def _duration(value: str | None) -> timedelta:
    """CoreShowChannel's Duration is HH:MM:SS."""
    try:
        hours, minutes, seconds = (int(part) for part in (value or "").split(":"))
    except ValueError:
        return timedelta(0)
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def _epoch(value: str | None) -> datetime | None:
    try:
        number = float(value or "")
    except ValueError:
        return None
    return datetime.fromtimestamp(number, tz=UTC) if number > 0 else None


def resync(tracker: Tracker, queue_status: Sequence[Event], channels: Sequence[Event], now: datetime) -> None:
    members = [e for e in queue_status if e.get("Event") == "QueueMember"]
    for member in members:
        tracker.feed(member, now)
    last_call = {m.get("Interface") or m.get("Location") or "": _epoch(m.get("LastCall")) for m in members}
    live = {e.get("Uniqueid", ""): e for e in channels if e.get("Event") == "CoreShowChannel"}
    _end_vanished_calls(tracker, live, last_call, now)
    waiting = {e.get("Uniqueid", ""): e for e in queue_status if e.get("Event") == "QueueEntry"}
    _adopt_unknown_calls(tracker, live, waiting, now)


def _end_vanished_calls(
    tracker: Tracker, live: dict[str, Event], last_call: dict[str, datetime | None], now: datetime
) -> None:
    for call in list(tracker.calls.values()):
        if call.uniqueid in live:
            continue
        call.recovered = True
        ended = now
        if call.agent_interface and call.answered_at:
            finished = last_call.get(call.agent_interface)
            if finished is not None and finished >= call.answered_at:
                ended = finished
        tracker.end_call(call, ended)


def _adopt_unknown_calls(
    tracker: Tracker, live: dict[str, Event], waiting: dict[str, Event], now: datetime
) -> None:
    legs: dict[str, list[Event]] = defaultdict(list)
    for channel in live.values():
        legs[channel.get("Linkedid", "")].append(channel)
    for uniqueid, channel in live.items():
        if uniqueid in tracker.calls or not tracker.is_inbound(channel):
            continue
        call = CallState(
            uniqueid=uniqueid,
            linkedid=channel.get("Linkedid", uniqueid),
            started_at=now - _duration(channel.get("Duration")),
            channel=channel.get("Channel"),
            caller_number=channel.get("CallerIDNum"),
            caller_name=channel.get("CallerIDName"),
            recovered=True,
        )
        entry = waiting.get(uniqueid)
        if entry is not None:
            call.queue = entry.get("Queue")
            call.entered_at = now - timedelta(seconds=int(entry.get("Wait", "0") or 0))
        agent_leg = _bridged_agent_leg(channel, legs[call.linkedid])
        if agent_leg is not None:
            call.agent_interface = interface_of(agent_leg.get("Channel", ""))
            call.answered_at = now - _duration(agent_leg.get("Duration"))
            call.queue = call.queue or _queue_of(channel)
            call.entered_at = call.entered_at or call.started_at
        tracker.adopt(call)
        tracker.dirty_calls.add(uniqueid)


def _bridged_agent_leg(caller: Event, legs: list[Event]) -> Event | None:
    bridge = caller.get("BridgeId")
    if not bridge:
        return None
    for leg in legs:
        if leg.get("Uniqueid") != caller.get("Uniqueid") and leg.get("BridgeId") == bridge:
            return leg
    return None


def _queue_of(caller: Event) -> str | None:
    if caller.get("Application") == "Queue":
        return (caller.get("ApplicationData") or "").split(",")[0] or None
    return None

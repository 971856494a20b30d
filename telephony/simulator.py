"""The simulated PBX: a small PBX model (`PbxModel`) that plays realistic app_queue event sequences on a
virtual clock and answers actions as Asterisk 20 does (../shared/contracts/asterisk-ami.md), with two ways
in: `AmiPeer`, an asyncio TCP server speaking the Asterisk Manager Interface (the real listener's AMI
adapter logs in to it: `civicdesk simulate call`, the AMI tests), and the in-process adapter
`telephony.adapters.simulated.SimulatedPbx` behind the same PBX port, with no socket at all.

Wire behaviour (the TCP peer; the model's answers are the same in process): banner `Asterisk Call
Manager/9.0.0`, Login (FullyBooted on success, `Authentication failed` after 1 s on failure), `Permission
denied` before login, unknown actions, Ping/Pong, Logoff, list actions answered with `EventList: start` …
items with the ActionID … `…Complete` with `ListItems`, QueuePause (emits QueueMemberPause), Originate with
Async (`Originate successfully queued`, then an `OriginateResponse` carrying the ActionID). Events carry
`Timestamp` (timestampevents=yes) and are written in small chunks so that multi-byte UTF-8 characters are
split across TCP reads.

The PBX keeps its own state (live channels, waiting callers, members), so QueueStatus and
CoreShowChannels after a dropped link tell the truth about calls that moved while no one listened.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

BANNER = "Asterisk Call Manager/9.0.0\r\n"
START = 1_795_000_000.0  # 2026-11-19 in epoch seconds
LIST_ACTIONS = {
    "QueueStatus": "QueueStatusComplete",
    "CoreShowChannels": "CoreShowChannelsComplete",
}

Packet = list[tuple[str, str]]


def encode(packet: Packet) -> bytes:
    return ("".join(f"{k}: {v}\r\n" for k, v in packet) + "\r\n").encode("utf-8")


@dataclass
class Leg:
    uniqueid: str
    linkedid: str
    channel: str
    caller_num: str
    caller_name: str
    context: str
    exten: str
    created: float
    application: str = "AppDial"
    application_data: str = ""
    bridge: str = ""


@dataclass
class Member:
    interface: str
    name: str
    status: str = "1"
    paused: bool = False
    reason: str = ""
    calls_taken: int = 0
    last_call: float = 0.0
    in_call: bool = False


@dataclass
class PeerCall:
    caller: Leg
    queue: str = ""
    joined: float = 0.0
    agent_legs: dict[str, Leg] = field(default_factory=dict)
    answered_by: str | None = None
    answered_at: float = 0.0


class Client(Protocol):
    """Whoever the PBX talks to: a TCP connection (`AmiPeer`) or an in-process listener
    (`telephony.adapters.simulated.SimulatedPbx`)."""

    logged_in: bool

    def deliver(self, packet: Packet) -> None: ...

    async def drain(self) -> None: ...

    def abort(self) -> None: ...

    def hang_up(self) -> None: ...


class TcpClient:
    def __init__(self, writer: asyncio.StreamWriter, chunk: int) -> None:
        self.writer, self.chunk = writer, chunk
        self.logged_in = False

    def deliver(self, packet: Packet) -> None:
        data = encode(packet)
        for start in range(0, len(data), self.chunk):
            self.writer.write(data[start : start + self.chunk])

    async def drain(self) -> None:
        await self.writer.drain()

    def abort(self) -> None:
        self.writer.transport.abort()

    def hang_up(self) -> None:
        self.writer.close()


class PbxModel:
    """The simulated PBX itself: its state, the app_queue event sequences it plays and the answers it
    gives to actions, for any kind of client."""

    def __init__(self, username: str = "civicdesk", secret: str = "s3cret") -> None:  # noqa: S107
        self.username, self.secret = username, secret
        self.clock = START
        self.origin = int(START)  # the first part of every uniqueid; a live run starts it at the present
        self.clients: list[Client] = []
        self.ids = itertools.count(1)
        self.legs: dict[str, Leg] = {}
        self.calls: dict[str, PeerCall] = {}
        self.members: dict[str, Member] = {}
        self.actions_seen: list[dict[str, str]] = []
        self.logins = 0
        self.originate_reason = "4"
        self.answer_pings = True

    def drop_link(self) -> None:
        for client in list(self.clients):  # an in-process client leaves the list as it is aborted
            client.abort()
        self.clients.clear()

    async def _send(self, client: Client, packet: Packet) -> None:
        client.deliver(packet)
        await client.drain()

    def _response(self, action_id: str, status: str, message: str, *extra: tuple[str, str]) -> Packet:
        return [("Response", status), ("ActionID", action_id), ("Message", message), *extra]

    async def respond(self, client: Client, action: dict[str, str]) -> None:
        """Answer one action from ``client`` as Asterisk 20 does."""
        self.actions_seen.append(action)
        name, action_id = action.get("Action", ""), action.get("ActionID", "")
        if name == "Login":
            if action.get("Username") == self.username and action.get("Secret") == self.secret:
                client.logged_in = True
                self.logins += 1
                await self._send(client, self._response(action_id, "Success", "Authentication accepted"))
                await self._send(
                    client, self._event("FullyBooted", [("Status", "Fully Booted")], "system,all")
                )
            else:
                await asyncio.sleep(1)
                await self._send(client, self._response(action_id, "Error", "Authentication failed"))
            return
        if not client.logged_in:
            await self._send(client, self._response(action_id, "Error", "Permission denied"))
            return
        if name == "Ping":
            if self.answer_pings:
                await self._send(
                    client,
                    [
                        ("Response", "Success"),
                        ("ActionID", action_id),
                        ("Ping", "Pong"),
                        ("Timestamp", f"{self.clock:.6f}"),
                    ],
                )
        elif name == "Logoff":
            await self._send(
                client,
                [("Response", "Goodbye"), ("ActionID", action_id), ("Message", "Thanks for all the fish.")],
            )
            client.hang_up()
        elif name in LIST_ACTIONS:
            items = self._queue_status() if name == "QueueStatus" else self._core_channels()
            message = "Queue status will follow" if name == "QueueStatus" else "Channels will follow"
            await self._send(client, self._response(action_id, "Success", message, ("EventList", "start")))
            for event, headers in items:
                await self._send(client, [("Event", event), ("ActionID", action_id), *headers])
            await self._send(
                client,
                [
                    ("Event", LIST_ACTIONS[name]),
                    ("ActionID", action_id),
                    ("EventList", "Complete"),
                    ("ListItems", str(len(items))),
                ],
            )
        elif name == "QueuePause":
            member = self.members.get(action.get("Interface", ""))
            if member is None:
                await self._send(client, self._response(action_id, "Error", "Interface not found"))
                return
            await self._send(client, self._response(action_id, "Success", "Interface paused successfully"))
            self.pause(member.interface, action.get("Paused") == "true", action.get("Reason", ""))
        elif name == "Originate":
            await self._send(client, self._response(action_id, "Success", "Originate successfully queued"))
            result = "Success" if self.originate_reason == "4" else "Failure"
            await self._send(
                client,
                self._event(
                    "OriginateResponse",
                    [
                        ("ActionID", action_id),
                        ("Response", result),
                        ("Channel", action.get("Channel", "")),
                        ("Context", action.get("Context", "")),
                        ("Exten", action.get("Exten", "")),
                        ("Reason", self.originate_reason),
                        ("Uniqueid", self._uniqueid()),
                        ("CallerIDNum", action.get("Exten", "")),
                        ("CallerIDName", "<unknown>"),
                    ],
                ),
            )
        else:
            await self._send(
                client,
                self._response(
                    action_id,
                    "Error",
                    f"Invalid/unknown command: {name}. Use Action: ListCommands to show available commands.",
                ),
            )

    # -- events --------------------------------------------------------------------------------------

    def _event(self, name: str, headers: Packet, privilege: str = "call,all") -> Packet:
        return [("Event", name), ("Privilege", privilege), ("Timestamp", f"{self.clock:.6f}"), *headers]

    def emit(self, name: str, headers: Packet, privilege: str = "call,all") -> None:
        packet = self._event(name, headers, privilege)
        for client in list(self.clients):
            if client.logged_in:
                client.deliver(packet)

    async def drain(self) -> None:
        for client in list(self.clients):
            try:
                await client.drain()
            except ConnectionError:
                pass

    def advance(self, seconds: float) -> None:
        self.clock += seconds

    def _uniqueid(self) -> str:
        return f"{self.origin}.{next(self.ids)}"

    @staticmethod
    def _identity(leg: Leg, prefix: str = "") -> Packet:
        return [
            (f"{prefix}Channel", leg.channel),
            (f"{prefix}ChannelState", "6" if leg.bridge else "4"),
            (f"{prefix}ChannelStateDesc", "Up" if leg.bridge else "Ring"),
            (f"{prefix}CallerIDNum", leg.caller_num),
            (f"{prefix}CallerIDName", leg.caller_name),
            (f"{prefix}ConnectedLineNum", "<unknown>"),
            (f"{prefix}ConnectedLineName", "<unknown>"),
            (f"{prefix}Language", "vi"),
            (f"{prefix}AccountCode", ""),
            (f"{prefix}Context", leg.context),
            (f"{prefix}Exten", leg.exten),
            (f"{prefix}Priority", "1"),
            (f"{prefix}Uniqueid", leg.uniqueid),
            (f"{prefix}Linkedid", leg.linkedid),
        ]

    def _member_headers(self, member: Member, queue: str = "hotline") -> Packet:
        return [
            ("Queue", queue),
            ("MemberName", member.name),
            ("Interface", member.interface),
            ("StateInterface", member.interface),
            ("Membership", "static"),
            ("Penalty", "0"),
            ("CallsTaken", str(member.calls_taken)),
            ("LastCall", str(int(member.last_call))),
            ("LastPause", "0"),
            ("InCall", "1" if member.in_call else "0"),
            ("Status", member.status),
            ("Paused", "1" if member.paused else "0"),
            ("PausedReason", member.reason),
            ("Ringinuse", "0"),
        ]

    def _member_status(self, member: Member) -> None:
        self.emit("QueueMemberStatus", self._member_headers(member), "agent,all")

    # -- the PBX model -------------------------------------------------------------------------------

    def add_member(self, interface: str, name: str) -> None:
        member = self.members[interface] = Member(interface=interface, name=name)
        self.emit("QueueMemberAdded", self._member_headers(member), "agent,all")

    def pause(self, interface: str, paused: bool, reason: str = "") -> None:
        member = self.members[interface]
        member.paused, member.reason = paused, reason if paused else ""
        headers = self._member_headers(member)
        self.emit("QueueMemberPause", headers, "agent,all")

    def incoming(self, number: str, name: str = "<unknown>", trunk: str = "PJSIP/viettel") -> str:
        uniqueid = self._uniqueid()
        leg = Leg(
            uniqueid=uniqueid,
            linkedid=uniqueid,
            channel=f"{trunk}-{next(self.ids):08x}",
            caller_num=number,
            caller_name=name,
            context="from-pstn",
            exten="19009113",
            created=self.clock,
            application="BackGround",
        )
        self.legs[uniqueid] = leg
        self.calls[uniqueid] = PeerCall(caller=leg)
        self.emit("Newchannel", self._identity(leg))
        self.emit("Newstate", self._identity(leg))
        self.emit(
            "VarSet",
            [*self._identity(leg), ("Variable", "CHANNEL(language)"), ("Value", "vi")],
            "dialplan,all",
        )
        self.emit(
            "NewExten",
            [
                *self._identity(leg),
                ("Extension", "19009113"),
                ("Application", "BackGround"),
                ("AppData", "civicdesk/welcome"),
            ],
            "dialplan,all",
        )
        return uniqueid

    def join(self, uniqueid: str, queue: str = "hotline") -> None:
        call = self.calls[uniqueid]
        call.queue, call.joined = queue, self.clock
        call.caller.application, call.caller.application_data = "Queue", f"{queue},t,,,300"
        waiting = sum(1 for c in self.calls.values() if c.queue == queue and not c.answered_by)
        self.emit(
            "QueueCallerJoin",
            [
                *self._identity(call.caller),
                ("Queue", queue),
                ("Position", str(waiting)),
                ("Count", str(waiting)),
            ],
        )

    def ring(self, uniqueid: str, interface: str) -> None:
        call = self.calls[uniqueid]
        member = self.members[interface]
        leg = Leg(
            uniqueid=self._uniqueid(),
            linkedid=call.caller.linkedid,
            channel=f"{interface}-{next(self.ids):08x}",
            caller_num=interface.split("/")[-1],
            caller_name=member.name,
            context="from-queue",
            exten="s",
            created=self.clock,
        )
        self.legs[leg.uniqueid] = leg
        call.agent_legs[interface] = leg
        self.emit("Newchannel", self._identity(leg))
        self.emit(
            "DialBegin",
            [
                *self._identity(call.caller),
                *self._identity(leg, "Dest"),
                ("DialString", interface.split("/")[-1]),
            ],
        )
        self.emit(
            "AgentCalled",
            [
                *self._identity(call.caller),
                *self._identity(leg, "Dest"),
                ("Queue", call.queue),
                ("Interface", interface),
                ("MemberName", member.name),
            ],
            "agent,all",
        )
        member.status = "6"
        self._member_status(member)

    def no_answer(self, uniqueid: str, interface: str) -> None:
        call = self.calls[uniqueid]
        leg = call.agent_legs.pop(interface)
        member = self.members[interface]
        ring_ms = int((self.clock - leg.created) * 1000)
        self.emit(
            "AgentRingNoAnswer",
            [
                *self._identity(call.caller),
                *self._identity(leg, "Dest"),
                ("Queue", call.queue),
                ("Interface", interface),
                ("MemberName", member.name),
                ("RingTime", str(ring_ms)),
            ],
            "agent,all",
        )
        self.emit(
            "DialEnd",
            [*self._identity(call.caller), *self._identity(leg, "Dest"), ("DialStatus", "NOANSWER")],
        )
        self._hangup_leg(leg, "19", "No user responding")
        member.status = "1"
        self._member_status(member)

    def answer(self, uniqueid: str, interface: str) -> None:
        call = self.calls[uniqueid]
        leg = call.agent_legs[interface]
        member = self.members[interface]
        hold, ring = round(self.clock - call.joined), round(self.clock - leg.created)
        call.answered_by, call.answered_at = interface, self.clock
        bridge = f"bridge-{next(self.ids)}"
        leg.bridge = call.caller.bridge = bridge
        self.emit(
            "DialEnd", [*self._identity(call.caller), *self._identity(leg, "Dest"), ("DialStatus", "ANSWER")]
        )
        self.emit(
            "QueueCallerLeave",
            [*self._identity(call.caller), ("Queue", call.queue), ("Position", "1"), ("Count", "0")],
        )
        self.emit(
            "AgentConnect",
            [
                *self._identity(call.caller),
                *self._identity(leg, "Dest"),
                ("Queue", call.queue),
                ("Interface", interface),
                ("MemberName", member.name),
                ("HoldTime", str(hold)),
                ("RingTime", str(ring)),
            ],
            "agent,all",
        )
        self.emit("BridgeCreate", [("BridgeUniqueid", bridge), ("BridgeType", "basic")])
        self.emit("BridgeEnter", [("BridgeUniqueid", bridge), *self._identity(call.caller)])
        self.emit("BridgeEnter", [("BridgeUniqueid", bridge), *self._identity(leg)])
        member.status, member.in_call = "2", True
        self._member_status(member)
        for other, other_leg in list(call.agent_legs.items()):
            if other != interface:
                self.no_answer(uniqueid, other)
                del other_leg

    def recording(self, uniqueid: str, file: str) -> None:
        call = self.calls[uniqueid]
        self.emit(
            "VarSet",
            [*self._identity(call.caller), ("Variable", "MIXMONITOR_FILENAME"), ("Value", file)],
            "dialplan,all",
        )

    def _hangup_leg(self, leg: Leg, cause: str = "16", text: str = "Normal Clearing") -> None:
        self.legs.pop(leg.uniqueid, None)
        self.emit("Hangup", [*self._identity(leg), ("Cause", cause), ("Cause-txt", text)])

    def _complete(self, call: PeerCall, reason: str) -> None:
        interface = call.answered_by or ""
        member = self.members[interface]
        leg = call.agent_legs.pop(interface)
        talk = round(self.clock - call.answered_at)
        hold = round(call.answered_at - call.joined)
        self.emit("BridgeLeave", [("BridgeUniqueid", leg.bridge), *self._identity(leg)])
        self.emit(
            "AgentComplete",
            [
                *self._identity(call.caller),
                *self._identity(leg, "Dest"),
                ("Queue", call.queue),
                ("Interface", interface),
                ("MemberName", member.name),
                ("HoldTime", str(hold)),
                ("TalkTime", str(talk)),
                ("Reason", reason),
            ],
            "agent,all",
        )
        self._hangup_leg(leg)
        member.status, member.in_call = "1", False
        member.calls_taken += 1
        member.last_call = self.clock
        self._member_status(member)

    def hangup(self, uniqueid: str, by: str = "caller") -> None:
        call = self.calls.pop(uniqueid)
        if call.answered_by:
            self._complete(call, by)
        self._hangup_leg(call.caller)

    def finish_silently(self, uniqueid: str) -> None:
        """The call ends while nobody listens: only the PBX's state changes."""
        call = self.calls.pop(uniqueid)
        if call.answered_by:
            member = self.members[call.answered_by]
            member.status, member.in_call = "1", False
            member.calls_taken += 1
            member.last_call = self.clock
            self.legs.pop(call.agent_legs[call.answered_by].uniqueid, None)
        self.legs.pop(uniqueid, None)

    def abandon(self, uniqueid: str) -> None:
        call = self.calls.pop(uniqueid)
        for interface in list(call.agent_legs):
            self.no_answer_quietly(call, interface)
        hold = round(self.clock - call.joined)
        self.emit(
            "QueueCallerAbandon",
            [
                *self._identity(call.caller),
                ("Queue", call.queue),
                ("Position", "1"),
                ("OriginalPosition", "1"),
                ("HoldTime", str(hold)),
            ],
        )
        self.emit(
            "QueueCallerLeave",
            [*self._identity(call.caller), ("Queue", call.queue), ("Position", "1"), ("Count", "0")],
        )
        self._hangup_leg(call.caller)

    def no_answer_quietly(self, call: PeerCall, interface: str) -> None:
        leg = call.agent_legs.pop(interface)
        self._hangup_leg(leg, "26", "Answered elsewhere")
        member = self.members[interface]
        member.status = "1"
        self._member_status(member)

    def blind_transfer(self, uniqueid: str, extension: str) -> None:
        call = self.calls[uniqueid]
        leg = call.agent_legs[call.answered_by or ""]
        self.emit(
            "BlindTransfer",
            [
                ("Result", "Success"),
                *self._identity(leg, "Transferer"),
                *self._identity(call.caller, "Transferee"),
                ("IsExternal", "No"),
                ("Context", "from-internal"),
                ("Extension", extension),
            ],
        )
        self._complete(call, "transfer")
        call.answered_by = None
        call.caller.bridge = ""

    def end_after_transfer(self, uniqueid: str) -> None:
        call = self.calls.pop(uniqueid)
        self._hangup_leg(call.caller)

    def after_hours_voicemail(self, number: str, name: str, file: str | None) -> str:
        uniqueid = self.incoming(number, name)
        call = self.calls[uniqueid]
        self.emit(
            "UserEvent", [*self._identity(call.caller), ("UserEvent", "CivicDeskAfterHours")], "user,all"
        )
        if file is not None:
            self.advance(40)
            self.emit(
                "UserEvent",
                [
                    *self._identity(call.caller),
                    ("UserEvent", "CivicDeskVoicemail"),
                    ("File", file),
                    ("Mailbox", "9113@civicdesk"),
                ],
                "user,all",
            )
        self.advance(2)
        self.calls.pop(uniqueid)
        self._hangup_leg(call.caller)
        return uniqueid

    # -- list actions --------------------------------------------------------------------------------

    def _queue_status(self) -> list[tuple[str, Packet]]:
        items: list[tuple[str, Packet]] = [
            (
                "QueueParams",
                [
                    ("Queue", "hotline"),
                    ("Max", "0"),
                    ("Strategy", "rrmemory"),
                    ("Calls", str(self._waiting_count())),
                    ("Holdtime", "0"),
                    ("TalkTime", "0"),
                    ("Completed", "0"),
                    ("Abandoned", "0"),
                    ("ServiceLevel", "20"),
                    ("ServicelevelPerf", "0.0"),
                ],
            )
        ]
        items += [("QueueMember", self._member_headers(m)) for m in self.members.values()]
        position = 0
        for call in self.calls.values():
            if call.queue and not call.answered_by:
                position += 1
                items.append(
                    (
                        "QueueEntry",
                        [
                            ("Queue", call.queue),
                            ("Position", str(position)),
                            ("Channel", call.caller.channel),
                            ("Uniqueid", call.caller.uniqueid),
                            ("CallerIDNum", call.caller.caller_num),
                            ("CallerIDName", call.caller.caller_name),
                            ("ConnectedLineNum", "<unknown>"),
                            ("ConnectedLineName", "<unknown>"),
                            ("Wait", str(round(self.clock - call.joined))),
                            ("Priority", "0"),
                        ],
                    )
                )
        return items

    def _waiting_count(self) -> int:
        return sum(1 for c in self.calls.values() if c.queue and not c.answered_by)

    def _core_channels(self) -> list[tuple[str, Packet]]:
        items: list[tuple[str, Packet]] = []
        for leg in self.legs.values():
            seconds = int(self.clock - leg.created)
            duration = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
            items.append(
                (
                    "CoreShowChannel",
                    [
                        *self._identity(leg),
                        ("Application", leg.application),
                        ("ApplicationData", leg.application_data),
                        ("Duration", duration),
                        ("BridgeId", leg.bridge),
                    ],
                )
            )
        return items

    def live_uniqueids(self) -> Iterator[str]:
        return iter(self.legs)


class AmiPeer(PbxModel):
    """The PBX model served over TCP as an AMI protocol peer: the real listener (panoramisk) logs in to it."""

    def __init__(self, username: str = "civicdesk", secret: str = "s3cret", chunk: int = 7) -> None:  # noqa: S107
        super().__init__(username, secret)
        self.chunk = chunk
        self.server: asyncio.Server | None = None
        self.port = 0

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.server = await asyncio.start_server(self._serve, host, port)
        self.port = self.server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        self.drop_link()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = TcpClient(writer, self.chunk)
        self.clients.append(client)
        writer.write(BANNER.encode())
        try:
            while True:
                raw = await reader.readuntil(b"\r\n\r\n")
                await self.respond(client, parse(raw.decode("utf-8")))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            if client in self.clients:
                self.clients.remove(client)
            writer.close()


def parse(text: str) -> dict[str, str]:
    action: dict[str, str] = {}
    for line in text.split("\r\n"):
        if ": " in line:
            key, value = line.split(": ", 1)
            action[key] = value
    return action


# -- a live run: `civicdesk simulate call` ---------------------------------------------------------------


async def wait_for_listener(peer: PbxModel, seconds: float) -> bool:
    """True once a client (the telephony listener) has logged in and asked for the queue status."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while loop.time() < deadline:
        if any(c.logged_in for c in peer.clients) and any(
            a.get("Action") == "QueueStatus" for a in peer.actions_seen
        ):
            return True
        await asyncio.sleep(0.1)
    return False


async def play_call(
    peer: PbxModel,
    *,
    number: str,
    name: str,
    interface: str,
    ring_seconds: float,
    talk_seconds: float,
) -> str:
    """A hotline call on the present clock: the caller dials in and waits in the queue, the agent's phone
    at ``interface`` rings and answers, they talk, the caller hangs up. Returns the call's uniqueid."""
    loop = asyncio.get_running_loop()

    async def step(seconds: float) -> None:
        await peer.drain()
        await asyncio.sleep(seconds)
        peer.clock = loop.time() - start + origin

    start, origin = loop.time(), time.time()
    peer.clock = origin
    uniqueid = peer.incoming(number, name)
    peer.join(uniqueid)
    await step(0.5)
    peer.ring(uniqueid, interface)
    await step(ring_seconds)
    peer.answer(uniqueid, interface)
    await step(talk_seconds)
    peer.hangup(uniqueid)
    await peer.drain()
    return uniqueid


async def play_voicemail(peer: PbxModel, *, number: str, name: str, file: str) -> str:
    """An after-hours caller leaves a message in ``file``: the dialplan's CivicDeskAfterHours and
    CivicDeskVoicemail user events, then the hang-up. Returns the call's uniqueid."""
    peer.clock = time.time()
    uniqueid = peer.after_hours_voicemail(number, name, file)
    await peer.drain()
    return uniqueid

"""The PBX port's contract, one set of tests run against both adapters: the real AMI adapter (panoramisk)
logged in over TCP to the AMI protocol peer (`telephony.simulator.AmiPeer`), and the simulated adapter
reaching the same PBX model in process. Both must log in, hand over the model's events in order, answer
single, list and asynchronous actions alike, reconnect after a dropped link and stay down after close;
and the telephony listener must record the same call through either."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy.engine import Engine
from sqlmodel import select

from civicdesk.cli import main
from kernel.db import unit_of_work
from kernel.settings import Settings, get_settings
from telephony.adapters import pbx_for
from telephony.adapters.ami import AmiPbx
from telephony.adapters.simulated import SimulatedPbx
from telephony.models import Call, QueueMember
from telephony.ports import Event, Pbx
from telephony.service import TelephonyService
from telephony.simulator import START, AmiPeer, PbxModel
from tickets.staff import create_user

ADAPTERS = ["ami", "simulator"]
SAFETY = 10  # seconds: only so that a broken adapter fails instead of hanging


@dataclass
class Link:
    """A PBX adapter logged in to a simulated PBX, and what it reported."""

    model: PbxModel
    pbx: Pbx
    events: list[Event] = field(default_factory=list)
    logins: asyncio.Queue[None] = field(default_factory=asyncio.Queue)
    disconnects: list[object] = field(default_factory=list)

    async def logged_in(self) -> None:
        await asyncio.wait_for(self.logins.get(), SAFETY)

    async def sync(self) -> list[Event]:
        """Everything the PBX sent so far, once it has arrived; the sync marker itself is left out."""
        marker = f"sync-{len(self.events)}-{id(object())}"
        self.model.emit("UserEvent", [("UserEvent", "Sync"), ("Mark", marker)], "user,all")
        await self.model.drain()
        for _ in range(SAFETY * 100):
            if any(e.get("Mark") == marker for e in self.events):
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the sync marker never arrived")
        self.events = [e for e in self.events if e.get("UserEvent") != "Sync"]
        return self.events


def settings_for(kind: str, port: int = 0) -> Settings:
    return Settings(
        pbx_mode=kind,
        ami_host="127.0.0.1",
        ami_port=port,
        ami_username="civicdesk",
        ami_secret="s3cret",
        ami_ping_seconds=0.5,
    )


@asynccontextmanager
async def simulated_pbx(kind: str) -> AsyncIterator[tuple[PbxModel, Settings, Callable[[], Awaitable[None]]]]:
    """The PBX model, served over TCP for the AMI adapter or kept in process for the simulated one."""
    if kind == "ami":
        peer = AmiPeer()
        await peer.start()
        yield peer, settings_for(kind, peer.port), peer.close
    else:
        model = PbxModel()

        async def close() -> None:
            model.drop_link()

        yield model, settings_for(kind), close


@asynccontextmanager
async def link(kind: str) -> AsyncIterator[Link]:
    async with simulated_pbx(kind) as (model, settings, close_pbx):
        model.add_member("PJSIP/agent101", "Điện thoại viên 101")
        pbx = pbx_for(settings, model)
        assert isinstance(pbx, AmiPbx if kind == "ami" else SimulatedPbx)
        result = Link(model, pbx)
        pbx.subscribe(result.events.append)
        pbx.reconnect_delay = 0.1
        pbx.connect(lambda: result.logins.put_nowait(None), result.disconnects.append)
        try:
            await result.logged_in()
            yield result
        finally:
            pbx.close()
            await close_pbx()


def contract(test: Callable[[Link], Awaitable[None]]) -> Callable[[str], None]:
    """Run ``test`` on a logged-in link of the adapter named by the ``kind`` parameter."""

    @pytest.mark.parametrize("kind", ADAPTERS)
    def run(kind: str) -> None:
        async def main() -> None:
            async with link(kind) as logged_in:
                await test(logged_in)

        asyncio.run(main())

    run.__name__ = test.__name__
    run.__doc__ = test.__doc__
    return run


@contract
async def test_it_logs_in_once_and_hears_that_asterisk_booted(pbx: Link) -> None:
    assert pbx.pbx.connected and pbx.model.logins == 1
    assert [e["Event"] for e in await pbx.sync()] == ["FullyBooted"]
    assert pbx.disconnects == []


@contract
async def test_a_call_arrives_as_the_same_events_in_order(pbx: Link) -> None:
    uniqueid = pbx.model.incoming("0905123456", "Nguyễn Văn A")
    pbx.model.join(uniqueid)
    pbx.model.ring(uniqueid, "PJSIP/agent101")
    pbx.model.advance(4)
    pbx.model.answer(uniqueid, "PJSIP/agent101")
    pbx.model.advance(30)
    pbx.model.hangup(uniqueid)
    events = (await pbx.sync())[1:]  # after FullyBooted
    assert [e["Event"] for e in events] == [
        "Newchannel",
        "Newstate",
        "VarSet",
        "NewExten",
        "QueueCallerJoin",
        "Newchannel",
        "DialBegin",
        "AgentCalled",
        "QueueMemberStatus",
        "DialEnd",
        "QueueCallerLeave",
        "AgentConnect",
        "BridgeCreate",
        "BridgeEnter",
        "BridgeEnter",
        "QueueMemberStatus",
        "BridgeLeave",
        "AgentComplete",
        "Hangup",
        "QueueMemberStatus",
        "Hangup",
    ]
    first = events[0]
    assert (first["Uniqueid"], first["CallerIDName"], first["Timestamp"]) == (
        uniqueid,
        "Nguyễn Văn A",  # whole, though the TCP peer splits it across reads
        f"{START:.6f}",
    )
    assert events[11]["HoldTime"] == "4" and events[17]["TalkTime"] == "30"


@contract
async def test_a_ping_is_answered_with_the_pbx_clock(pbx: Link) -> None:
    (pong,) = await asyncio.wait_for(pbx.pbx.send({"Action": "Ping"}), SAFETY)
    assert (pong["Response"], pong["Ping"], pong["Timestamp"]) == ("Success", "Pong", f"{START:.6f}")


@contract
async def test_a_list_action_returns_its_items_up_to_complete(pbx: Link) -> None:
    caller = pbx.model.incoming("0912000111")
    pbx.model.join(caller)
    pbx.model.advance(12)
    answer = await asyncio.wait_for(pbx.pbx.send({"Action": "QueueStatus"}), SAFETY)
    assert (answer[0]["Response"], answer[0]["EventList"]) == ("Success", "start")
    assert [e["Event"] for e in answer[1:]] == [
        "QueueParams",
        "QueueMember",
        "QueueEntry",
        "QueueStatusComplete",
    ]
    assert (answer[2]["Interface"], answer[3]["Uniqueid"], answer[3]["Wait"]) == (
        "PJSIP/agent101",
        caller,
        "12",
    )
    assert answer[-1]["ListItems"] == "3"
    channels = await asyncio.wait_for(pbx.pbx.send({"Action": "CoreShowChannels"}), SAFETY)
    assert [e.get("Event") for e in channels[1:]] == ["CoreShowChannel", "CoreShowChannelsComplete"]
    assert channels[1]["Duration"] == "00:00:12"
    items = [e for e in await pbx.sync() if e.get("Event") in ("QueueMember", "CoreShowChannel")]
    assert items == []  # an action's answer is not also handed to the subscribers


@contract
async def test_an_originate_waits_for_its_outcome(pbx: Link) -> None:
    pbx.model.originate_reason = "5"
    action = {
        "Action": "Originate",
        "Channel": "PJSIP/agent101",
        "Context": "from-internal",
        "Exten": "0905123456",
        "Priority": "1",
        "Async": "true",
    }
    answer = await asyncio.wait_for(pbx.pbx.send(action), SAFETY)
    assert [m.get("Event", m.get("Message")) for m in answer] == [
        "Originate successfully queued",
        "OriginateResponse",
    ]
    assert (answer[1]["Response"], answer[1]["Reason"], answer[1]["Exten"]) == ("Failure", "5", "0905123456")


@contract
async def test_a_pause_is_answered_and_its_event_is_heard(pbx: Link) -> None:
    pause = {"Action": "QueuePause", "Interface": "PJSIP/agent101", "Paused": "true", "Reason": "Ăn trưa"}
    (answer,) = await asyncio.wait_for(pbx.pbx.send(pause), SAFETY)
    assert (answer["Response"], answer["Message"]) == ("Success", "Interface paused successfully")
    heard = [e for e in await pbx.sync() if e["Event"] == "QueueMemberPause"]
    assert [(e["Paused"], e["PausedReason"]) for e in heard] == [("1", "Ăn trưa")]
    unknown = {"Action": "QueuePause", "Interface": "PJSIP/nobody", "Paused": "true"}
    (refused,) = await asyncio.wait_for(pbx.pbx.send(unknown), SAFETY)
    assert (refused["Response"], refused["Message"]) == ("Error", "Interface not found")
    (odd,) = await asyncio.wait_for(pbx.pbx.send({"Action": "Frobnicate"}), SAFETY)
    assert odd["Response"] == "Error" and odd["Message"].startswith("Invalid/unknown command: Frobnicate")


@contract
async def test_a_dropped_link_is_reported_and_logs_in_again(pbx: Link) -> None:
    pbx.model.drop_link()
    await pbx.logged_in()
    assert len(pbx.disconnects) == 1 and pbx.model.logins == 2 and pbx.pbx.connected
    (pong,) = await asyncio.wait_for(pbx.pbx.send({"Action": "Ping"}), SAFETY)
    assert pong["Ping"] == "Pong"
    pbx.pbx.drop()  # what the listener does when a Ping goes unanswered
    await pbx.logged_in()
    assert len(pbx.disconnects) == 2 and pbx.model.logins == 3


@contract
async def test_after_close_it_stays_down(pbx: Link) -> None:
    pbx.pbx.close()
    for _ in range(SAFETY * 100):
        if not pbx.pbx.connected:
            break
        await asyncio.sleep(0.01)
    assert not pbx.pbx.connected and pbx.disconnects == []
    with pytest.raises(ConnectionError):
        await pbx.pbx.send({"Action": "Ping"})
    assert pbx.model.logins == 1


@pytest.mark.parametrize("kind", ADAPTERS)
def test_a_refused_login_closes_the_link_and_is_tried_again(kind: str) -> None:
    async def main() -> None:
        async with simulated_pbx(kind) as (model, settings, close_pbx):
            pbx = pbx_for(settings.model_copy(update={"ami_secret": "wrong"}), model)
            logins: list[None] = []
            disconnects: list[object] = []
            pbx.reconnect_delay = 0.1
            pbx.connect(lambda: logins.append(None), disconnects.append)
            try:
                for _ in range(SAFETY * 100):
                    if len(disconnects) >= 2:
                        break
                    await asyncio.sleep(0.01)
            finally:
                pbx.close()
                await close_pbx()
            tries = [a for a in model.actions_seen if a.get("Action") == "Login"]
            assert len(disconnects) >= 2 and len(tries) >= 2
            assert logins == [] and model.logins == 0 and not pbx.connected

    asyncio.run(main())


# -- the listener on either adapter ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ADAPTERS)
def test_the_listener_records_the_same_call_through_either_adapter(engine: Engine, kind: str) -> None:
    with unit_of_work(engine) as session:
        user = create_user(session, username="agent101", password="secret-pass", role="agent")
        session.add(QueueMember(interface="PJSIP/agent101", user_id=user.id, extension="101"))
        user_id = user.id

    async def main() -> str:
        async with simulated_pbx(kind) as (model, settings, close_pbx):
            model.add_member("PJSIP/agent101", "Điện thoại viên 101")
            service = TelephonyService(engine, settings, pbx=pbx_for(settings, model))
            task = asyncio.ensure_future(service.run())
            try:
                await asyncio.wait_for(service.ready.wait(), SAFETY)
                uniqueid = model.incoming("0905123456", "Nguyễn Văn A")
                model.advance(3)
                model.join(uniqueid)
                model.ring(uniqueid, "PJSIP/agent101")
                model.advance(5)
                model.answer(uniqueid, "PJSIP/agent101")
                model.advance(40)
                model.hangup(uniqueid)
                await until_written(engine, uniqueid, service)
                return uniqueid
            finally:
                service.stop()
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                await close_pbx()

    uniqueid = asyncio.run(main())
    with unit_of_work(engine) as session:
        call = session.exec(select(Call).where(Call.uniqueid == uniqueid)).one()
        t0 = datetime.fromtimestamp(START, tz=UTC)
        assert (call.outcome, call.caller_name, call.agent_user_id) == ("answered", "Nguyễn Văn A", user_id)
        assert (call.started_at, call.answered_at, call.ended_at) == (
            t0,
            t0 + timedelta(seconds=8),
            t0 + timedelta(seconds=48),
        )
        assert (call.wait_seconds, call.talk_seconds) == (5, 40)


async def until_written(engine: Engine, uniqueid: str, service: TelephonyService) -> None:
    def ended() -> Any:
        with unit_of_work(engine) as session:
            return session.exec(select(Call.ended_at).where(Call.uniqueid == uniqueid)).first()

    for _ in range(SAFETY * 10):
        await service.flush()
        if await asyncio.to_thread(ended) is not None:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"the call {uniqueid} was never written as ended")


def test_the_listener_command_refuses_a_pbx_only_a_process_of_its_own_could_reach(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CIVICDESK_PBX_MODE", "simulator")
    monkeypatch.setenv("CIVICDESK_AMI_HOST", "127.0.0.1")
    monkeypatch.setenv("CIVICDESK_AMI_USERNAME", "civicdesk")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["telephony"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2 and "civicdesk simulate call" in result.output

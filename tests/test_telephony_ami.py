"""The real AMI listener against the AMI protocol peer, on both databases: each Asterisk 20 sequence ends
with its call records and queue figures checked field by field."""

from __future__ import annotations

import asyncio
import logging
import wave
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kernel import live
from kernel.db import unit_of_work
from kernel.settings import Settings
from nlp.speech import SpeechError, Transcript
from telephony import actions, calls, voicemail
from telephony.models import Call, PbxAction, QueueMember
from telephony.ports import Event
from telephony.service import TelephonyService
from telephony.simulator import START, AmiPeer
from tickets.citizens import ZALO_FORM, Contact
from tickets.models import Attachment, Channel, Ticket, TicketEvent
from tickets.service import NewTicket, create_ticket
from tickets.staff import User, create_user

T0 = datetime.fromtimestamp(START, tz=UTC)
DAY = date(2026, 11, 18)  # START is 18:06 on 18 November, Vietnam time

Scenario = Callable[[AmiPeer, TelephonyService], Awaitable[None]]


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def settings_for(peer: AmiPeer, **extra: Any) -> Settings:
    return Settings(
        ami_host="127.0.0.1",
        ami_port=peer.port,
        ami_username="civicdesk",
        ami_secret="s3cret",
        ami_ping_seconds=0.5,
        queue_wrap_up_seconds=10,
        **extra,
    )


@pytest.fixture
def agents(engine: Engine) -> dict[str, int]:
    """Two agents linked to their phones, and a citizen who already reported a pothole."""
    ids: dict[str, int] = {}
    with unit_of_work(engine) as session:
        for number in ("101", "102"):
            user = create_user(session, username=f"agent{number}", password="secret-pass", role="agent")
            session.add(QueueMember(interface=f"PJSIP/agent{number}", user_id=user.id, extension=number))
            ids[number] = user.id or 0
        create_ticket(
            session,
            NewTicket(
                description="Ổ gà lớn trước số 12 Thống Nhất",
                channel=Channel.ZALO,
                contact=Contact(phone="0905123456", name="Nguyễn Văn A", phone_verified_by=ZALO_FORM),
            ),
        )
    return ids


def run(
    engine: Engine,
    scenario: Scenario,
    *,
    voicemails: list[int] | None = None,
    recordings: list[int] | None = None,
    **extra: Any,
) -> AmiPeer:
    """Start the peer and the service, play the scenario, stop both."""

    async def main() -> AmiPeer:
        peer = AmiPeer()
        await peer.start()
        for number in ("101", "102"):
            peer.add_member(f"PJSIP/agent{number}", f"Điện thoại viên {number}")

        def on_voicemail(_session: Session, call_id: int) -> None:
            if voicemails is not None:
                voicemails.append(call_id)

        def on_recording(_session: Session, call_id: int) -> None:
            if recordings is not None:
                recordings.append(call_id)

        service = TelephonyService(engine, settings_for(peer, **extra), on_voicemail, on_recording)
        task = asyncio.ensure_future(service.run())
        try:
            await asyncio.wait_for(service.ready.wait(), 10)
            await scenario(peer, service)
            await settle(peer, service)
        finally:
            service.stop()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await peer.close()
        return peer

    return asyncio.run(main())


async def settle(peer: AmiPeer, service: TelephonyService) -> None:
    """Wait until the service has read and written everything the peer sent so far."""
    marker = f"sync-{peer.clock}-{id(object())}"
    seen = asyncio.Event()

    def watch(event: Event) -> None:
        if event.get("Mark") == marker:
            seen.set()

    service.pbx.subscribe(watch)
    peer.emit("UserEvent", [("UserEvent", "Sync"), ("Mark", marker)], "user,all")
    await peer.drain()
    await asyncio.wait_for(seen.wait(), 10)
    await service.flush()


def call_of(engine: Engine, uniqueid: str) -> Call:
    with unit_of_work(engine) as session:
        call = session.exec(select(Call).where(Call.uniqueid == uniqueid)).one()
        session.expunge(call)
        return call


def events_for(engine: Engine, user_id: int) -> list[tuple[str, dict[str, Any]]]:
    with unit_of_work(engine) as session:
        return [(e.kind, e.payload) for e in live.read_since(session, [live.agent_topic(user_id)], 0)]


def stats(engine: Engine) -> dict[str, Any]:
    with unit_of_work(engine) as session:
        return calls.day_stats(session, DAY)


def test_answered_call_with_screen_pop(engine: Engine, agents: dict[str, int]) -> None:
    ids: dict[str, str] = {}

    async def scenario(peer: AmiPeer, service: TelephonyService) -> None:
        ids["call"] = uniqueid = peer.incoming("0905123456", "Nguyễn Văn A")
        peer.advance(6)
        peer.join(uniqueid)
        peer.advance(2)
        peer.ring(uniqueid, "PJSIP/agent101")
        await settle(peer, service)
        pops = events_for(engine, agents["101"])
        assert pops[-1][0] == "screen_pop"
        ids["popped"] = "yes"
        peer.advance(4)
        peer.answer(uniqueid, "PJSIP/agent101")
        peer.recording(uniqueid, "/var/spool/asterisk/monitor/hotline-1.wav")
        peer.advance(95)
        peer.hangup(uniqueid, by="caller")

    run(engine, scenario)
    call = call_of(engine, ids["call"])
    assert (call.outcome, call.caller_number, call.caller_name) == ("answered", "0905123456", "Nguyễn Văn A")
    assert (call.queue, call.agent_interface, call.agent_user_id) == (
        "hotline",
        "PJSIP/agent101",
        agents["101"],
    )
    assert (call.started_at, call.entered_at, call.first_ring_at) == (T0, at(6), at(8))
    assert (call.answered_at, call.ended_at) == (at(12), at(107))
    assert (call.wait_seconds, call.ring_seconds, call.talk_seconds) == (6, 4, 95)
    assert (call.hangup_cause, call.ended_by, call.agents_rung) == ("Normal Clearing", "caller", 1)
    assert call.recording_file == "/var/spool/asterisk/monitor/hotline-1.wav"
    assert call.citizen_id is not None and call.linkedid == call.uniqueid
    pop = events_for(engine, agents["101"])[0]
    assert pop[0] == "screen_pop"
    assert pop[1]["caller_number"] == "0905123456" and pop[1]["citizen"]["display_name"] == "Nguyễn Văn A"
    assert [t["title"] for t in pop[1]["open_tickets"]] == ["Ổ gà lớn trước số 12 Thống Nhất"]
    assert events_for(engine, agents["102"]) == []
    figures = stats(engine)
    assert {k: figures[k] for k in ("offered", "answered", "abandoned", "service_level")} == {
        "offered": 1,
        "answered": 1,
        "abandoned": 0,
        "service_level": 1.0,
    }
    assert (figures["asa_seconds"], figures["aht_seconds"]) == (6.0, 95.0)
    assert figures["hours"][18]["answered"] == 1
    with unit_of_work(engine) as session:
        member = session.get(QueueMember, "PJSIP/agent101")
        assert member is not None and member.state == "wrap_up" and member.wrap_up_until == at(117)
        snapshot = calls.queue_snapshot(session, now=at(200))
    assert snapshot["agents"]["available"] == 2 and snapshot["calls_waiting"] == 0


def test_abandoned_call(engine: Engine, agents: dict[str, int]) -> None:
    ids: dict[str, str] = {}

    async def scenario(peer: AmiPeer, service: TelephonyService) -> None:
        ids["call"] = uniqueid = peer.incoming("0912000111")
        peer.join(uniqueid)
        peer.ring(uniqueid, "PJSIP/agent102")
        peer.advance(31)
        peer.abandon(uniqueid)

    run(engine, scenario)
    call = call_of(engine, ids["call"])
    assert (call.outcome, call.queue_exit, call.wait_seconds) == ("abandoned", "caller", 31)
    assert (call.agent_interface, call.answered_at, call.talk_seconds) == (None, None, None)
    assert (call.ended_at, call.hangup_cause, call.citizen_id) == (at(31), "Normal Clearing", None)
    assert [kind for kind, _ in events_for(engine, agents["102"])] == ["screen_pop", "call_ended"]
    figures = stats(engine)
    assert (figures["offered"], figures["abandoned"], figures["short_abandoned"]) == (1, 1, 0)
    assert (figures["service_level"], figures["abandonment_rate"], figures["asa_seconds"]) == (0.0, 1.0, None)


def test_ring_no_answer_then_second_agent(engine: Engine, agents: dict[str, int]) -> None:
    ids: dict[str, str] = {}

    async def scenario(peer: AmiPeer, service: TelephonyService) -> None:
        ids["call"] = uniqueid = peer.incoming("0987654321", "Trần Thị B")
        peer.join(uniqueid)
        peer.ring(uniqueid, "PJSIP/agent101")
        peer.advance(15)
        peer.no_answer(uniqueid, "PJSIP/agent101")
        peer.advance(1)
        peer.ring(uniqueid, "PJSIP/agent102")
        peer.advance(3)
        peer.answer(uniqueid, "PJSIP/agent102")
        peer.advance(60)
        peer.hangup(uniqueid, by="agent")

    run(engine, scenario)
    call = call_of(engine, ids["call"])
    assert (call.outcome, call.agent_interface, call.agent_user_id) == (
        "answered",
        "PJSIP/agent102",
        agents["102"],
    )
    assert (call.agents_rung, call.first_ring_at, call.answered_at) == (2, T0, at(19))
    assert (call.wait_seconds, call.ring_seconds, call.talk_seconds, call.ended_by) == (19, 3, 60, "agent")
    assert [kind for kind, _ in events_for(engine, agents["101"])] == ["screen_pop", "call_ended"]
    assert [kind for kind, _ in events_for(engine, agents["102"])] == ["screen_pop"]
    figures = stats(engine)
    assert (figures["answered"], figures["service_level"], figures["asa_seconds"]) == (1, 1.0, 19.0)


def test_blind_transfer(engine: Engine, agents: dict[str, int]) -> None:
    ids: dict[str, str] = {}

    async def scenario(peer: AmiPeer, service: TelephonyService) -> None:
        ids["call"] = uniqueid = peer.incoming("0905123456")
        peer.join(uniqueid)
        peer.ring(uniqueid, "PJSIP/agent101")
        peer.advance(25)
        peer.answer(uniqueid, "PJSIP/agent101")
        peer.advance(30)
        peer.blind_transfer(uniqueid, "2001")
        peer.advance(60)
        peer.end_after_transfer(uniqueid)

    run(engine, scenario)
    call = call_of(engine, ids["call"])
    assert (call.outcome, call.transferred_to, call.ended_by) == ("transferred", "2001", "transfer")
    assert (call.wait_seconds, call.talk_seconds, call.ended_at) == (25, 30, at(115))
    figures = stats(engine)
    assert (figures["answered"], figures["transferred"], figures["service_level"]) == (1, 1, 0.0)


def test_agent_pause_from_the_console(engine: Engine, agents: dict[str, int]) -> None:
    async def scenario(peer: AmiPeer, service: TelephonyService) -> None:
        with unit_of_work(engine) as session:
            user = session.get(User, agents["101"])
            assert user is not None
            actions.request_pause(session, user, True, "Nghỉ trưa")
        for _ in range(100):
            await asyncio.sleep(0.05)
            if peer.members["PJSIP/agent101"].paused:
                break
        await settle(peer, service)

    peer = run(engine, scenario)
    sent = [a for a in peer.actions_seen if a.get("Action") == "QueuePause"]
    assert sent == [{**sent[0], "Interface": "PJSIP/agent101", "Paused": "true", "Reason": "Nghỉ trưa"}]
    with unit_of_work(engine) as session:
        member = session.get(QueueMember, "PJSIP/agent101")
        assert member is not None and (member.state, member.paused_reason) == ("paused", "Nghỉ trưa")
        action = session.exec(select(PbxAction)).one()
        assert (action.status, action.result) == ("done", "Interface paused successfully")
        assert calls.queue_snapshot(session)["agents"]["paused"] == 1


def test_interleaved_calls(engine: Engine, agents: dict[str, int]) -> None:
    ids: list[str] = []

    async def scenario(peer: AmiPeer, service: TelephonyService) -> None:
        first, second, third = (peer.incoming(n) for n in ("0901000001", "0901000002", "0901000003"))
        ids.extend([first, second, third])
        peer.join(first)
        peer.advance(1)
        peer.join(second)
        peer.ring(first, "PJSIP/agent101")
        peer.ring(second, "PJSIP/agent102")
        peer.advance(2)
        peer.join(third)
        peer.answer(second, "PJSIP/agent102")
        peer.advance(3)
        peer.answer(first, "PJSIP/agent101")
        peer.advance(2)
        peer.abandon(third)
        peer.advance(40)
        peer.hangup(first)
        peer.advance(10)
        peer.hangup(second, by="agent")

    run(engine, scenario)
    first, second, third = (call_of(engine, u) for u in ids)
    assert (first.outcome, first.agent_interface, first.wait_seconds, first.talk_seconds) == (
        "answered",
        "PJSIP/agent101",
        6,
        42,
    )
    assert (second.outcome, second.agent_interface, second.wait_seconds, second.talk_seconds) == (
        "answered",
        "PJSIP/agent102",
        2,
        55,
    )
    assert (third.outcome, third.wait_seconds, third.agent_interface) == ("abandoned", 5, None)
    assert len({first.linkedid, second.linkedid, third.linkedid}) == 3
    figures = stats(engine)
    assert (figures["offered"], figures["answered"], figures["abandoned"]) == (3, 2, 1)
    assert (figures["asa_seconds"], figures["aht_seconds"], figures["service_level"]) == (4.0, 48.5, 0.6667)


def test_link_dropped_mid_call_then_restored(
    engine: Engine, agents: dict[str, int], caplog: pytest.LogCaptureFixture
) -> None:
    ids: dict[str, str] = {}

    async def scenario(peer: AmiPeer, service: TelephonyService) -> None:
        ids["first"] = first = peer.incoming("0905123456")
        peer.join(first)
        peer.ring(first, "PJSIP/agent101")
        peer.advance(5)
        peer.answer(first, "PJSIP/agent101")
        await settle(peer, service)
        logins = peer.logins
        peer.drop_link()
        peer.advance(70)
        peer.finish_silently(first)  # the first call ends while nobody listens
        peer.advance(5)
        ids["second"] = second = peer.incoming("0912345678")  # and a second one starts
        peer.join(second)
        peer.advance(12)
        for _ in range(200):
            await asyncio.sleep(0.05)
            if peer.logins > logins and service.resyncs >= 2:
                break
        assert service.resyncs >= 2, "the service did not reconnect and resynchronise"
        peer.ring(second, "PJSIP/agent102")
        peer.advance(2)
        peer.answer(second, "PJSIP/agent102")
        peer.advance(30)
        peer.hangup(second)

    with caplog.at_level(logging.INFO, logger="telephony"):
        run(engine, scenario)
    link = [r for r in caplog.records if r.name == "telephony.service" and r.msg.startswith("AMI")]
    said = [r.msg for r in link]
    assert said[:3] == ["AMI connected", "AMI resynchronised", "AMI link lost"]
    assert said.index("AMI reconnected") > said.index("AMI link lost")
    assert said[said.index("AMI reconnected") + 1] == "AMI resynchronised"
    lost = link[said.index("AMI link lost")]
    assert lost.reconnect_in_seconds >= 1 and lost.ami_host  # type: ignore[attr-defined]
    assert [r.logins for r in link if r.msg.startswith("AMI reconnected")][0] >= 2  # type: ignore[attr-defined]
    assert not any("0905123456" in r.getMessage() + str(vars(r)) for r in caplog.records)
    first = call_of(engine, ids["first"])
    assert (first.outcome, first.agent_interface, first.recovered) == ("answered", "PJSIP/agent101", True)
    assert (first.answered_at, first.ended_at, first.talk_seconds, first.wait_seconds) == (
        at(5),
        at(75),
        70,
        5,
    )
    second = call_of(engine, ids["second"])
    assert (second.outcome, second.agent_interface, second.recovered) == ("answered", "PJSIP/agent102", True)
    assert (second.caller_number, second.queue) == ("0912345678", "hotline")
    assert (second.started_at, second.entered_at, second.answered_at) == (at(80), at(80), at(94))
    assert (second.wait_seconds, second.talk_seconds, second.ended_at) == (14, 30, at(124))
    figures = stats(engine)
    assert (figures["offered"], figures["answered"], figures["abandoned"]) == (2, 2, 0)


def test_half_open_link_is_noticed_by_ping(engine: Engine, agents: dict[str, int]) -> None:
    async def scenario(peer: AmiPeer, service: TelephonyService) -> None:
        peer.answer_pings = False
        for _ in range(300):
            await asyncio.sleep(0.05)
            if service.logins >= 2:
                break
        peer.answer_pings = True
        assert service.logins >= 2

    run(engine, scenario)


def test_callback_rings_the_agent_then_the_citizen(engine: Engine, agents: dict[str, int]) -> None:
    results: dict[str, Any] = {}

    async def scenario(peer: AmiPeer, service: TelephonyService) -> None:
        for reason in ("4", "5"):
            peer.originate_reason = reason
            with unit_of_work(engine) as session:
                user = session.get(User, agents["101"])
                ticket = session.exec(select(Ticket)).first()
                assert user is not None and ticket is not None
                action = actions.request_callback(session, ticket, user)
                action_id = action.id
            for _ in range(100):
                await asyncio.sleep(0.05)
                with unit_of_work(engine) as session:
                    done = session.get(PbxAction, action_id)
                    if done is not None and done.status in ("done", "failed"):
                        results[reason] = (done.status, done.result)
                        break

    peer = run(engine, scenario)
    assert results == {"4": ("done", "answered"), "5": ("failed", "busy")}
    originate = [a for a in peer.actions_seen if a.get("Action") == "Originate"][0]
    assert {k: originate[k] for k in ("Channel", "Exten", "Async", "Context")} == {
        "Channel": "PJSIP/agent101",
        "Exten": "0905123456",
        "Async": "true",
        "Context": "from-internal",
    }
    with unit_of_work(engine) as session:
        notes = [e.note for e in session.exec(select(TicketEvent).where(TicketEvent.kind == "callback"))]
    assert notes == [
        "Đã yêu cầu gọi lại",
        "Đã gọi lại được",
        "Đã yêu cầu gọi lại",
        "Gọi lại không được: busy",
    ]


class ScriptedRecogniser:
    """The speech port's fake: the words each test file is known to contain."""

    def __init__(self, words: dict[str, str]) -> None:
        self.words = words

    def transcribe(self, audio: Path) -> Transcript:
        if audio.name not in self.words:
            raise SpeechError(f"the audio file {audio} does not exist")
        return Transcript(text=self.words[audio.name], confidence=0.9, audio_seconds=8.0)


def write_wav(path: Path, seconds: float = 1.0, rate: int = 8000) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\x00\x10" * int(seconds * rate))
    return path


def test_after_hours_voicemail_becomes_a_ticket(
    engine: Engine, agents: dict[str, int], tmp_path: Path
) -> None:
    audio = write_wav(tmp_path / "msg0000.wav")
    queued: list[int] = []
    ids: dict[str, str] = {}

    async def scenario(peer: AmiPeer, service: TelephonyService) -> None:
        ids["vm"] = peer.after_hours_voicemail("0905123456", "Nguyễn Văn A", str(audio))
        ids["hung_up"] = peer.after_hours_voicemail("0977000111", "<unknown>", None)

    run(engine, scenario, voicemails=queued)
    call = call_of(engine, ids["vm"])
    assert (call.outcome, call.voicemail_file, call.transcription_status) == (
        "voicemail",
        str(audio),
        "pending",
    )
    assert queued == [call.id]
    assert call_of(engine, ids["hung_up"]).outcome == "after_hours"
    words = {"msg0000.wav": "đèn đường hẻm 5 Ngô Gia Tự phường Thanh Sơn bị tắt cả tuần nay"}
    ticket = voicemail.transcribe_voicemail(call.id or 0, ScriptedRecogniser(words), engine)
    again = voicemail.transcribe_voicemail(call.id or 0, ScriptedRecogniser(words), engine)
    assert again.id == ticket.id
    with unit_of_work(engine) as session:
        assert (ticket.description, ticket.origin_channel) == (words["msg0000.wav"], "voicemail")
        audio_rows = session.exec(select(Attachment).where(Attachment.ticket_id == ticket.id)).all()
        assert [(a.purpose, a.public, a.mime_type) for a in audio_rows] == [
            ("voicemail", False, "audio/x-wav")
        ]
        assert calls.tickets_of_call(session, call) == [ticket.id]
        assert session.get(Call, call.id).transcription_status == "done"  # type: ignore[union-attr]


def test_voicemail_that_cannot_be_transcribed_still_becomes_a_ticket(engine: Engine, tmp_path: Path) -> None:
    with unit_of_work(engine) as session:
        call = Call(
            uniqueid="1795000000.9", linkedid="1795000000.9", caller_number="0905123456", outcome="voicemail"
        )
        call.voicemail_file = str(tmp_path / "missing.wav")
        session.add(call)
    ticket = voicemail.transcribe_voicemail(call.id or 0, ScriptedRecogniser({}), engine)
    assert ticket.needs_review and ticket.description == voicemail.UNTRANSCRIBED
    with unit_of_work(engine) as session:
        call = session.get(Call, call.id)
        assert call is not None
        assert call.transcription_status == "failed" and "does not exist" in (call.transcription_error or "")
        notes = [
            e.note or "" for e in session.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id))
        ]
        assert any("Không đính kèm được tệp ghi âm" in n for n in notes)


@pytest.mark.parametrize("enabled", [True, False])
def test_recorded_calls_are_transcribed_only_when_enabled(
    engine: Engine, agents: dict[str, int], tmp_path: Path, enabled: bool
) -> None:
    recording = write_wav(tmp_path / "hotline-7.wav")
    queued: list[int] = []
    ids: dict[str, str] = {}

    async def scenario(peer: AmiPeer, service: TelephonyService) -> None:
        ids["call"] = uniqueid = peer.incoming("0905123456")
        peer.join(uniqueid)
        peer.ring(uniqueid, "PJSIP/agent101")
        peer.advance(3)
        peer.answer(uniqueid, "PJSIP/agent101")
        peer.recording(uniqueid, str(recording))
        peer.advance(20)
        peer.hangup(uniqueid)

    run(engine, scenario, recordings=queued, transcribe_recordings=enabled)
    call = call_of(engine, ids["call"])
    if not enabled:
        assert queued == [] and call.transcription_status is None
        return
    assert queued == [call.id] and call.transcription_status == "pending"
    done = voicemail.transcribe_recording(call.id or 0, ScriptedRecogniser({"hotline-7.wav": "alo"}), engine)
    assert (done.transcript, done.transcription_status) == ("alo", "done")
    with unit_of_work(engine) as session:
        assert session.exec(select(Ticket).where(Ticket.origin_channel == "voicemail")).all() == []

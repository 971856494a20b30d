"""`civicdesk simulate zalo|facebook|call|voicemail`: a citizen's message played into CivicDesk through its
real webhooks, signed with the installation's secrets, becomes a ticket like a provider's delivery (against
a running `civicdesk web` over HTTP; refused clearly when the secrets are missing or nobody answers); a
hotline call or a voicemail played by the simulated PBX is recorded by the real AMI listener."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import wave
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import select
from webserver import civicdesk_web, free_port

from channels import service, simulated, simulator
from channels.models import EventState, InboundEvent, OutboundMessage, OutboxState
from civicdesk.cli import main
from kernel.db import unit_of_work
from kernel.settings import Settings, get_settings
from nlp.speech import recogniser_for
from notifications import outbox
from notifications.adapters import notifier_for
from telephony import voicemail
from telephony.models import Call, Outcome, QueueMember
from telephony.service import TelephonyService
from tickets.models import Channel, Ticket
from tickets.staff import create_user

SECRETS = {
    "zalo_app_id": "4300000000000000777",
    "zalo_oa_secret_key": "simulated-oa-secret",
    "facebook_app_secret": "simulated-app-secret",
    "facebook_page_id": "110000000000077",
}


@pytest.fixture
def configured(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name, value in SECRETS.items():
        monkeypatch.setenv(f"CIVICDESK_{name.upper()}", value)
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


def process_pending(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        ids = session.exec(select(InboundEvent.id).where(InboundEvent.state == EventState.PENDING)).all()
    for event_id in ids:
        with unit_of_work(engine) as session:
            service.process(session, event_id or 0)


def tickets_of(engine: Engine, channel: Channel) -> list[Ticket]:
    with unit_of_work(engine) as session:
        rows = session.exec(select(Ticket).where(Ticket.origin_channel == channel)).all()
        session.expunge_all()
        return list(rows)


@pytest.mark.usefixtures("configured")
def test_a_simulated_zalo_message_and_facebook_comment_become_tickets(
    client: TestClient, engine: Engine
) -> None:
    settings = get_settings()
    zalo = simulator.zalo_message(settings, user_id="8400000000000000001", text="Đèn đường hỏng ở Mỹ Hải")
    answer = simulator.play(client, "", zalo)
    assert answer.status_code == 200 and answer.json()["stored"] == 1
    comment = simulator.facebook_comment(
        settings, user_id="7000000000000000001", name="Trần Thị B", text="Cống ở Đạo Long bị tắc"
    )
    answer = simulator.play(client, "", comment)
    assert answer.status_code == 200 and answer.json()["stored"] == 1
    process_pending(engine)
    assert [t.description for t in tickets_of(engine, Channel.ZALO)] == ["Đèn đường hỏng ở Mỹ Hải"]
    assert [t.description for t in tickets_of(engine, Channel.FACEBOOK)] == ["Cống ở Đạo Long bị tắc"]


@pytest.mark.usefixtures("configured")
def test_without_an_oa_or_a_page_the_citys_replies_reach_the_simulated_channels(
    client: TestClient, engine: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A demo: the citizen's message comes in through the webhook, the receipt goes out through the real
    client to the simulated provider (CIVICDESK_ZALO_MODE=simulator), where a trainer can read it."""
    monkeypatch.setenv("CIVICDESK_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CIVICDESK_ZALO_MODE", "simulator")
    get_settings.cache_clear()
    settings = get_settings()
    zalo = simulator.zalo_message(settings, user_id="8400000000000000002", text="Ổ gà trước chợ Phan Rang")
    assert simulator.play(client, "", zalo).status_code == 200
    process_pending(engine)
    with unit_of_work(engine) as session:
        queued = session.exec(select(OutboundMessage.id).where(OutboundMessage.channel == "zalo")).all()
    assert queued
    with httpx.Client() as http:
        for outbound_id in queued:
            outbox.send(lambda: unit_of_work(engine), outbound_id or 0, notifier_for("zalo", http, engine))
    with unit_of_work(engine) as session:
        states = session.exec(select(OutboundMessage.state).where(OutboundMessage.channel == "zalo")).all()
    assert set(states) == {OutboxState.SENT}
    [ticket] = tickets_of(engine, Channel.ZALO)
    received = simulated.recorded("zalo")
    assert [body["recipient"]["user_id"] for body in received] == ["8400000000000000002"] * len(queued)
    assert ticket.code in received[0]["message"]["text"]


@pytest.mark.usefixtures("configured")
def test_a_simulated_message_with_another_secret_is_refused(client: TestClient) -> None:
    """The simulator signs exactly as the provider: a server with other secrets refuses it."""
    settings = get_settings().model_copy(update={"zalo_oa_secret_key": "not-the-servers"})
    answer = simulator.play(client, "", simulator.zalo_message(settings, user_id="84001", text="Ổ gà"))
    assert answer.status_code == 403


@pytest.mark.usefixtures("configured")
def test_civicdesk_simulate_plays_into_a_running_web_server(
    engine: Engine, postgres_url: str, tmp_path: Path
) -> None:
    with civicdesk_web(postgres_url, tmp_path, **SECRETS) as base:
        result = CliRunner().invoke(
            main, ["simulate", "zalo", "--text", "Nước ngập đường Thống Nhất", "--url", base]
        )
        assert result.exit_code == 0, result.output
        assert "/webhooks/zalo → 200" in result.output
        result = CliRunner().invoke(
            main, ["simulate", "facebook", "--text", "Cây đổ chắn lối đi", "--url", base]
        )
        assert result.exit_code == 0, result.output
    process_pending(engine)
    assert [t.description for t in tickets_of(engine, Channel.ZALO)] == ["Nước ngập đường Thống Nhất"]
    assert [t.description for t in tickets_of(engine, Channel.FACEBOOK)] == ["Cây đổ chắn lối đi"]


def test_civicdesk_simulate_says_what_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SECRETS:
        monkeypatch.setenv(f"CIVICDESK_{name.upper()}", "")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(main, ["simulate", "zalo", "--text", "Ổ gà"])
        assert result.exit_code == 2 and "CIVICDESK_ZALO_OA_SECRET_KEY" in result.output
    finally:
        get_settings.cache_clear()


@pytest.mark.usefixtures("configured")
def test_civicdesk_simulate_says_when_nobody_answers() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = CliRunner().invoke(main, ["simulate", "facebook", "--text", "Rác", "--url", url])
    assert result.exit_code == 2 and "không trả lời" in result.output


def listen_while(pbx: subprocess.Popen[bytes], engine: Engine, port: int, voicemails: list[int]) -> None:
    """The real AMI listener, logged in to the simulated PBX until the command ends."""
    settings = Settings(
        ami_host="127.0.0.1", ami_port=port, ami_username="civicdesk", ami_secret="sim", ami_ping_seconds=1
    )

    async def listen() -> None:
        service = TelephonyService(engine, settings, lambda _s, call_id: voicemails.append(call_id))
        task = asyncio.ensure_future(service.run())
        try:
            while pbx.poll() is None:
                await asyncio.sleep(0.2)
        finally:
            service.stop()
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    asyncio.run(listen())


def simulate(tmp_path: Path, port: int, *args: str) -> tuple[list[str], dict[str, str]]:
    ami = {"AMI_HOST": "127.0.0.1", "AMI_PORT": str(port), "AMI_USERNAME": "civicdesk", "AMI_SECRET": "sim"}
    env = {**os.environ, **{f"CIVICDESK_{k}": v for k, v in ami.items()}, "CIVICDESK_VAR_DIR": str(tmp_path)}
    return [str(Path(sys.executable).parent / "civicdesk"), "simulate", *args, "--wait", "60"], env


def test_civicdesk_simulate_call_rings_an_agent_who_answers_and_the_listener_records_it(
    engine: Engine, tmp_path: Path
) -> None:
    """`civicdesk simulate call` as its own process is the PBX; the real listener logs in to it and
    records the call: queued, rung at the agent's phone, answered by the agent's user, hung up."""
    port = free_port()
    with unit_of_work(engine) as session:
        user = create_user(session, username="agent101", password="secret-pass", role="agent")
        session.add(QueueMember(interface="PJSIP/agent101", user_id=user.id, extension="101"))
        agent_id = user.id
    command, env = simulate(tmp_path, port, "call", "--ring", "0.5", "--talk", "1")
    command += ["--number", "0905123456", "--name", "Lê Thị C"]
    log = tmp_path / "simulate.log"
    with log.open("wb") as out, subprocess.Popen(command, env=env, stdout=out, stderr=out) as pbx:  # noqa: S603
        listen_while(pbx, engine, port, [])
    assert pbx.returncode == 0, log.read_text()
    with unit_of_work(engine) as session:
        call = session.exec(select(Call)).one()
        assert (call.caller_number, call.caller_name) == ("0905123456", "Lê Thị C")
        assert call.outcome == Outcome.ANSWERED and call.agent_interface == "PJSIP/agent101"
        assert call.agent_user_id == agent_id and call.ended_at is not None and call.ended_by == "caller"


def test_civicdesk_simulate_voicemail_leaves_a_message_the_listener_hands_on(
    engine: Engine, tmp_path: Path
) -> None:
    port, audio = free_port(), tmp_path / "message.wav"
    with wave.open(str(audio), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\x00\x00" * 8000)
    command, env = simulate(tmp_path, port, "voicemail", str(audio), "--number", "0912000111")
    voicemails: list[int] = []
    log = tmp_path / "simulate.log"
    with log.open("wb") as out, subprocess.Popen(command, env=env, stdout=out, stderr=out) as pbx:  # noqa: S603
        listen_while(pbx, engine, port, voicemails)
    assert pbx.returncode == 0, log.read_text()
    with unit_of_work(engine) as session:
        call = session.exec(select(Call)).one()
        assert call.caller_number == "0912000111" and call.voicemail_file == str(audio.resolve())
        assert voicemails == [call.id]


def test_civicdesk_simulate_voicemail_says_words_the_simulated_recogniser_hears(
    engine: Engine, tmp_path: Path
) -> None:
    """No audio, no model: `--say` puts the words in the message's WAV comment; a worker with
    CIVICDESK_SPEECH_MODE=simulator files them as the voicemail's ticket."""
    port = free_port()
    command, env = simulate(
        tmp_path, port, "voicemail", "--say", "Cống ở Đạo Long bị tắc", "--number", "0912000222"
    )
    voicemails: list[int] = []
    log = tmp_path / "simulate.log"
    with log.open("wb") as out, subprocess.Popen(command, env=env, stdout=out, stderr=out) as pbx:  # noqa: S603
        listen_while(pbx, engine, port, voicemails)
    assert pbx.returncode == 0, log.read_text()
    with unit_of_work(engine) as session:
        call = session.exec(select(Call)).one()
        assert voicemails == [call.id] and call.voicemail_file is not None
        assert Path(call.voicemail_file).parent == tmp_path / "simulated-voicemail"
    recogniser = recogniser_for(Settings(speech_mode="simulator"))
    ticket = voicemail.transcribe_voicemail(call.id or 0, recogniser, engine)
    assert (ticket.description, ticket.origin_channel) == ("Cống ở Đạo Long bị tắc", Channel.VOICEMAIL)
    missing = CliRunner().invoke(main, ["simulate", "voicemail"], env={"CIVICDESK_AMI_HOST": "127.0.0.1"})
    assert missing.exit_code == 2 and "--say" in missing.output

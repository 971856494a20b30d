"""`civicdesk telephony`: run the AMI listener; link queue members to staff; try the speech model."""

from __future__ import annotations

import asyncio
import logging
import time
import wave
from collections.abc import Awaitable, Callable
from pathlib import Path

import click

from kernel import preflight
from kernel.clierrors import UsageProblem
from kernel.db import get_engine, unit_of_work
from kernel.settings import get_settings
from nlp.speech import SpeechError, VoskRecogniser, add_transcript
from telephony import agents, service
from telephony.simulator import AmiPeer, play_call, play_voicemail, wait_for_listener


@click.group("telephony", invoke_without_command=True)
@click.pass_context
def telephony_group(ctx: click.Context) -> None:
    """Listen to Asterisk (CIVICDESK_AMI_HOST, _PORT, _USERNAME, _SECRET) until stopped."""
    if ctx.invoked_subcommand is not None:
        return
    settings = get_settings()
    if settings.pbx_mode == "simulator":
        raise click.UsageError(
            "CIVICDESK_PBX_MODE=simulator runs the simulated PBX inside the process that uses it (tests,"
            " demos in code); to watch the listener follow simulated calls, keep CIVICDESK_PBX_MODE=ami,"
            " point CIVICDESK_AMI_HOST at this machine and run `civicdesk simulate call`"
        )
    if not settings.ami_configured:
        raise click.UsageError("set CIVICDESK_AMI_HOST and CIVICDESK_AMI_USERNAME (and _SECRET) first")
    preflight.check_database(get_engine())
    preflight.check_broker()  # recordings and voicemail are transcribed by tasks
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    from telephony.tasks import enqueue_recording_transcription, enqueue_transcription

    click.echo(f"listening to AMI at {settings.ami_host}:{settings.ami_port} (Ctrl-C stops)")
    service.run_forever(get_engine(), settings, enqueue_transcription, enqueue_recording_transcription)


@telephony_group.command("link-agent")
@click.argument("interface")
@click.argument("username")
@click.option("--extension", default=None, help="The agent's extension, e.g. 101.")
def link_agent(interface: str, username: str, extension: str | None) -> None:
    """Tie a queue member's INTERFACE (e.g. PJSIP/agent101) to a CivicDesk USERNAME for screen pops."""
    from kernel.clierrors import domain_call

    def link() -> str:
        with unit_of_work() as session:
            agents.link_agent(session, interface=interface, username=username, extension=extension)
        return f"{interface} → {username}"

    click.echo(domain_call(link))


@telephony_group.command("transcribe")
@click.argument("audio", type=click.Path(path_type=Path))
@click.option(
    "--model", type=click.Path(path_type=Path), default=None, help="Defaults to CIVICDESK_VOSK_MODEL."
)
def transcribe(audio: Path, model: Path | None) -> None:
    """Transcribe one WAV file with the Vosk model and print the text and the real-time factor."""
    recogniser = VoskRecogniser(model or get_settings().vosk_model)
    started = time.perf_counter()
    try:
        transcript = recogniser.transcribe(audio)
    except SpeechError as exc:
        click.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from exc
    elapsed = time.perf_counter() - started
    click.echo(transcript.text)
    confidence = "none" if transcript.confidence is None else f"{transcript.confidence:.2f}"
    click.echo(f"confidence: {confidence} ({len(transcript.text.split())} words)", err=True)
    if transcript.audio_seconds:
        click.echo(f"real-time factor: {elapsed / transcript.audio_seconds:.3f}", err=True)


def _on_simulated_pbx(
    port: int | None, wait: float, agent: str, scenario: Callable[[AmiPeer], Awaitable[str]]
) -> str:
    """Open the simulated PBX where the listener looks for Asterisk, wait for it to log in and
    resynchronise, play the scenario, and close; the scenario's call uniqueid."""
    settings = get_settings()
    if not settings.ami_configured:
        raise UsageProblem(
            "Đặt CIVICDESK_AMI_HOST, CIVICDESK_AMI_USERNAME và CIVICDESK_AMI_SECRET như listener đang dùng "
            "(not configured)"
        )
    if "/" not in agent:
        raise UsageProblem(f"{agent!r} không phải tên giao diện; ví dụ PJSIP/agent101")
    listen = port or settings.ami_port

    async def run() -> str | None:
        peer = AmiPeer(settings.ami_username, settings.ami_secret)
        peer.origin = int(time.time())
        try:
            await peer.start(settings.ami_host, listen)
        except OSError as exc:
            raise UsageProblem(f"Không mở được cổng {listen} (port in use?): {exc}") from exc
        peer.add_member(agent, agent.split("/", 1)[1])
        click.echo(f"PBX mô phỏng ở {settings.ami_host}:{peer.port}; chờ listener đăng nhập…")
        try:
            if not await wait_for_listener(peer, wait):
                return None
            return await scenario(peer)
        finally:
            await asyncio.sleep(0.5)  # the listener reads the last events before the link closes
            await peer.close()

    uniqueid = asyncio.run(run())
    if uniqueid is None:
        raise UsageProblem(f"Không có listener nào đăng nhập trong {wait:.0f} giây (no listener logged in)")
    return uniqueid


@click.command("call")
@click.option("--number", default="0905123456", show_default=True, help="The caller's number.")
@click.option("--name", default="Nguyễn Văn A", show_default=True, help="The caller's name (CallerIDName).")
@click.option("--agent", default="PJSIP/agent101", show_default=True, help="The queue member who answers.")
@click.option("--port", type=int, default=None, help="Where to listen (default: CIVICDESK_AMI_PORT).")
@click.option("--wait", default=60.0, show_default=True, help="Seconds to wait for the listener to log in.")
@click.option("--ring", default=3.0, show_default=True, help="Seconds the agent's phone rings.")
@click.option("--talk", default=10.0, show_default=True, help="Seconds of conversation before hanging up.")
def simulate_call_command(
    number: str, name: str, agent: str, port: int | None, wait: float, ring: float, talk: float
) -> None:
    """A hotline call: CivicDesk's listener (`civicdesk run` or `civicdesk telephony`, with CIVICDESK_AMI_HOST
    pointing here) connects to this simulated PBX, which plays a call ringing at AGENT, answered, hung up."""

    async def scenario(peer: AmiPeer) -> str:
        return await play_call(
            peer, number=number, name=name, interface=agent, ring_seconds=ring, talk_seconds=talk
        )

    uniqueid = _on_simulated_pbx(port, wait, agent, scenario)
    click.echo(f"cuộc gọi {uniqueid}: {number} → {agent}, đã trả lời và kết thúc")


@click.command("voicemail")
@click.argument("audio", required=False, type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--say",
    default=None,
    help="The caller's words, written into the message's WAV comment (a copy under CIVICDESK_VAR_DIR), which"
    " the simulated recogniser hears (CIVICDESK_SPEECH_MODE=simulator); without AUDIO, over 3 s of silence.",
)
@click.option("--number", default="0905123456", show_default=True, help="The caller's number.")
@click.option("--name", default="Nguyễn Văn A", show_default=True, help="The caller's name (CallerIDName).")
@click.option("--port", type=int, default=None, help="Where to listen (default: CIVICDESK_AMI_PORT).")
@click.option("--wait", default=60.0, show_default=True, help="Seconds to wait for the listener to log in.")
def simulate_voicemail_command(
    audio: Path | None, say: str | None, number: str, name: str, port: int | None, wait: float
) -> None:
    """A caller after hours leaves a voicemail: the simulated PBX tells the listener the message is in
    AUDIO (a WAV file the listener can read), as Asterisk's voicemail does."""
    if say is not None:
        audio = _spoken_message(audio, say, get_settings().var_dir / "simulated-voicemail")
    if audio is None:
        raise UsageProblem("Cần tệp AUDIO hoặc --say (give a WAV file or the words with --say)")
    message = audio

    async def scenario(peer: AmiPeer) -> str:
        return await play_voicemail(peer, number=number, name=name, file=str(message.resolve()))

    uniqueid = _on_simulated_pbx(port, wait, "PJSIP/agent101", scenario)
    click.echo(f"thư thoại {uniqueid}: {number}, {message.resolve()}")


def _spoken_message(audio: Path | None, words: str, folder: Path) -> Path:
    """A new WAV file in ``folder`` (AUDIO's sound, or 3 s of telephone silence) whose comment holds
    ``words``: what `SimulatedRecogniser` hears."""
    folder.mkdir(parents=True, exist_ok=True)
    message = folder / f"{time.time_ns()}.wav"
    if audio is not None:
        message.write_bytes(audio.read_bytes())
    else:
        with wave.open(str(message), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(8000)
            wav.writeframes(bytes(2 * 8000 * 3))
    return add_transcript(message, words)

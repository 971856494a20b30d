"""`civicdesk telephony`: run the AMI listener; link queue members to staff; try the speech model."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import click
from sqlmodel import select

from civicdesk import preflight
from civicdesk.db import get_engine, unit_of_work
from civicdesk.errors import Invalid, NotFound
from civicdesk.settings import get_settings
from nlp.speech import SpeechError, VoskRecogniser
from telephony import service
from telephony.models import QueueMember
from tickets.staff import User


@click.group("telephony", invoke_without_command=True)
@click.pass_context
def telephony_group(ctx: click.Context) -> None:
    """Listen to Asterisk (CIVICDESK_AMI_HOST, _PORT, _USERNAME, _SECRET) until stopped."""
    if ctx.invoked_subcommand is not None:
        return
    settings = get_settings()
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
    from civicdesk.cli import domain_call

    def link() -> str:
        if "/" not in interface:
            raise Invalid(
                f"{interface!r} is not an interface; write it as Asterisk does, e.g. PJSIP/agent101"
            )
        with unit_of_work() as session:
            user = session.exec(select(User).where(User.username == username)).first()
            if user is None:
                raise NotFound(f"no user {username!r}; create it with `civicdesk create-user`")
            for other in session.exec(select(QueueMember).where(QueueMember.user_id == user.id)):
                other.user_id = None
                session.add(other)
            session.flush()
            member = session.get(QueueMember, interface) or QueueMember(interface=interface)
            member.user_id, member.extension = user.id, extension or member.extension
            session.add(member)
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

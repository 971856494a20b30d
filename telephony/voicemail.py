"""After-hours voicemail becomes a ticket: transcribe, then file it like any report (triage runs on it
through the ticket core's hooks), with the audio attached and kept private. A message that cannot be
transcribed still becomes a ticket, marked for a person to listen to, so nothing a caller left is lost."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import Session, select

from civicdesk.errors import DomainError, NotFound
from civicdesk.settings import get_settings
from nlp.speech import Recogniser, SpeechError
from telephony.calls import link_ticket_to_call
from telephony.models import Call, CallTicket, TranscriptionStatus
from tickets.attachments import store_attachment
from tickets.citizens import Contact
from tickets.models import Channel, EventKind, Ticket
from tickets.service import NewTicket, create_ticket, record_event

UNTRANSCRIBED = "Tin nhắn thoại ngoài giờ chưa chuyển được thành văn bản; vui lòng nghe tệp ghi âm đính kèm."


def voicemail_path(call: Call) -> Path:
    path = Path(call.voicemail_file or "")
    return path if path.is_absolute() else get_settings().voicemail_dir / path


def _existing_ticket(session: Session, call: Call) -> Ticket | None:
    link = session.exec(select(CallTicket).where(CallTicket.call_id == call.id)).first()
    return session.get(Ticket, link.ticket_id) if link else None


def transcribe_voicemail(session: Session, call_id: int, recogniser: Recogniser) -> Ticket:
    """Safe to repeat: a call whose voicemail already made a ticket returns that ticket."""
    call = session.get(Call, call_id)
    if call is None or not call.voicemail_file:
        raise NotFound(f"call {call_id} has no voicemail")
    existing = _existing_ticket(session, call)
    if existing is not None:
        return existing
    path = voicemail_path(call)
    try:
        transcript = recogniser.transcribe(path)
        text = transcript.text
        call.transcription_status, call.transcription_error = TranscriptionStatus.DONE, None
    except SpeechError as exc:
        text = ""
        call.transcription_status, call.transcription_error = TranscriptionStatus.FAILED, str(exc)
    call.transcript = text or None
    session.add(call)
    ticket = create_ticket(
        session,
        NewTicket(
            description=text or UNTRANSCRIBED,
            channel=Channel.VOICEMAIL,
            contact=Contact(phone=_phone_or_none(call.caller_number)),
            created_at=call.ended_at or call.started_at,
            provider_message_id=f"voicemail:{call.uniqueid}",
        ),
    )
    if not text:
        ticket.needs_review = True
        session.add(ticket)
        record_event(
            session, ticket, EventKind.COMMENT, note=f"transcription failed: {call.transcription_error}"
        )
    _attach_audio(session, ticket, path)
    link_ticket_to_call(session, call.uniqueid, ticket.id or 0)
    return ticket


def transcribe_recording(session: Session, call_id: int, recogniser: Recogniser) -> Call:
    """A recorded conversation's words, kept on the call for the supervisor (no ticket is made)."""
    call = session.get(Call, call_id)
    if call is None or not call.recording_file:
        raise NotFound(f"call {call_id} has no recording")
    if call.transcription_status == TranscriptionStatus.DONE:
        return call
    path = Path(call.recording_file)
    try:
        call.transcript = recogniser.transcribe(path).text or None
        call.transcription_status, call.transcription_error = TranscriptionStatus.DONE, None
    except SpeechError as exc:
        call.transcription_status, call.transcription_error = TranscriptionStatus.FAILED, str(exc)
    session.add(call)
    return call


def _phone_or_none(number: str | None) -> str | None:
    from telephony.store import phone_of

    return phone_of(number)


def _attach_audio(session: Session, ticket: Ticket, path: Path) -> None:
    try:
        data = path.read_bytes()
        store_attachment(
            session,
            data=data,
            original_name=path.name,
            ticket_id=ticket.id,
            purpose="voicemail",
            public=False,
        )
    except (OSError, DomainError) as exc:
        record_event(
            session, ticket, EventKind.COMMENT, note=f"the voicemail audio could not be attached: {exc}"
        )

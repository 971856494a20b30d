"""After-hours voicemail becomes a ticket: transcribe, then file it like any report (triage runs on it
through the ticket core's hooks), with the audio attached and kept private. A message that cannot be
transcribed, or whose transcript the recogniser is not sure of (low mean word confidence, too few words,
nothing heard), still becomes a ticket, held in the triage queue with the reason for a person to listen
to it, so nothing a caller left is lost and no misheard report is routed on its own."""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlmodel import Session, select

from civicdesk.errors import DomainError, NotFound
from civicdesk.i18n import Text, _, to_data
from civicdesk.settings import get_settings
from nlp.speech import Recogniser, SpeechError, Transcript
from telephony.calls import link_ticket_to_call
from telephony.models import Call, CallTicket, TranscriptionStatus
from tickets.attachments import store_attachment
from tickets.citizens import PBX, Contact
from tickets.models import Channel, EventKind, Ticket
from tickets.service import NewTicket, create_ticket, record_event
from tickets.storage import checked_key, default_store

log = logging.getLogger(__name__)

UNTRANSCRIBED = "Tin nhắn thoại ngoài giờ chưa chuyển được thành văn bản; vui lòng nghe tệp ghi âm đính kèm."


def voicemail_path(call: Call) -> Path:
    path = Path(call.voicemail_file or "")
    return path if path.is_absolute() else get_settings().voicemail_dir / path


def _audio_files(call: Call) -> list[Path]:
    voicemail = [voicemail_path(call)] if call.voicemail_file else []
    return voicemail + ([Path(call.recording_file)] if call.recording_file else [])


def staged_key(call: Call, audio: Path) -> str:
    return checked_key(f"calls/{call.uniqueid}/{audio.name}")


def stage_audio(session: Session, call_id: int) -> None:
    """Run by the listener next to Asterisk: copy the call's audio into the shared store, so that a worker
    on any host can transcribe and attach it. A copy that fails leaves the worker Asterisk's own file."""
    call = session.get(Call, call_id)
    if call is None:
        return
    for audio in _audio_files(call):
        try:
            default_store().put(staged_key(call, audio), audio.read_bytes())
        except (OSError, DomainError) as exc:
            log.warning("call %s: audio %s not copied to the store: %s", call.uniqueid, audio, exc)


@contextmanager
def local_audio(call: Call, audio: Path) -> Iterator[Path]:
    """The audio as a file here: the copy staged in the store (under its own name), else Asterisk's."""
    try:
        data: bytes | None = default_store().get(staged_key(call, audio))
    except DomainError:  # not staged (MissingFile), or the store is down: Asterisk's file may still do
        data = None
    if data is None:
        yield audio
        return
    with tempfile.TemporaryDirectory(prefix="civicdesk-audio-") as folder:
        local = Path(folder) / audio.name
        local.write_bytes(data)
        yield local


def _existing_ticket(session: Session, call: Call) -> Ticket | None:
    link = session.exec(select(CallTicket).where(CallTicket.call_id == call.id)).first()
    return session.get(Ticket, link.ticket_id) if link else None


def transcribe_voicemail(session: Session, call_id: int, recogniser: Recogniser) -> Ticket:
    """Safe to repeat: a call whose voicemail already made a ticket returns that ticket."""
    call = session.get(Call, call_id)
    if call is None or not call.voicemail_file:
        raise NotFound(_("Cuộc gọi {number} không có thư thoại.", number=call_id))
    existing = _existing_ticket(session, call)
    if existing is not None:
        return existing
    with local_audio(call, voicemail_path(call)) as path:
        ticket = _file_voicemail(session, call, recogniser, path)
    link_ticket_to_call(session, call.uniqueid, ticket.id or 0)
    return ticket


@dataclass(frozen=True)
class SpeechCheck:
    """Whether a transcript may be filed like any typed report, and if not, why (for staff)."""

    confidence: float | None
    words: int
    reason: Text | None  # None: file it like any report

    @property
    def held(self) -> bool:
        return self.reason is not None


def check_transcript(transcript: Transcript) -> SpeechCheck:
    settings = get_settings()
    threshold, words = settings.speech_confidence_threshold, len(transcript.text.split())
    confidence = transcript.confidence
    if not words:
        reason: Text | None = _(
            "Không nhận ra lời nói nào trong tin nhắn thoại (im lặng hoặc chỉ có tiếng ồn)"
        )
    elif confidence is None or confidence < threshold:
        reason = _(
            "Độ tin cậy nhận dạng giọng nói thấp ({confidence}, ngưỡng {threshold})",
            confidence=format(confidence or 0.0, ".2f"),
            threshold=format(threshold, ".2f"),
        )
    elif words < settings.speech_min_words:  # noise often comes out as one confident syllable
        reason = _("Bản chuyển lời nói quá ngắn ({words} từ)", words=words)
    else:
        reason = None
    return SpeechCheck(confidence, words, reason)


def _file_voicemail(session: Session, call: Call, recogniser: Recogniser, path: Path) -> Ticket:
    transcript: Transcript | None = None
    try:
        transcript = recogniser.transcribe(path)
        call.transcription_status, call.transcription_error = TranscriptionStatus.DONE, None
    except SpeechError as exc:
        call.transcription_status, call.transcription_error = TranscriptionStatus.FAILED, str(exc)
    text = transcript.text if transcript else ""
    call.transcript = text or None
    session.add(call)
    ticket = create_ticket(
        session,
        NewTicket(
            description=text or UNTRANSCRIBED,
            channel=Channel.VOICEMAIL,
            contact=Contact(phone=_phone_or_none(call.caller_number), phone_verified_by=PBX),
            created_at=call.ended_at or call.started_at,
            provider_message_id=f"voicemail:{call.uniqueid}",
        ),
    )
    _record_speech(session, ticket, call, transcript)
    _attach_audio(session, ticket, path)
    return ticket


def _record_speech(session: Session, ticket: Ticket, call: Call, transcript: Transcript | None) -> None:
    """The recogniser's confidence on the timeline; a doubtful or failed transcript holds the ticket for a
    person (triage keeps the hold, the triage queue shows the reason)."""
    if transcript is None:
        check = SpeechCheck(
            None, 0, _("Không chuyển được lời nói thành chữ: {error}", error=call.transcription_error)
        )
    else:
        check = check_transcript(transcript)
    speech = {
        "confidence": None if check.confidence is None else round(check.confidence, 4),
        "words": check.words,
        "threshold": get_settings().speech_confidence_threshold,
        "audio_seconds": round(transcript.audio_seconds, 2) if transcript else None,
        "transcribed": transcript is not None,
    }
    if check.reason is None:
        note = _(
            "Độ tin cậy {confidence} ({words} từ), đủ để phân loại tự động",
            confidence=format(check.confidence or 0.0, ".2f"),
            words=check.words,
        )
        record_event(session, ticket, EventKind.TRANSCRIBED, note=note, speech=speech)
        return
    ticket.needs_review = True
    session.add(ticket)
    record_event(
        session,
        ticket,
        EventKind.TRANSCRIBED,
        note=_("{reason}; cần cán bộ nghe lại tệp ghi âm trước khi chuyển xử lý", reason=check.reason),
        speech=speech,
        review_hold=to_data(check.reason),
    )


def transcribe_recording(session: Session, call_id: int, recogniser: Recogniser) -> Call:
    """A recorded conversation's words, kept on the call for the supervisor (no ticket is made)."""
    call = session.get(Call, call_id)
    if call is None or not call.recording_file:
        raise NotFound(_("Cuộc gọi {number} không có bản ghi âm.", number=call_id))
    if call.transcription_status == TranscriptionStatus.DONE:
        return call
    try:
        with local_audio(call, Path(call.recording_file)) as path:
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
            as_received=True,  # audio the recogniser cannot read is still what the caller left
        )
    except (OSError, DomainError) as exc:
        record_event(
            session, ticket, EventKind.COMMENT, note=_("Không đính kèm được tệp ghi âm: {error}", error=exc)
        )

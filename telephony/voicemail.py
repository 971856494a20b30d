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

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from kernel.db import after_commit, unit_of_work
from kernel.errors import DomainError, NotFound
from kernel.i18n import Text, _, to_data
from kernel.settings import get_settings
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
    on any host can transcribe and attach it. The copy is made once the call's rows are committed, with no
    transaction open (the store may be across the network), and before the tasks queued after it are sent.
    A copy that fails leaves the worker Asterisk's own file."""
    call = session.get(Call, call_id)
    if call is None:
        return
    copies = [(call.uniqueid, audio, staged_key(call, audio)) for audio in _audio_files(call)]
    after_commit(session, lambda: _copy_to_store(copies))


def _copy_to_store(copies: list[tuple[str, Path, str]]) -> None:
    for uniqueid, audio, key in copies:
        try:
            default_store().put(key, audio.read_bytes())
        except (OSError, DomainError) as exc:
            log.warning(
                "call audio not copied to the store",
                extra={"call": uniqueid, "file": audio.name, "error": f"{type(exc).__name__}: {exc}"},
            )


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


@dataclass(frozen=True)
class Heard:
    """What the recogniser made of one audio file, and the file's bytes, got with no database session
    open: a transcription takes seconds to minutes of CPU, which no transaction should wait for."""

    name: str
    transcript: Transcript | None
    speech_error: str | None
    audio: bytes | None
    audio_error: str | None


def listen(call: Call, audio: Path, recogniser: Recogniser) -> Heard:
    """The slow part, between transactions: fetch the staged audio, transcribe it, keep its bytes."""
    transcript, speech_error, data, audio_error = None, None, None, None
    with local_audio(call, audio) as path:
        try:
            transcript = recogniser.transcribe(path)
        except SpeechError as exc:
            speech_error = str(exc)
        try:
            data = path.read_bytes()
        except OSError as exc:
            audio_error = str(exc)
    return Heard(audio.name, transcript, speech_error, data, audio_error)


def transcribe_voicemail(call_id: int, recogniser: Recogniser, engine: Engine | None = None) -> Ticket:
    """Three steps, two short transactions: read the call, transcribe with no session open, file the
    ticket. Safe to repeat: a call whose voicemail already made a ticket returns that ticket (checked
    again under a row lock before filing, so two workers never file the same voicemail twice)."""
    with unit_of_work(engine) as session:
        call = _voicemail_call(session, call_id)
        existing = _existing_ticket(session, call)
        if existing is not None:
            return existing
        session.expunge(call)
    heard = listen(call, voicemail_path(call), recogniser)
    with unit_of_work(engine) as session:
        call = _voicemail_call(session, call_id, lock=True)
        existing = _existing_ticket(session, call)
        if existing is not None:
            return existing
        ticket = _file_voicemail(session, call, heard)
        link_ticket_to_call(session, call.uniqueid, ticket.id or 0)
        return ticket


def _voicemail_call(session: Session, call_id: int, *, lock: bool = False) -> Call:
    call = session.get(Call, call_id, with_for_update=lock)
    if call is None or not call.voicemail_file:
        raise NotFound(_("Cuộc gọi {number} không có thư thoại.", number=call_id))
    return call


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


def _file_voicemail(session: Session, call: Call, heard: Heard) -> Ticket:
    transcript = heard.transcript
    if transcript is not None:
        call.transcription_status, call.transcription_error = TranscriptionStatus.DONE, None
    else:
        call.transcription_status, call.transcription_error = TranscriptionStatus.FAILED, heard.speech_error
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
    _attach_audio(session, ticket, heard)
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


def transcribe_recording(call_id: int, recogniser: Recogniser, engine: Engine | None = None) -> Call:
    """A recorded conversation's words, kept on the call for the supervisor (no ticket is made); the
    recogniser runs between two short transactions, with no session open."""
    with unit_of_work(engine) as session:
        call = _recorded_call(session, call_id)
        if call.transcription_status == TranscriptionStatus.DONE:
            return call
        session.expunge(call)
    try:
        with local_audio(call, Path(call.recording_file or "")) as path:
            text: str | None = recogniser.transcribe(path).text or None
        status, error = TranscriptionStatus.DONE, None
    except SpeechError as exc:
        text, status, error = None, TranscriptionStatus.FAILED, str(exc)
    with unit_of_work(engine) as session:
        call = _recorded_call(session, call_id, lock=True)
        if call.transcription_status != TranscriptionStatus.DONE:  # another worker may have been first
            call.transcript, call.transcription_status, call.transcription_error = text, status, error
            session.add(call)
        return call


def _recorded_call(session: Session, call_id: int, *, lock: bool = False) -> Call:
    call = session.get(Call, call_id, with_for_update=lock)
    if call is None or not call.recording_file:
        raise NotFound(_("Cuộc gọi {number} không có bản ghi âm.", number=call_id))
    return call


def _phone_or_none(number: str | None) -> str | None:
    from telephony.store import phone_of

    return phone_of(number)


def _attach_audio(session: Session, ticket: Ticket, heard: Heard) -> None:
    try:
        if heard.audio is None:
            raise OSError(heard.audio_error)
        store_attachment(
            session,
            data=heard.audio,
            original_name=heard.name,
            ticket_id=ticket.id,
            purpose="voicemail",
            public=False,
            as_received=True,  # audio the recogniser cannot read is still what the caller left
        )
    except (OSError, DomainError) as exc:
        record_event(
            session, ticket, EventKind.COMMENT, note=_("Không đính kèm được tệp ghi âm: {error}", error=exc)
        )

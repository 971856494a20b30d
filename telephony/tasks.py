"""Voicemail transcription runs on a Celery worker: one recogniser uses about a core, not the listener's."""

from __future__ import annotations

from celery import shared_task
from sqlmodel import Session

from kernel.db import send_task_after_commit
from kernel.settings import get_settings
from nlp.speech import recogniser_for
from telephony import voicemail


@shared_task(name="telephony.transcribe_voicemail", acks_late=True)  # type: ignore[untyped-decorator]
def transcribe_voicemail(call_id: int) -> str:
    # no transaction is open while the recogniser runs: transcribe_voicemail opens its own, short ones
    return voicemail.transcribe_voicemail(call_id, recogniser_for(get_settings())).code


@shared_task(name="telephony.transcribe_recording", acks_late=True)  # type: ignore[untyped-decorator]
def transcribe_recording(call_id: int) -> str | None:
    call = voicemail.transcribe_recording(call_id, recogniser_for(get_settings()))
    return call.transcription_status


def enqueue_transcription(session: Session, call_id: int) -> None:
    voicemail.stage_audio(session, call_id)  # the listener sees Asterisk's files; the workers may not
    send_task_after_commit(session, transcribe_voicemail, call_id)


def enqueue_recording_transcription(session: Session, call_id: int) -> None:
    voicemail.stage_audio(session, call_id)
    send_task_after_commit(session, transcribe_recording, call_id)

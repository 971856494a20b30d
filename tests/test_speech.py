"""The speech port: reading and resampling audio, clear errors without a model, the real model if present."""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np
import pytest

from nlp.speech import MODEL_RATE, SpeechError, VoskRecogniser, read_pcm


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


MODEL = os.environ.get("CIVICDESK_VOSK_MODEL")


@pytest.mark.skipif(not MODEL, reason="no Vosk model on this machine (set CIVICDESK_VOSK_MODEL to run it)")
def test_real_model_transcribes_silence_to_nothing(tmp_path: Path) -> None:
    audio = write_wav(tmp_path / "silence.wav", np.zeros(8000 * 2, dtype=np.int16), 8000)
    transcript = VoskRecogniser(Path(MODEL or "")).transcribe(audio)
    assert transcript.text == "" and transcript.audio_seconds == 2.0

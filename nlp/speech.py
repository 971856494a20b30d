"""Offline speech recognition behind a small port.

`VoskRecogniser` runs a Vosk model from a directory the operator downloaded (CIVICDESK_VOSK_MODEL, e.g.
vosk-model-small-vn-0.4); it never downloads anything. Telephone audio is 8 kHz and the Vietnamese
models are 16 kHz and refuse to upsample, so audio is resampled to the model's rate first.
"""

from __future__ import annotations

import json
import wave
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

MODEL_RATE = 16_000
CHUNK_FRAMES = 4000


class SpeechError(Exception):
    """A transcription that cannot be done, with what to do about it."""


@dataclass(frozen=True)
class Transcript:
    text: str
    confidence: float | None
    audio_seconds: float


class Recogniser(Protocol):
    def transcribe(self, audio: Path) -> Transcript: ...


def read_pcm(audio: Path, rate: int = MODEL_RATE) -> tuple[bytes, float]:
    """16-bit mono PCM at `rate` from a WAV file, and its length in seconds."""
    try:
        with wave.open(str(audio), "rb") as wav:
            channels, width, source_rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            frames = wav.readframes(wav.getnframes())
    except FileNotFoundError as exc:
        raise SpeechError(f"the audio file {audio} does not exist; check the voicemail spool path") from exc
    except (wave.Error, EOFError) as exc:
        raise SpeechError(
            f"{audio} is not a readable PCM WAV file ({exc}); use format=wav in voicemail.conf"
        ) from exc
    if width != 2:
        raise SpeechError(f"{audio} has {8 * width}-bit samples; 16-bit PCM is needed")
    samples = np.frombuffer(frames, dtype="<i2").astype(np.float64)
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
    seconds = len(samples) / source_rate if source_rate else 0.0
    if source_rate != rate and len(samples):
        target = np.arange(0, len(samples) * rate / source_rate) * source_rate / rate
        samples = np.interp(target, np.arange(len(samples)), samples)
    return np.clip(samples, -32768, 32767).astype("<i2").tobytes(), seconds


@lru_cache(maxsize=2)
def _load_model(path: str) -> Any:
    import vosk  # imported here: only the worker that transcribes needs libvosk

    vosk.SetLogLevel(-1)
    try:
        return vosk.Model(path)
    except Exception as exc:  # vosk raises a bare Exception when the directory is not a model
        raise SpeechError(
            f"{path} is not a Vosk model directory ({exc}); unpack vosk-model-small-vn-0.4 there"
        ) from exc


class VoskRecogniser:
    def __init__(self, model_dir: Path | None) -> None:
        self.model_dir = model_dir

    def _model(self) -> Any:
        if self.model_dir is None:
            raise SpeechError(
                "no speech model is configured; download vosk-model-small-vn-0.4, unpack it and set "
                "CIVICDESK_VOSK_MODEL to its directory"
            )
        if not self.model_dir.is_dir():
            raise SpeechError(
                f"the speech model directory {self.model_dir} does not exist; check CIVICDESK_VOSK_MODEL"
            )
        return _load_model(str(self.model_dir))

    def transcribe(self, audio: Path) -> Transcript:
        import vosk

        model = self._model()
        pcm, seconds = read_pcm(audio)
        recogniser = vosk.KaldiRecognizer(model, MODEL_RATE)
        recogniser.SetWords(True)
        parts: list[dict[str, Any]] = []
        step = CHUNK_FRAMES * 2
        for start in range(0, len(pcm), step):
            if recogniser.AcceptWaveform(pcm[start : start + step]):
                parts.append(json.loads(recogniser.Result()))
        parts.append(json.loads(recogniser.FinalResult()))
        words = [w for part in parts for w in part.get("result", [])]
        text = " ".join(part.get("text", "") for part in parts if part.get("text")).strip()
        confidence = sum(w["conf"] for w in words) / len(words) if words else None
        return Transcript(text=text, confidence=confidence, audio_seconds=seconds)

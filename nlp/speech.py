"""Offline speech recognition behind a small port (`Recogniser`), with a real and a simulated adapter,
chosen by CIVICDESK_SPEECH_MODE (`recogniser_for`).

`VoskRecogniser` runs a Vosk model from a directory the operator downloaded (CIVICDESK_VOSK_MODEL, e.g.
vosk-model-small-vn-0.4); it never downloads anything. Telephone audio is 8 kHz and the Vietnamese
models are 16 kHz and refuse to upsample, so audio is resampled to the model's rate first.

`SimulatedRecogniser` hears what the WAV file says it holds: the text of its comment (the RIFF
``LIST``/``INFO``/``ICMT`` chunk, as `ffmpeg -metadata comment=…` or `add_transcript` write it), with a
fixed confidence (0.9 unless told otherwise); a file without a comment is heard as silence (no words, no
confidence), as Vosk hears silence. The comment travels with the audio when the listener stages it for
the workers, which a file beside it would not. It reads the audio as Vosk does, so a missing or unreadable
file fails the same way and ``audio_seconds`` is the audio's real length. For demos and tests without a
model (`civicdesk simulate voicemail --say`); never in production.
"""

from __future__ import annotations

import json
import wave
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from kernel.settings import Settings

MODEL_RATE = 16_000
CHUNK_FRAMES = 4000
SIMULATED_CONFIDENCE = 0.9


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


def recogniser_for(settings: Settings) -> Recogniser:
    """The recogniser CIVICDESK_SPEECH_MODE names."""
    if settings.speech_mode == "simulator":
        return SimulatedRecogniser()
    return VoskRecogniser(settings.vosk_model)


class SimulatedRecogniser:
    def __init__(self, confidence: float = SIMULATED_CONFIDENCE) -> None:
        self.confidence = confidence

    def transcribe(self, audio: Path) -> Transcript:
        _pcm, seconds = read_pcm(audio)
        text = " ".join((wav_comment(audio) or "").split())
        return Transcript(text=text, confidence=self.confidence if text else None, audio_seconds=seconds)


def _chunks(data: bytes, start: int) -> list[tuple[bytes, bytes]]:
    """The RIFF chunks (id, body) from ``start``; each body is padded to an even length."""
    chunks, position = [], start
    while position + 8 <= len(data):
        size = int.from_bytes(data[position + 4 : position + 8], "little")
        chunks.append((data[position : position + 4], data[position + 8 : position + 8 + size]))
        position += 8 + size + (size & 1)
    return chunks


def wav_comment(audio: Path) -> str | None:
    """The comment (``LIST``/``INFO``/``ICMT``) of a WAV file, if it has one."""
    data = audio.read_bytes()
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return None
    for chunk_id, body in _chunks(data, 12):
        if chunk_id == b"LIST" and body[:4] == b"INFO":
            for info_id, value in _chunks(body, 4):
                if info_id == b"ICMT":
                    return value.rstrip(b"\0").decode("utf-8", "replace")
    return None


def add_transcript(audio: Path, text: str) -> Path:
    """Write ``text`` into the WAV file's comment, for `SimulatedRecogniser` to hear."""
    data = bytearray(audio.read_bytes())
    data += b"\0" * (len(data) & 1)  # chunks start on an even byte
    comment = text.encode("utf-8") + b"\0"
    comment += b"\0" * (len(comment) & 1)
    info = b"INFO" + b"ICMT" + len(comment).to_bytes(4, "little") + comment
    data += b"LIST" + len(info).to_bytes(4, "little") + info
    data[4:8] = (len(data) - 8).to_bytes(4, "little")
    audio.write_bytes(bytes(data))
    return audio

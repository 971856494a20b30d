"""AMI events per second through the telephony service, end to end on one core: the AMI protocol peer
plays whole app_queue calls over TCP (answered, abandoned, ring-no-answer), the real service reads them
with panoramisk and our UTF-8 protocol, tracks them and writes the call records; the clock stops when the
last call's record is in the database. The same through the PBX port's in-process simulated adapter (the
same PBX model, no socket, no panoramisk), the tracker alone, and (when CIVICDESK_VOSK_MODEL is set and
espeak-ng/sox are installed) the Vosk real-time factor.

    .venv/bin/python bench/ami_events.py [--calls 2000] [--server postgresql+psycopg://…/postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("CIVICDESK_VAR_DIR", tempfile.mkdtemp(prefix="civicdesk-bench-"))

from sqlalchemy import func  # noqa: E402
from sqlalchemy.engine import Engine  # noqa: E402
from sqlmodel import select  # noqa: E402

from bench.report import write_section  # noqa: E402
from bench.scratch import scratch_database  # noqa: E402
from civicdesk import wiring  # noqa: E402
from kernel import embedded  # noqa: E402
from kernel.db import unit_of_work  # noqa: E402
from kernel.settings import Settings, get_settings  # noqa: E402
from telephony.adapters.simulated import SimulatedPbx  # noqa: E402
from telephony.models import Call, Outcome  # noqa: E402
from telephony.service import TelephonyService, new_tracker  # noqa: E402
from telephony.simulator import AmiPeer, PbxModel  # noqa: E402

AGENTS = [f"PJSIP/agent{n}" for n in range(101, 111)]


def play_calls(peer: PbxModel, count: int) -> None:
    for n in range(count):
        uniqueid = peer.incoming(f"09{n:08d}", "Nguyễn Văn A")
        peer.join(uniqueid)
        agent = AGENTS[n % len(AGENTS)]
        peer.ring(uniqueid, agent)
        peer.advance(3)
        if n % 5 == 4:
            peer.abandon(uniqueid)
            continue
        if n % 7 == 0:
            peer.no_answer(uniqueid, agent)
            agent = AGENTS[(n + 1) % len(AGENTS)]
            peer.ring(uniqueid, agent)
        peer.answer(uniqueid, agent)
        peer.advance(60)
        peer.hangup(uniqueid)


class CountingPeer(AmiPeer):
    def __init__(self) -> None:
        super().__init__(chunk=65536)
        self.emitted = 0

    def emit(self, name: str, headers: list[tuple[str, str]], privilege: str = "call,all") -> None:
        self.emitted += 1
        super().emit(name, headers, privilege)


async def through_service(engine: Engine, calls: int, *, in_process: bool = False) -> tuple[int, float]:
    peer = CountingPeer()
    if not in_process:
        await peer.start()
    for agent in AGENTS:
        peer.add_member(agent, agent)
    settings = Settings(
        pbx_mode="simulator" if in_process else "ami",
        ami_host="127.0.0.1",
        ami_port=peer.port,
        ami_username="civicdesk",
        ami_secret="s3cret",  # noqa: S106
    )
    service = TelephonyService(engine, settings, pbx=SimulatedPbx(peer) if in_process else None)
    task = asyncio.ensure_future(service.run())
    await asyncio.wait_for(service.ready.wait(), 10)
    before = peer.emitted
    started = time.perf_counter()
    batch = 50
    for first in range(0, calls, batch):
        play_calls(peer, min(batch, calls - first))
        await peer.drain()
        await asyncio.sleep(0)
        print(f"\r  {first + batch:>6}/{calls} calls sent", end="", file=sys.stderr, flush=True)
    while await asyncio.to_thread(_finished, engine) < calls:
        await asyncio.sleep(0.02)
    elapsed = time.perf_counter() - started
    print(file=sys.stderr)
    service.stop()
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await peer.close()
    return peer.emitted - before, elapsed


def _finished(engine: Engine) -> int:
    with unit_of_work(engine) as session:
        query = select(func.count()).select_from(Call).where(Call.outcome != Outcome.IN_PROGRESS)
        return int(session.exec(query).one())


def tracker_alone(calls: int) -> tuple[int, float]:
    """The same events, parsed once in advance, through the tracker only."""
    recorded: list[dict[str, str]] = []

    class Recorder(AmiPeer):
        def emit(self, name: str, headers: list[tuple[str, str]], privilege: str = "call,all") -> None:
            recorded.append(dict(self._event(name, headers, privilege)))

    peer = Recorder()
    for agent in AGENTS:
        peer.add_member(agent, agent)
    play_calls(peer, calls)
    tracker = new_tracker(Settings())
    now = datetime.now(UTC)
    started = time.perf_counter()
    for event in recorded:
        tracker.feed(event, now)
    tracker.take_changes()
    return len(recorded), time.perf_counter() - started


def vosk_rtf() -> str:
    model = os.environ.get("CIVICDESK_VOSK_MODEL")
    if not model:
        return (
            "Vosk real-time factor: not measured here (no model on this machine; set CIVICDESK_VOSK_MODEL)."
        )
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        return "Vosk real-time factor: not measured (espeak-ng and sox are needed to make test speech)."
    from nlp.speech import VoskRecogniser

    workdir = Path(tempfile.mkdtemp(prefix="civicdesk-speech-"))
    spoken, phone = workdir / "spoken.wav", workdir / "phone.wav"
    sentence = "Đèn đường ở hẻm năm đường Ngô Gia Tự phường Thanh Sơn bị tắt cả tuần nay"
    subprocess.run(["espeak-ng", "-v", "vi", "-w", str(spoken), sentence], check=True)  # noqa: S603, S607
    subprocess.run(["sox", str(spoken), "-r", "8000", "-c", "1", "-b", "16", str(phone)], check=True)  # noqa: S603, S607
    recogniser = VoskRecogniser(Path(model))
    recogniser.transcribe(phone)  # loads the model
    started = time.perf_counter()
    transcript = recogniser.transcribe(phone)
    elapsed = time.perf_counter() - started
    factor = elapsed / transcript.audio_seconds
    return f"Vosk real-time factor: {factor:.3f} on {transcript.audio_seconds:.1f} s of 8 kHz speech."


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--server", default="", help="a PostgreSQL server URL; default: the embedded one")
    args = parser.parse_args()
    server = args.server or embedded.postgres_url(get_settings().var_dir)
    wiring.install()
    print(f"{args.calls} calls through the service", file=sys.stderr)
    with scratch_database(server) as engine:
        events, seconds = asyncio.run(through_service(engine, args.calls))
    rows = [f"| service, PostgreSQL | {events:,} | {seconds:.2f} s | **{events / seconds:,.0f}** |"]
    with scratch_database(server) as engine:
        events, seconds = asyncio.run(through_service(engine, args.calls, in_process=True))
    rows.append(
        f"| service, PostgreSQL, in-process simulated PBX (no socket, no panoramisk) | {events:,} "
        f"| {seconds:.2f} s | {events / seconds:,.0f} |"
    )
    events, seconds = tracker_alone(args.calls)
    rows.append(
        f"| tracker alone (no socket, no database) | {events:,} | {seconds:.3f} s | {events / seconds:,.0f} |"
    )
    body = "\n".join(
        [
            f"{args.calls:,} app_queue calls (answered, abandoned, ring-no-answer then answered; "
            "about 20 events each) played by the AMI protocol peer over loopback TCP to the real service "
            "on one core (peer, "
            "panoramisk and the service share one event loop); timed until the last call record is "
            "committed.",
            "",
            "| path | events | time | events/s |",
            "|---|---:|---:|---:|",
            *rows,
            "",
            vosk_rtf(),
        ]
    )
    write_section("ami-events", "AMI events through the telephony service", body)
    print(body)


if __name__ == "__main__":
    main()

"""`civicdesk telephony`: the long-running AMI listener.

It logs in to the PBX through the PBX port (`telephony/ports.py`: Asterisk over AMI, or the simulated PBX
in process, as CIVICDESK_PBX_MODE says), feeds every event to the tracker, writes what changed every
100 ms in one transaction (so 5,000 events a second cost ten transactions, not five thousand),
resynchronises after every (re)connect, checks the link itself with Ping (a half-open link would
otherwise go unnoticed), reconnects with a growing delay, and sends the actions staff asked for.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import Session

from kernel.city import hotline_number
from kernel.db import unit_of_work
from kernel.observability import heartbeat
from kernel.settings import Settings
from kernel.timeutil import utcnow
from telephony import actions, store
from telephony.adapters import pbx_for
from telephony.ports import Event, Pbx
from telephony.resync import resync
from telephony.tracker import Tracker, event_time

log = logging.getLogger(__name__)

FLUSH_SECONDS = 0.1
ACTION_POLL_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30


def new_tracker(settings: Settings) -> Tracker:
    contexts = [c.strip() for c in settings.ami_inbound_contexts.split(",") if c.strip()]
    return Tracker(
        inbound_contexts=contexts,
        hotline=hotline_number(),
        wrap_up_seconds=settings.queue_wrap_up_seconds,
    )


class TelephonyService:
    def __init__(
        self,
        engine: Engine,
        settings: Settings,
        on_voicemail: Callable[[Session, int], None] | None = None,
        on_recording: Callable[[Session, int], None] | None = None,
        pbx: Pbx | None = None,
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.on_voicemail = on_voicemail
        self.on_recording = on_recording if settings.transcribe_recordings else None
        self.tracker = new_tracker(settings)
        self.pending: list[tuple[Event, datetime]] = []
        self.pbx = pbx if pbx is not None else pbx_for(settings)
        self.pbx.subscribe(self._on_event)
        self.backoff = 1
        self.logins = 0
        self.resyncs = 0
        self.ready = asyncio.Event()
        self._stopping = False
        self._write_lock = asyncio.Lock()

    # -- life cycle ----------------------------------------------------------------------------------

    async def run(self) -> None:
        await asyncio.to_thread(self._load)
        self.pbx.reconnect_delay = self.backoff
        self.pbx.connect(self._on_login, self._on_disconnect)
        await asyncio.gather(self._flush_loop(), self._action_loop(), self._liveness_loop())

    def stop(self) -> None:
        self._stopping = True
        self.pbx.close()

    def _load(self) -> None:
        with unit_of_work(self.engine) as session:
            for call in store.load_open_calls(session):
                self.tracker.adopt(call)
            for member in store.load_members(session):
                self.tracker.members[member.interface] = member

    # -- events --------------------------------------------------------------------------------------

    def _on_event(self, event: Event) -> None:
        self.pending.append((event, utcnow()))

    def _feed_pending(self) -> None:
        batch, self.pending = self.pending, []
        for message, received_at in batch:
            self.tracker.feed(message, received_at)

    async def flush(self) -> int:
        """Feed what arrived and write the changes; returns rows written."""
        async with self._write_lock:
            self._feed_pending()
            changes = self.tracker.take_changes()
            if not any(changes):
                return 0
            return await asyncio.to_thread(self._write, changes)

    def _write(self, changes: store.Changes) -> int:
        with unit_of_work(self.engine) as session:
            return store.save_changes(session, changes, self.on_voicemail, self.on_recording)

    async def _flush_loop(self) -> None:
        while not self._stopping:
            try:
                await self.flush()
            except Exception:  # a database hiccup must not stop the listener; changes stay for the next try
                log.exception("could not write call records; retrying")
            await asyncio.sleep(FLUSH_SECONDS)

    # -- connection ----------------------------------------------------------------------------------

    def _on_login(self) -> None:
        self.logins += 1
        self.backoff = 1
        self.pbx.reconnect_delay = self.backoff
        log.info(
            "AMI connected" if self.logins == 1 else "AMI reconnected",
            extra={
                "pbx": self._where(),
                "ami_host": self.settings.ami_host,
                "ami_port": self.settings.ami_port,
                "logins": self.logins,
            },
        )
        asyncio.ensure_future(self._resync())

    def _where(self) -> str:
        if self.settings.pbx_mode == "simulator":
            return "the simulated PBX in this process"
        return f"AMI at {self.settings.ami_host}:{self.settings.ami_port}"

    def _on_disconnect(self, exc: object) -> None:
        self.ready.clear()
        asyncio.ensure_future(self._report_link(heartbeat.DOWN))
        if self._stopping:
            return
        self.backoff = min(self.backoff * 2, MAX_BACKOFF_SECONDS)
        self.pbx.reconnect_delay = self.backoff
        log.warning(
            "AMI link lost",
            extra={
                "ami_host": self.settings.ami_host,
                "reason": f"{type(exc).__name__}: {exc}" if exc else None,
                "reconnect_in_seconds": self.backoff,
            },
        )

    async def _resync(self) -> None:
        try:
            queue_status = await asyncio.wait_for(self.pbx.send({"Action": "QueueStatus"}), 30)
            channels = await asyncio.wait_for(self.pbx.send({"Action": "CoreShowChannels"}), 30)
            pong = await asyncio.wait_for(self.pbx.send({"Action": "Ping"}), 10)
        except (TimeoutError, asyncio.CancelledError, OSError):
            log.warning(
                "AMI resync incomplete", extra={"ami_host": self.settings.ami_host, "retry": "next login"}
            )
            return
        async with self._write_lock:
            self._feed_pending()
            resync(self.tracker, queue_status, channels, pbx_time(pong[0]))
        await self.flush()
        self.resyncs += 1
        self.ready.set()
        log.info("AMI resynchronised", extra={"ami_host": self.settings.ami_host, "resyncs": self.resyncs})
        await self._report_link(heartbeat.UP)

    async def _liveness_loop(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.settings.ami_ping_seconds)
            if not self.pbx.connected:
                continue
            try:
                await asyncio.wait_for(self.pbx.send({"Action": "Ping"}), 5)
            except (TimeoutError, OSError):
                log.warning(
                    "AMI ping unanswered", extra={"ami_host": self.settings.ami_host, "action": "reconnect"}
                )
                self.pbx.drop()
                continue
            if self.ready.is_set():
                await self._report_link(heartbeat.UP)

    async def _report_link(self, state: str) -> None:
        """The link's state for /metrics and /health/ready, which run in other processes."""
        try:
            await asyncio.to_thread(heartbeat.beat, self.engine, heartbeat.TELEPHONY, state=state)
        except Exception:  # the listener's work matters more than its heartbeat
            log.warning("could not record the AMI link state", exc_info=True)

    # -- actions staff asked for ---------------------------------------------------------------------

    async def _action_loop(self) -> None:
        while not self._stopping:
            await asyncio.sleep(ACTION_POLL_SECONDS)
            if not self.ready.is_set():
                continue
            try:
                await self.send_pending_actions()
            except Exception:
                log.exception("could not send PBX actions; retrying")

    async def send_pending_actions(self) -> None:
        requests = await asyncio.to_thread(self._claim_actions)
        for action_id, ami_action, timeout in requests:
            asyncio.ensure_future(self._send_one(action_id, ami_action, timeout))

    def _claim_actions(self) -> list[tuple[int, dict[str, str], float]]:
        with unit_of_work(self.engine) as session:
            return actions.claim_pending(session, self.settings)

    async def _send_one(self, action_id: int, ami_action: dict[str, str], timeout: float) -> None:
        try:
            answer = await asyncio.wait_for(self.pbx.send(ami_action), timeout)
            result = actions.describe_answer(answer)
        except (TimeoutError, OSError):
            result = actions.Result(ok=False, text="no answer from the PBX")
        await asyncio.to_thread(self._finish_action, action_id, result)

    def _finish_action(self, action_id: int, result: actions.Result) -> None:
        with unit_of_work(self.engine) as session:
            actions.finish(session, action_id, result)


def pbx_time(pong: Event) -> datetime:
    """Asterisk's clock from a Ping answer: durations in the lists are counted on it, not on ours."""
    return event_time(pong, utcnow())


def run_forever(
    engine: Engine,
    settings: Settings,
    on_voicemail: Callable[[Session, int], None] | None,
    on_recording: Callable[[Session, int], None] | None = None,
) -> None:
    service = TelephonyService(engine, settings, on_voicemail, on_recording)
    try:
        asyncio.run(service.run())
    except KeyboardInterrupt:
        service.stop()

"""One LISTEN connection per web process, fanning live events out to its server-sent-event streams.

Producers only write a ``live_event`` row (kernel/live.py); its trigger sends NOTIFY on commit.
The listener starts with the first subscriber, keeps an asyncio queue per subscriber and hands each
event to the subscribers of its topic. When the connection drops it reconnects with backoff and reads
what it missed from the table, so no committed event is lost to a dropped link.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import psycopg
from sqlalchemy.engine import Engine

from kernel import live
from kernel.db import conninfo_of, unit_of_work
from kernel.timeutil import utcnow

log = logging.getLogger(__name__)

CHANNEL = "civicdesk_live"  # the trigger of migration 0015 notifies on this channel
APPLICATION_NAME = "civicdesk-live"
HEALTH_CHECK_SECONDS = 15.0  # with no notification for this long, ask the server whether the link lives
READY_SECONDS = 5.0
BACKOFF_SECONDS = (0.2, 0.5, 1.0, 2.0, 5.0)
QUEUE_SIZE = 1000
BATCH = 100
REMEMBERED = 10_000
LOOK_BACK = timedelta(seconds=5)  # ids can commit out of order: catch-up reads a little further back


@dataclass(frozen=True)
class Message:
    id: int
    topic: str
    kind: str
    payload: dict[str, Any]

    @functools.cached_property
    def server_sent(self) -> str:
        """The event as a text/event-stream record, made once for all the streams it goes to."""
        return f"id: {self.id}\nevent: {self.kind}\ndata: {json.dumps(self.payload)}\n\n"


@dataclass(eq=False)
class Subscription:
    """A stream's mailbox. The stream should end when ``ended``: it fell too far behind, or the server
    is stopping; its browser then reconnects and reads what it missed from the table."""

    topics: frozenset[str]
    queue: asyncio.Queue[Message | None] = field(default_factory=lambda: asyncio.Queue(QUEUE_SIZE))
    ended: bool = False

    def offer(self, message: Message) -> None:
        try:
            self.queue.put_nowait(message)
        except asyncio.QueueFull:
            self.ended = True

    def end(self) -> None:
        self.ended = True
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)  # wakes the stream if it is waiting

    async def next_batch(self, timeout: float) -> list[Message]:
        """What has arrived, waiting up to ``timeout`` seconds for the first event; empty when none
        came or the stream ended. A stream that fell behind catches up in one write, not one per event."""
        try:
            async with asyncio.timeout(timeout):
                first = await self.queue.get()
        except TimeoutError:
            return []
        batch = [first]
        while not self.queue.empty() and len(batch) < BATCH:
            batch.append(self.queue.get_nowait())
        return [message for message in batch if message is not None]


class Listener:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._subscriptions: set[Subscription] = set()
        self._task: asyncio.Task[None] | None = None
        self._listening: asyncio.Event | None = None
        self._last_id: int | None = None
        self._recent: deque[int] = deque(maxlen=REMEMBERED)
        self._recent_set: set[int] = set()
        self.backend_pid: int | None = None
        self._stopping = False

    @contextlib.asynccontextmanager
    async def subscribe(self, topics: Iterable[str]) -> AsyncIterator[Subscription]:
        """Events of ``topics`` committed from now on (waits briefly for the listener to be ready)."""
        listening = self._start()
        subscription = Subscription(frozenset(topics))
        if self._stopping:
            subscription.end()
        self._subscriptions.add(subscription)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(listening.wait(), READY_SECONDS)
            yield subscription
        finally:
            self._subscriptions.discard(subscription)

    def end_streams(self) -> None:
        """The server is stopping: let every stream finish now rather than hold the shutdown."""
        self._stopping = True
        for subscription in self._subscriptions:
            subscription.end()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._task = self._listening = None

    def _start(self) -> asyncio.Event:
        if self._task is None or self._listening is None:
            self._listening = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run(self._listening))
        return self._listening

    async def _run(self, listening: asyncio.Event) -> None:
        failures = 0
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(
                    conninfo_of(self._engine), autocommit=True, application_name=APPLICATION_NAME
                ) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.backend_pid = conn.info.backend_pid
                    await self._catch_up()
                    listening.set()
                    failures = 0
                    await self._pump(conn)
            except (psycopg.Error, OSError) as exc:
                log.warning("live listener lost its database connection, reconnecting: %s", exc)
            except Exception:  # whatever it was, live updates must come back for the whole process
                log.exception("live listener failed, restarting")
            listening.clear()
            await asyncio.sleep(BACKOFF_SECONDS[min(failures, len(BACKOFF_SECONDS) - 1)])
            failures += 1

    async def _pump(self, conn: psycopg.AsyncConnection[Any]) -> None:
        while True:
            async for notify in conn.notifies(timeout=HEALTH_CHECK_SECONDS):
                try:
                    notice = json.loads(notify.payload)
                    await self._handle(notice)
                except (ValueError, KeyError, TypeError):  # not one of ours (a hand-typed NOTIFY)
                    log.warning("live listener skipped a notification it cannot read: %.200s", notify.payload)
            await conn.execute("SELECT 1")  # a silently dead link raises here

    async def _handle(self, notice: dict[str, Any]) -> None:
        payload = notice.get("payload")
        if payload is None:  # too big for NOTIFY: read it from the row
            payload = await asyncio.to_thread(self._payload_of, int(notice["id"]))
        self._deliver(Message(int(notice["id"]), notice["topic"], notice["kind"], payload or {}))

    def _deliver(self, message: Message) -> None:
        if message.id in self._recent_set:
            return
        if len(self._recent) == self._recent.maxlen:
            self._recent_set.discard(self._recent[0])
        self._recent.append(message.id)
        self._recent_set.add(message.id)
        self._last_id = max(self._last_id or 0, message.id)
        for subscription in list(self._subscriptions):
            if message.topic in subscription.topics:
                subscription.offer(message)

    async def _catch_up(self) -> None:
        """After (re)connecting: what committed while nobody listened. The first time, nothing."""
        if self._last_id is None:
            self._last_id = await asyncio.to_thread(self._latest_id)
            return
        for message in await asyncio.to_thread(self._missed, self._last_id):
            self._deliver(message)

    def _latest_id(self) -> int:
        with unit_of_work(self._engine) as session:
            return live.latest_id(session)

    def _missed(self, after_id: int) -> list[Message]:
        with unit_of_work(self._engine) as session:
            rows = live.read_since(session, None, after_id, limit=5000, also_since=utcnow() - LOOK_BACK)
            return [Message(row.id or 0, row.topic, row.kind, row.payload) for row in rows]

    def _payload_of(self, event_id: int) -> dict[str, Any]:
        with unit_of_work(self._engine) as session:
            row = session.get(live.LiveEvent, event_id)
            return row.payload if row is not None else {}


async def replay(engine: Engine, topics: Iterable[str], after_id: int) -> list[Message]:
    """What a reconnecting browser missed after the last event it saw (Last-Event-ID). The look-back
    may send again an event of the last few seconds: the pages treat events as hints to re-read, so a
    repeat is harmless where a miss is not."""

    def read() -> list[Message]:
        with unit_of_work(engine) as session:
            rows = live.read_since(session, topics, after_id, limit=500, also_since=utcnow() - LOOK_BACK)
            missed = [row for row in rows if row.id != after_id]
            return [Message(row.id or 0, row.topic, row.kind, row.payload) for row in missed]

    return await asyncio.to_thread(read)

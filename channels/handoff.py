"""Stored deliveries handed to the workers without making the provider wait for the broker.

A webhook answers once its events are stored (committed); publishing one Celery message per delivery
cost the web process a fifth of its time on that path (issue 22). Here the request only puts the stored
ids on an in-process queue; one thread of the web process drains it and publishes everything waiting as
one message (``channels.process_inbound_many``), which a worker fans out into the usual per-event task.
Under a flood of deliveries one message then carries many events (the thread lets a burst gather for
``LINGER_SECONDS`` after its first id); when quiet, each goes within that moment.

Nothing is lost if publishing fails or the process stops with ids still queued: the rows are stored
and ``pending``, and ``channels.sweep`` sends every pending event older than two minutes again."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

Publish = Callable[[list[int]], None]
MOST_PER_MESSAGE = 500
# How long the thread lets a burst gather after its first id before publishing. A publish costs the
# process ~0.3 ms of CPU however many ids it carries; without the wait the thread published as soon as
# one id came, two or three a message under a steady flood (issue 22). The provider has had its answer:
# only the workers wait, this long at most.
LINGER_SECONDS = 0.01


class Handoff:
    def __init__(
        self, publish: Publish, most: int = MOST_PER_MESSAGE, linger: float = LINGER_SECONDS
    ) -> None:
        self._publish = publish
        self._most = most
        self._linger = linger
        self._sleep = time.sleep
        self._waiting: queue.SimpleQueue[int] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._starting = threading.Lock()

    def put(self, event_ids: Sequence[int]) -> None:
        """Queue committed events for publishing (never blocks, never raises on a broker failure)."""
        for event_id in event_ids:
            self._waiting.put(event_id)
        if event_ids:
            self._start()

    def _start(self) -> None:
        with self._starting:  # started lazily: in each uvicorn worker process, after its fork
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="inbound-handoff", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            self.publish_waiting(block=True)

    def publish_waiting(self, *, block: bool = False) -> list[int]:
        """Publish what is queued as one message (after waiting for the first id, and then for the
        ids that follow it for a moment, if ``block``)."""
        try:
            batch = [self._waiting.get(block=block)]
        except queue.Empty:
            return []
        if block and self._linger:
            self._sleep(self._linger)
        while len(batch) < self._most:
            try:
                batch.append(self._waiting.get_nowait())
            except queue.Empty:
                break
        try:
            self._publish(batch)
        except Exception:  # the rows stay pending: channels.sweep sends them again
            log.exception("could not hand %d stored events to the workers; the sweep will", len(batch))
        return batch

"""The public list page and its API, rendered once per few seconds for every web worker (issue 22).

At a million tickets a list costs ~100-170 ms of SQL and rendering (the capped count, the page, the map's
points, the reporters' names), and fifty visitors at once queue everybody else. The rendered bytes are kept
in the shared cache (``kernel.sharedcache``) per database, kind, language and query for
``public_list_seconds`` (30 s by default; the page says so): a new report, a change or a renamed category
shows within that time, and a kept copy costs no SQL at all. When a copy is due, one request renews it
while the others keep serving the old one for at most ``RENEW_SECONDS`` more; nothing is kept when the
setting is 0 or no cache server is reachable.

Each process also keeps what it last took from the shared cache, until that copy's own due time: the
busiest public page is then answered from memory on the event loop, without a trip to the thread pool or
to the cache server. When it is due, one request of the process asks the shared cache (where another
worker may have renewed it already) or renders it; the process's other requests meanwhile keep being
answered with the old copy, for at most ``RENEW_SECONDS``.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterable

from kernel.settings import get_settings
from kernel.sharedcache import shared_cache

RENEW_SECONDS = 10  # how long one request has to render a due copy before another may try
KEPT_AFTER_DUE_SECONDS = 300  # an old copy stays to be served while a new one is rendered
LOCAL_ENTRIES = 256  # lists by kind, language and query: the few that visitors share


def list_seconds() -> int:
    return get_settings().public_list_seconds


class _LocalCopies:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[float, bytes]] = {}
        self._renewing: set[str] = set()
        self._lock = threading.Lock()

    def serve(self, key: str) -> bytes | None:
        """The kept copy while it is fresh, or while another request of this process renews it; None
        when the caller is to renew it (then ``done`` when it has)."""
        entry = self._entries.get(key)
        if entry is None:
            return None
        due, body = entry
        now = time.time()
        if now < due:
            return body
        with self._lock:
            if key in self._renewing and now < due + RENEW_SECONDS:
                return body
            self._renewing.add(key)
        return None

    def keep(self, key: str, due: float, body: bytes) -> None:
        with self._lock:
            if len(self._entries) >= LOCAL_ENTRIES:
                self._entries.clear()  # rare (many distinct queries): start again rather than track age
            self._entries[key] = (due, body)

    def done(self, key: str) -> None:
        with self._lock:
            self._renewing.discard(key)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._renewing.clear()


LOCAL = _LocalCopies()


def fresh_here(key: str) -> bytes | None:
    """This process's copy of the list while it is fresh (or being renewed by another of its requests),
    else None: the caller then calls ``kept_list``. No I/O (for the event loop)."""
    return LOCAL.serve(key) if list_seconds() > 0 else None


def kept_list(key: str, render: Callable[[], bytes]) -> bytes:
    """The rendered list under this key, from the shared cache while it is fresh, else rendered (and
    kept)."""
    seconds = list_seconds()
    if seconds <= 0:
        return render()
    try:
        return _shared_or_rendered(key, seconds, render)
    finally:
        LOCAL.done(key)


def _shared_or_rendered(key: str, seconds: int, render: Callable[[], bytes]) -> bytes:
    cache = shared_cache()
    entry = cache.get(key)
    if entry is not None:
        due, body = _unpacked(entry)
        if time.time() < due:
            LOCAL.keep(key, due, body)
            return body
        if not cache.claim(key, RENEW_SECONDS):
            return body
    body = render()
    due = time.time() + seconds
    if cache.put(key, _packed(due, body), seconds + KEPT_AFTER_DUE_SECONDS):
        LOCAL.keep(key, due, body)
    return body


def list_key(database: str, kind: str, parts: Iterable[str]) -> str:
    """The shared key of a list: the database by its address (password hidden), kind, language and
    query."""
    return "list:" + hashlib.sha256("|".join([database, kind, *parts]).encode()).hexdigest()


def _packed(due: float, body: bytes) -> bytes:
    return b"%d\n" % int(due * 1000) + body


def _unpacked(entry: bytes) -> tuple[float, bytes]:
    due, _, body = entry.partition(b"\n")
    return int(due) / 1000, body

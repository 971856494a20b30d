"""The public list page and its API, rendered once per few seconds for every web worker (issue 22).

At a million tickets a list costs ~100-170 ms of SQL and rendering (the capped count, the page, the map's
points, the reporters' names), and fifty visitors at once queue everybody else. The rendered bytes are kept
in the shared cache (``kernel.sharedcache``) per database, kind, language and query for
``public_list_seconds`` (30 s by default; the page says so): a new report, a change or a renamed category
shows within that time, and a kept copy costs no SQL at all. When a copy is due, one request renews it
while the others keep serving the old one for at most ``RENEW_SECONDS`` more; nothing is kept when the
setting is 0 or no cache server is reachable.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable

from sqlmodel import Session

from kernel.settings import get_settings
from kernel.sharedcache import shared_cache

RENEW_SECONDS = 10  # how long one request has to render a due copy before another may try
KEPT_AFTER_DUE_SECONDS = 300  # an old copy stays to be served while a new one is rendered


def list_seconds() -> int:
    return get_settings().public_list_seconds


def kept_list(session: Session, kind: str, parts: Iterable[str], render: Callable[[], bytes]) -> bytes:
    """The rendered list for this kind and these parts (language, query), from the shared cache while
    it is fresh, else rendered (and kept)."""
    seconds = list_seconds()
    if seconds <= 0:
        return render()
    key = list_key(session, kind, parts)
    cache = shared_cache()
    entry = cache.get(key)
    if entry is not None:
        due, body = _unpacked(entry)
        if time.time() < due or not cache.claim(key, RENEW_SECONDS):
            return body
    body = render()
    cache.put(key, _packed(time.time() + seconds, body), seconds + KEPT_AFTER_DUE_SECONDS)
    return body


def list_key(session: Session, kind: str, parts: Iterable[str]) -> str:
    """The shared key of a list: the database by its address (no statement), kind, language and query."""
    database = session.get_bind().engine.url.render_as_string(hide_password=True)
    return "list:" + hashlib.sha256("|".join([database, kind, *parts]).encode()).hexdigest()


def _packed(due: float, body: bytes) -> bytes:
    return b"%d\n" % int(due * 1000) + body


def _unpacked(entry: bytes) -> tuple[float, bytes]:
    due, _, body = entry.partition(b"\n")
    return int(due) / 1000, body

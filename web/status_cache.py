"""The citizen's status page and its JSON, rendered once per version of the ticket and kept.

The version is ``flows.status_page``'s: a digest of everything the page is made of, read in the same
statement as the page's data. Kept entries are keyed by a digest of the token, the version and the
language: a page is never served for another link or in another language. They are kept twice: in the
process (the newest few thousand) and in Redis/Valkey (``kernel.sharedcache``) for a day, so a page
rendered by one web worker is served by every other at the cost of one GET; without a cache server the
process's copy is all there is. Tracking links are secrets: answers are ``private, no-cache`` (the
browser may keep the page but asks us each time; no shared cache may keep it), and the shared cache's
keys hold a digest of the token, never the token.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from datetime import UTC
from email.utils import format_datetime, parsedate_to_datetime

from fastapi import Request
from fastapi.concurrency import run_in_threadpool

from flows.status_page import StatusRead, read_status
from kernel.errors import NotFound
from kernel.i18n import _
from kernel.sharedcache import shared_cache
from web.deps import request_session, statement_pool
from web.public_access import ticket_or_404

CACHE_CONTROL = "private, no-cache"
VARY = "Cookie, Accept-Language"
MAX_ENTRIES = 2048  # ~10-20 MB of pages and JSON: the tickets citizens are looking at now
SHARED_SECONDS = 86_400  # in Redis: a citizen who comes back tomorrow finds a new version anyway
PageKey = tuple[str, str, str]  # a digest of the token, the version, the kind (JSON, page and language)


def etag(read: StatusRead, kind: str) -> str:
    """Weak for pages (each carries a fresh form id), strong for the JSON (the same bytes)."""
    return f'W/"{read.tag}-{kind}"' if kind != "json" else f'"{read.tag}-json"'


def headers(read: StatusRead, kind: str) -> dict[str, str]:
    return {
        "ETag": etag(read, kind),
        "Last-Modified": format_datetime(read.last_modified.astimezone(UTC), usegmt=True),
        "Cache-Control": CACHE_CONTROL,
        "Vary": VARY,
    }


async def read_or_404(request: Request, token: str) -> StatusRead:
    """``flows.status_page.read_status``: one round trip from the event loop; a wrong link counts
    against the caller's address and answers 404."""
    read = await read_status(statement_pool(request), token)
    if read is None:
        await run_in_threadpool(_wrong_link, request, token)
        raise NotFound(_("Không tìm thấy phản ánh."))  # created since: rare enough to be asked again
    return read


def _wrong_link(request: Request, token: str) -> None:
    with request_session(request) as session:
        ticket_or_404(session, request, token)  # counts the wrong link and raises NotFound


def not_modified(request: Request, read: StatusRead, kind: str) -> bool:
    """The browser's copy is current: its If-None-Match names this version, or (without one, RFC 9110
    13.1.3) its If-Modified-Since is not older than the last change."""
    if request.method not in ("GET", "HEAD"):
        return False
    wanted = request.headers.get("if-none-match")
    if wanted is not None:
        ours = etag(read, kind).removeprefix("W/")
        return any(tag.strip().removeprefix("W/") in (ours, "*") for tag in wanted.split(","))
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        seen = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False
    return seen.tzinfo is not None and read.last_modified <= seen


class PageCache:
    """A bounded least-recently-used map, shared by the process's threads, in front of the cache shared
    by every web worker."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[PageKey, bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries

    @staticmethod
    def key(token: str, read: StatusRead, kind: str) -> PageKey:
        return hashlib.sha256(token.encode()).hexdigest(), read.tag, kind

    def local(self, key: PageKey) -> bytes | None:
        """This process's copy: no round trip, so it may be asked on the event loop."""
        with self._lock:
            body = self._entries.get(key)
            if body is not None:
                self._entries.move_to_end(key)
            return body

    def get(self, key: PageKey) -> bytes | None:
        """This process's copy, else the one another web worker kept (a round trip to the cache)."""
        body = self.local(key)
        if body is not None:
            return body
        body = shared_cache().get(_shared_key(key))
        if body is not None:
            self._keep(key, body)
        return body

    def put(self, key: PageKey, body: bytes) -> None:
        self._keep(key, body)
        shared_cache().put(_shared_key(key), body, SHARED_SECONDS)

    def _keep(self, key: PageKey, body: bytes) -> None:
        with self._lock:
            self._entries[key] = body
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget this process's copies (the shared ones expire by themselves)."""
        with self._lock:
            self._entries.clear()


def _shared_key(key: PageKey) -> str:
    token_digest, tag, kind = key
    return f"status:{token_digest}:{tag}:{kind}"


PAGES = PageCache()

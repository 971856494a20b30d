"""The citizen's status page and its JSON, rendered once per version of the ticket and kept in the process.

A version is one statement: a digest of every row the page is made of — the ticket, its public and
private events, attachments, SLA clocks, the reporter and their merges, the reports merged with it and
the staff who worked on it — each by key and ``xmin`` (PostgreSQL changes a row's ``xmin`` with every
committed insert or update; a deletion drops its key from the digest). To it are added the reference
tables' fingerprint (category and ward names; read by the same statement), whether the reopening window
is still open (the page changes with the clock there) and the public base address. Any change the page
could show therefore gives another version; an unchanged ticket gives the same one in every web worker,
so its ETag holds across them.

Kept entries are keyed by a digest of the token, the version and the language: a page is never served
for another link or in another language. They are kept twice: in the process (the newest few thousand)
and in Redis/Valkey (``kernel.sharedcache``) for a day, so a page rendered by one web worker is served
by every other at the cost of one GET; without a cache server the process's copy is all there is.
Tracking links are secrets: answers are ``private, no-cache`` (the browser may keep the page but asks us
each time; no shared cache may keep it), and the shared cache's keys hold a digest of the token, never the
token.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from functools import lru_cache

from fastapi import Request
from sqlalchemy import TextClause, text
from sqlmodel import Session

from kernel.errors import NotFound
from kernel.i18n import _
from kernel.settings import get_settings
from kernel.sharedcache import shared_cache
from kernel.timeutil import utcnow
from tickets.refcache import fingerprint_expression, remember
from web.public_access import ticket_or_404

_VERSION = """
SELECT t.id, t.resolved_at, md5(concat_ws('|', t.xmin::text,
    (SELECT string_agg(e.id::text || ':' || e.xmin::text, ',' ORDER BY e.id)
       FROM ticket_event e WHERE e.ticket_id = t.id),
    (SELECT string_agg(a.id::text || ':' || a.xmin::text, ',' ORDER BY a.id)
       FROM attachment a WHERE a.ticket_id = t.id),
    (SELECT string_agg(c.id::text || ':' || c.xmin::text, ',' ORDER BY c.id)
       FROM sla_clock c WHERE c.ticket_id = t.id),
    (SELECT c.xmin::text FROM citizen c WHERE c.id = t.citizen_id),
    (SELECT string_agg(m.id::text || ':' || m.xmin::text, ',' ORDER BY m.id)
       FROM citizen_merge m WHERE m.target_id = t.citizen_id OR m.source_id = t.citizen_id),
    (SELECT string_agg(d.id::text || ':' || d.xmin::text || ':' || coalesce(dc.xmin::text, ''), ','
                       ORDER BY d.id)
       FROM ticket d LEFT JOIN citizen dc ON dc.id = d.citizen_id
      WHERE d.duplicate_of_id = t.id OR d.id = t.duplicate_of_id),
    (SELECT string_agg(u.id::text || ':' || u.xmin::text, ',' ORDER BY u.id)
       FROM "user" u
      WHERE u.id = t.assignee_id
         OR u.id IN (SELECT e.actor_user_id FROM ticket_event e WHERE e.ticket_id = t.id))
  )),
  greatest(t.updated_at,
           (SELECT max(e.created_at) FROM ticket_event e WHERE e.ticket_id = t.id),
           (SELECT max(a.created_at) FROM attachment a WHERE a.ticket_id = t.id)),
  {reference}
FROM ticket t WHERE t.tracking_token = :token
"""


@lru_cache(maxsize=4)
def _version_statement(reference: str) -> TextClause:
    """The version with the reference tables' fingerprint: one round trip for a kept page."""
    return text(_VERSION.format(reference=reference))


CACHE_CONTROL = "private, no-cache"
VARY = "Cookie, Accept-Language"
MAX_ENTRIES = 2048  # ~10-20 MB of pages and JSON: the tickets citizens are looking at now
SHARED_SECONDS = 86_400  # in Redis: a citizen who comes back tomorrow finds a new version anyway


@dataclass(frozen=True)
class Version:
    ticket_id: int
    tag: str
    last_modified: datetime

    def etag(self, kind: str) -> str:
        """Weak for pages (each carries a fresh form id), strong for the JSON (the same bytes)."""
        return f'W/"{self.tag}-{kind}"' if kind != "json" else f'"{self.tag}-json"'

    def headers(self, kind: str) -> dict[str, str]:
        return {
            "ETag": self.etag(kind),
            "Last-Modified": format_datetime(self.last_modified.astimezone(UTC), usegmt=True),
            "Cache-Control": CACHE_CONTROL,
            "Vary": VARY,
        }


def version_of(session: Session, token: str) -> Version | None:
    """The ticket behind a tracking link and the version of what its page shows, or None."""
    if not token:
        return None
    row = session.execute(_version_statement(fingerprint_expression()), {"token": token}).first()
    if row is None:
        return None
    ticket_id, resolved_at, digest, changed, reference_fingerprint = row
    remember(session, reference_fingerprint)  # a page rendered next reads the reference tables from here
    settings = get_settings()
    reopen_open = resolved_at is not None and utcnow() <= resolved_at + timedelta(days=settings.reopen_days)
    parts = (digest, reference_fingerprint, str(reopen_open), settings.public_base_url)
    tag = hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
    return Version(ticket_id, tag, changed.replace(microsecond=0))


def version_or_404(session: Session, request: Request, token: str) -> Version:
    """As ``version_of``; a wrong link counts against the caller's address and answers 404."""
    version = version_of(session, token)
    if version is None:
        ticket_or_404(session, request, token)  # counts the wrong link and raises NotFound
        raise NotFound(_("Không tìm thấy phản ánh."))  # created since: rare enough to be asked again
    return version


def not_modified(request: Request, version: Version, kind: str) -> bool:
    """The browser's copy is current: its If-None-Match names this version, or (without one, RFC 9110
    13.1.3) its If-Modified-Since is not older than the last change."""
    if request.method not in ("GET", "HEAD"):
        return False
    wanted = request.headers.get("if-none-match")
    if wanted is not None:
        ours = version.etag(kind).removeprefix("W/")
        return any(tag.strip().removeprefix("W/") in (ours, "*") for tag in wanted.split(","))
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        seen = parsedate_to_datetime(since)
    except (TypeError, ValueError, IndexError):
        return False
    return seen.tzinfo is not None and version.last_modified <= seen


class PageCache:
    """A bounded least-recently-used map, shared by the process's threads, in front of the cache shared
    by every web worker."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self._entries: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()
        self._lock = threading.Lock()
        self.max_entries = max_entries

    @staticmethod
    def key(token: str, version: Version, kind: str) -> tuple[str, str, str]:
        return hashlib.sha256(token.encode()).hexdigest(), version.tag, kind

    def get(self, key: tuple[str, str, str]) -> bytes | None:
        with self._lock:
            body = self._entries.get(key)
            if body is not None:
                self._entries.move_to_end(key)
                return body
        body = shared_cache().get(_shared_key(key))
        if body is not None:
            self._keep(key, body)
        return body

    def put(self, key: tuple[str, str, str], body: bytes) -> None:
        self._keep(key, body)
        shared_cache().put(_shared_key(key), body, SHARED_SECONDS)

    def _keep(self, key: tuple[str, str, str], body: bytes) -> None:
        with self._lock:
            self._entries[key] = body
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget this process's copies (the shared ones expire by themselves)."""
        with self._lock:
            self._entries.clear()


def _shared_key(key: tuple[str, str, str]) -> str:
    token_digest, tag, kind = key
    return f"status:{token_digest}:{tag}:{kind}"


PAGES = PageCache()

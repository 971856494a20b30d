"""The citizen's status page and its JSON, read in one statement (issue 22).

One round trip reads everything the page is made of: the ticket's columns, its public timeline, the
names to mask and the public photos (``tickets.public.STATUS_EXTRAS_SQL``), the deadline promised to the
citizen (``sla.state.citizen_deadline_sql``) and the reference tables' fingerprint (category and ward
names). The page's version is a digest of exactly that, with whether the reopening window is still open
(the page changes with the clock there) and the public base address: any change the page could show
gives another version, a change it cannot show (an internal note) gives the same one, and an unchanged
ticket gives the same version in every web worker, so its ETag holds across them. The timeline and the
names are parsed and masked only when the page is rendered, not when a kept copy answers.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import TextClause, text
from sqlmodel import Session

from kernel.settings import get_settings
from kernel.statement_pool import StatementPool
from kernel.timeutil import utcnow
from sla.state import citizen_deadline_sql
from tickets.public import (
    STATUS_EXTRAS_PARAMETERS,
    STATUS_EXTRAS_SQL,
    PublicReport,
    StatusFacts,
    TimelineEntry,
    reopen_deadline,
    status_report,
)
from tickets.refcache import fingerprint_expression, remember

_STATEMENT = """
SELECT ticket.id, ticket.code, ticket.status, ticket.category_code, ticket.ward_code, ticket.latitude,
       ticket.longitude, ticket.created_at, ticket.resolved_at, ticket.description,
       ticket.public_description, ticket.address_text, ticket.rating, ticket.citizen_id,
       {deadline} AS due_at,
       (SELECT json_agg(json_build_array(e.id, e.kind, e.created_at, e.actor_type, e.note, e.data)
                        ORDER BY e.created_at, e.id)
          FROM ticket_event e WHERE e.ticket_id = ticket.id AND e.public IS true)::text AS timeline,
       (SELECT json_agg(json_build_array(x.kind, x.name, x.ref, x.message_id, x.ticket_ids)
                        ORDER BY x.kind, x.name, x.ref, x.message_id, x.ticket_ids::text)
          FROM ({extras}) x)::text AS extras,
       greatest(ticket.updated_at,
                (SELECT max(e.created_at) FROM ticket_event e WHERE e.ticket_id = ticket.id),
                (SELECT max(a.created_at) FROM attachment a WHERE a.ticket_id = ticket.id)) AS changed,
       {reference} AS reference
  FROM ticket WHERE ticket.tracking_token = :token
"""


@lru_cache(maxsize=4)
def _statement(reference: str) -> TextClause:
    return text(
        _STATEMENT.format(deadline=citizen_deadline_sql(), extras=STATUS_EXTRAS_SQL, reference=reference)
    )


@dataclass(frozen=True)
class StatusRead:
    """A status page's ticket as read, its version (``tag``) and when it last changed."""

    ticket: StatusFacts
    due_at: datetime | None
    tag: str
    last_modified: datetime
    timeline: str | None  # JSON, parsed only for a render
    extras: str | None
    reference_fingerprint: str  # of the category and ward tables, read beside the rest

    def report(self, session: Session) -> PublicReport:
        """What the page and its JSON show (masked), from what was read; the session reads the reference
        tables only if this process does not hold the ones read beside the ticket."""
        remember(session, self.reference_fingerprint)
        entries = [
            TimelineEntry(event_id, kind, datetime.fromisoformat(at), actor_type, note, data or {})
            for event_id, kind, at, actor_type, note, data in _parsed(self.timeline)
        ]
        report = status_report(session, self.ticket, entries, _parsed(self.extras))
        report.due_at = self.due_at
        return report


def _parsed(document: str | None) -> list[list[Any]]:
    return json.loads(document) if document else []


async def read_status(statements: StatementPool, token: str) -> StatusRead | None:
    """The ticket behind a tracking link with what its page shows, or None: one statement, the request's
    only round trip, sent from the event loop (``kernel.statement_pool``)."""
    if not token:
        return None
    parameters = {"token": token, **STATUS_EXTRAS_PARAMETERS}
    row = await statements.fetch_one(_statement(fingerprint_expression()), parameters)
    if row is None:
        return None
    *columns, due_at, timeline, extras, changed, reference_fingerprint = row
    ticket = StatusFacts(*columns)
    reopen_until = reopen_deadline(ticket)
    reopen_open = reopen_until is not None and utcnow() <= reopen_until
    base_url = get_settings().public_base_url
    shown = (columns, due_at, timeline, extras, reference_fingerprint, reopen_open, base_url)
    tag = hashlib.sha256(repr(shown).encode()).hexdigest()[:32]
    return StatusRead(
        ticket, due_at, tag, changed.replace(microsecond=0), timeline, extras, reference_fingerprint
    )

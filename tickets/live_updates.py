"""Tell the staff pages that tickets moved, so worklists and boards refresh without a reload.

The event says only that something changed: each page re-reads what its viewer may see."""

from __future__ import annotations

from sqlmodel import Session

from kernel import live

TICKETS_TOPIC = "tickets"
_PUBLISHED = "tickets_live_published"


def tell_staff_pages(session: Session) -> None:
    """Once per transaction is enough, however many events it records."""
    transaction = session.get_transaction()
    if transaction is None or session.info.get(_PUBLISHED) == id(transaction):
        return
    session.info[_PUBLISHED] = id(transaction)
    live.publish(session, TICKETS_TOPIC, "ticket_changed", {})

"""Human ticket codes (PR-2026-000123) and secret tracking tokens."""

from __future__ import annotations

import secrets

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col

from tickets.models import TicketSequence

TOKEN_BYTES = 24  # 192 random bits, URL-safe: unguessable and not enumerable


def new_tracking_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def _bump(session: Session, year: int) -> int | None:
    result: int | None = session.execute(
        update(TicketSequence)
        .where(TicketSequence.year == year)  # type: ignore[arg-type]
        .values(last=TicketSequence.last + 1)
        .returning(col(TicketSequence.last))
    ).scalar_one_or_none()
    return result


def next_ticket_code(session: Session, *, prefix: str, year: int) -> str:
    """The next code of the year. The counter row is updated in place, so concurrent creators queue
    on its row lock and never share a number."""
    bumped = _bump(session, year)
    if bumped is None:
        try:
            with session.begin_nested():
                session.add(TicketSequence(year=year, last=1))
            bumped = 1
        except IntegrityError:  # another creator opened the year first
            bumped = _bump(session, year)
            assert bumped is not None
    return f"{prefix}-{year}-{bumped:06d}"

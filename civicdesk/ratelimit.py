"""Rate limits kept in the database, so they hold across web workers and restarts.

Counts are kept per fixed window, but a request is judged on a sliding window: the previous
window's count, weighted by how much of it still overlaps the last ``window_seconds``, plus the
current count. A burst straddling a window boundary is therefore not let through twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Field, Session, SQLModel, col, select

from civicdesk.errors import TooManyRequests
from civicdesk.timeutil import UTCDateTime, utcnow


class RateLimitWindow(SQLModel, table=True):
    __tablename__ = "rate_limit_window"

    key: str = Field(primary_key=True, sa_type=String(200))
    window_start: datetime = Field(primary_key=True, sa_type=UTCDateTime)
    hits: int = 0


def hit(
    session: Session,
    key: str,
    *,
    limit: int,
    window_seconds: int,
    message: str,
    now: datetime | None = None,
) -> int:
    """Count one hit for ``key`` in the current window; refuse with 429 past ``limit``."""
    now = now or utcnow()
    start = datetime.fromtimestamp(now.timestamp() // window_seconds * window_seconds, tz=now.tzinfo)
    first_hit = insert(RateLimitWindow).values(key=key[:200], window_start=start, hits=1)
    statement = first_hit.on_conflict_do_update(
        index_elements=["key", "window_start"],
        set_={"hits": col(RateLimitWindow.hits) + 1},
    ).returning(col(RateLimitWindow.hits))
    hits: int = session.execute(statement).scalar_one()
    elapsed = (now - start).total_seconds()
    previous_start = datetime.fromtimestamp(start.timestamp() - window_seconds, tz=now.tzinfo)
    previous_hits = session.exec(
        select(RateLimitWindow.hits).where(
            RateLimitWindow.key == key[:200], RateLimitWindow.window_start == previous_start
        )
    ).first()
    overlap = max(0.0, 1 - elapsed / window_seconds)
    estimate = hits + (previous_hits or 0) * overlap
    if estimate > limit:
        raise TooManyRequests(message, retry_after=int(window_seconds - elapsed) + 1)
    return hits

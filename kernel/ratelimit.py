"""Rate limits kept in the database, so they hold across web workers and restarts.

Counts are kept per fixed window, but a request is judged on a sliding window: the previous
window's count, weighted by how much of it still overlaps the last ``window_seconds``, plus the
current count. A burst straddling a window boundary is therefore not let through twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String
from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Field, Session, SQLModel, col, select

from kernel.errors import TooManyRequests
from kernel.timeutil import UTCDateTime, utcnow


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


class Backoff(SQLModel, table=True):
    """Failures counted per key (an address) with a growing pause: from the ``free``-th failure on, each
    one closes the key for twice as long as the one before, up to a ceiling; a quiet spell forgets them."""

    __tablename__ = "rate_limit_backoff"

    key: str = Field(primary_key=True, sa_type=String(200))
    failures: int = 0
    last_failure_at: datetime = Field(sa_type=UTCDateTime)
    closed_until: datetime | None = Field(default=None, sa_type=UTCDateTime)


@dataclass(frozen=True)
class BackoffPolicy:
    free: int
    first_pause_seconds: int
    longest_pause_seconds: int
    forget_after_seconds: int
    message: str


def check_backoff(session: Session, key: str, policy: BackoffPolicy, *, now: datetime | None = None) -> None:
    """Refuse with 429 while ``key`` is paused."""
    now = now or utcnow()
    closed_until = session.exec(select(Backoff.closed_until).where(Backoff.key == key[:200])).first()
    if closed_until and closed_until > now:
        raise TooManyRequests(policy.message, retry_after=math.ceil((closed_until - now).total_seconds()))


def record_failure(session: Session, key: str, policy: BackoffPolicy, *, now: datetime | None = None) -> None:
    now = now or utcnow()
    session.execute(
        insert(Backoff)
        .values(key=key[:200], failures=0, last_failure_at=now)
        .on_conflict_do_nothing(index_elements=["key"])
    )
    row = session.exec(select(Backoff).where(Backoff.key == key[:200]).with_for_update()).one()
    if (now - row.last_failure_at).total_seconds() > policy.forget_after_seconds:
        row.failures = 0
    row.failures += 1
    row.last_failure_at = now
    beyond = row.failures - policy.free
    if beyond >= 0:
        pause = min(policy.first_pause_seconds * 2 ** min(beyond, 30), policy.longest_pause_seconds)
        row.closed_until = now + timedelta(seconds=pause)
    session.add(row)

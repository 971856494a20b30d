"""The audit log of staff actions: who did what, from where, and how it ended. Append-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, String
from sqlmodel import Field, Session, SQLModel, col, select

from kernel.timeutil import UTCDateTime, utcnow


class AuditEntry(SQLModel, table=True):
    __tablename__ = "staff_audit"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, index=True)
    user_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    username: str = Field(default="", sa_type=String(64))
    action: str = Field(sa_type=String(40))
    target: str = Field(default="", sa_type=String(300))
    outcome: int = 0
    address: str = Field(default="", sa_type=String(64))
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


def record(
    session: Session,
    action: str,
    *,
    user_id: int | None = None,
    username: str = "",
    target: str = "",
    outcome: int = 0,
    address: str = "",
    **detail: Any,
) -> AuditEntry:
    entry = AuditEntry(
        user_id=user_id,
        username=username[:64],
        action=action[:40],
        target=target[:300],
        outcome=outcome,
        address=address[:64],
        detail=detail,
    )
    session.add(entry)
    return entry


def recent(session: Session, *, limit: int = 200, user_id: int | None = None) -> list[AuditEntry]:
    query = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(limit)
    if user_id is not None:
        query = query.where(AuditEntry.user_id == user_id)
    return list(session.exec(query).all())

"""API keys of the Open311 clients (a provincial portal, a ward's app, another city's system)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from kernel.timeutil import UTCDateTime, utcnow


class ApiClient(SQLModel, table=True):
    __tablename__ = "open311_client"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_type=String(120))
    key_hash: str = Field(sa_type=String(64), unique=True)  # SHA-256 of the key; the key is shown once
    key_prefix: str = Field(sa_type=String(8))
    requests_per_minute: int = 60
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    last_used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Open311Request(SQLModel, table=True):
    """What an Open311 client sent that the ticket core has no place for: its own address id (handed
    back on every read) and the media address it gave (the photo itself is stored as an attachment)."""

    __tablename__ = "open311_request"

    ticket_id: int = Field(primary_key=True, foreign_key="ticket.id")
    client_id: int = Field(foreign_key="open311_client.id", index=True)
    address_id: str | None = Field(default=None, sa_type=String(200))
    media_url: str | None = Field(default=None, sa_type=String(2000))

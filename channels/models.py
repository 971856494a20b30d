"""What the channels keep: every inbound event as received (stored before the webhook answers), the
outbox of messages to citizens, the Zalo token pair, and the reply templates administrators edit."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Index, String, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from kernel.timeutil import UTCDateTime, utcnow


class EventState(StrEnum):
    PENDING = "pending"
    DONE = "done"
    IGNORED = "ignored"  # authentic, but nothing to do (receipts, unknown event types, reactions)
    DEAD = "dead"  # kept failing: parked for an administrator to look at and replay


class InboundEvent(SQLModel, table=True):
    __tablename__ = "inbound_event"
    __table_args__ = (
        UniqueConstraint("channel", "event_key"),
        Index("ix_inbound_event_state", "state", "received_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    channel: str = Field(sa_type=String(16))
    event_key: str = Field(sa_type=String(200))  # the provider's message id, or what identifies the event
    event_name: str = Field(sa_type=String(64))
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # the event exactly as received
    state: str = Field(default=EventState.PENDING, sa_type=String(16))
    attempts: int = 0
    last_error: str | None = Field(default=None, sa_type=Text)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    received_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    processed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class OutboxState(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class OutboundMessage(SQLModel, table=True):
    """THE outbox: every message to a citizen, on any route (zalo, facebook, zns, sms, email)."""

    __tablename__ = "outbound_message"
    __table_args__ = (
        Index("ix_outbound_message_state", "state", "created_at"),
        UniqueConstraint("event_key", name="uq_outbound_message_event_key"),
    )

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    channel: str = Field(sa_type=String(16))
    recipient: str = Field(sa_type=String(200))  # Zalo user id, page-scoped id, or comment id
    reply_to_comment: bool = False
    purpose: str = Field(sa_type=String(32))  # receipt, reply, status, resolution
    text: str = Field(sa_type=Text)
    image_url: str | None = Field(default=None, sa_type=String(500))
    state: str = Field(default=OutboxState.QUEUED, sa_type=String(16))
    attempts: int = 0
    route: str | None = Field(default=None, sa_type=String(32))  # how it went: RESPONSE, HUMAN_AGENT, cs…
    provider_message_id: str | None = Field(default=None, sa_type=String(200))
    error: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    claimed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # when it last went `sending`
    sent_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # one message per ticket event and route: "t{ticket}:e{event}:{channel}" (null for older rows)
    event_key: str | None = Field(default=None, sa_type=String(80))
    not_before: datetime | None = Field(default=None, sa_type=UTCDateTime)  # SMS quiet hours
    fallbacks: str = Field(default="", sa_type=String(100))  # the routes still to try if this one fails
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)  # subject, template data, links
    cost: int = 0  # what the provider charges (VND): ZNS and SMS are paid per message


class NotificationSetting(SQLModel, table=True):
    """Notification choices administrators change at run time (the fallback order)."""

    __tablename__ = "notification_setting"

    key: str = Field(primary_key=True, sa_type=String(48))
    value: list[str] = Field(default_factory=list, sa_type=JSON)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ChannelToken(SQLModel, table=True):
    """The current OAuth pair of a channel (Zalo's refresh token works once: it must never be lost)."""

    __tablename__ = "channel_token"

    channel: str = Field(primary_key=True, sa_type=String(16))
    access_token: str = Field(sa_type=Text)
    refresh_token: str = Field(sa_type=Text)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


class ReplyTemplate(SQLModel, table=True):
    __tablename__ = "reply_template"

    key: str = Field(primary_key=True, sa_type=String(48))
    text_vi: str = Field(sa_type=Text)
    text_en: str = Field(default="", sa_type=Text)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

"""What the channels API answers: inbound events, the outbox, reply templates, a ticket's conversation."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from kernel.schemas import FromRow


class InboundEventOut(FromRow):
    """A webhook delivery as stored once, before and after processing."""

    id: int = Field(description="the stored event's number", examples=[42])
    channel: str = Field(description="zalo or facebook", examples=["zalo"])
    event_key: str = Field(description="the provider's message id, or what identifies the event")
    event_name: str = Field(description="the provider's event name", examples=["user_send_text"])
    payload: dict[str, Any] = Field(description="the event exactly as received")
    state: str = Field(description="pending, done, ignored or dead", examples=["dead"])
    attempts: int = Field(description="how often processing was tried", examples=[5])
    last_error: str | None = Field(description="why the last attempt failed")
    ticket_id: int | None = Field(description="the ticket the event opened or joined")
    received_at: datetime = Field(description="when the webhook arrived (UTC)")
    processed_at: datetime | None = Field(description="when processing finished (UTC)")


class OutboundMessageOut(FromRow):
    """One message to a citizen in the outbox, on any route."""

    id: int = Field(description="the message's number", examples=[7])
    ticket_id: int | None = Field(description="the ticket it is about")
    channel: str = Field(description="zalo, facebook, zns, sms or email", examples=["zalo"])
    recipient: str = Field(description="Zalo user id, page-scoped id, comment id, phone or e-mail")
    reply_to_comment: bool = Field(description="a public reply under a Facebook comment")
    purpose: str = Field(description="receipt, reply, status or resolution", examples=["receipt"])
    text: str = Field(description="what the citizen reads")
    image_url: str | None = Field(description="an image sent with the text")
    state: str = Field(description="queued, sending, sent or failed", examples=["sent"])
    attempts: int = Field(description="how often sending was tried")
    route: str | None = Field(description="how it went (the provider's message type)")
    provider_message_id: str | None = Field(description="the provider's id of the sent message")
    error: str | None = Field(description="why sending failed")
    created_at: datetime = Field(description="when it was queued (UTC)")
    claimed_at: datetime | None = Field(description="when a worker last took it (UTC)")
    sent_at: datetime | None = Field(description="when the provider accepted it (UTC)")
    event_key: str | None = Field(
        description="one message per ticket event and route", examples=["t1:e2:zalo"]
    )
    not_before: datetime | None = Field(description="held until then (SMS quiet hours)")
    fallbacks: str = Field(description="the routes still to try if this one fails", examples=["sms,email"])
    payload: dict[str, Any] = Field(description="subject, template data, links")
    cost: int = Field(description="what the provider charges, VND", examples=[300])


class ReplyTemplateOut(FromRow):
    """An administrator's wording of one message template."""

    key: str = Field(description="the template's name", examples=["receipt"])
    text_vi: str = Field(description="the Vietnamese text, with {code}, {link}, {note}, {status}")
    text_en: str = Field(description="the English text; empty falls back to the built-in one")
    updated_at: datetime = Field(description="when it was last changed (UTC)")


class MessageOut(FromRow):
    """One message of a ticket's conversation, in or out, on any channel."""

    id: int = Field(description="the message's number")
    ticket_id: int | None = Field(description="the ticket it belongs to")
    citizen_id: int | None = Field(description="the citizen who wrote or received it")
    author_user_id: int | None = Field(description="the staff member who wrote it, for outgoing ones")
    channel: str = Field(description="the channel it travelled on", examples=["zalo"])
    direction: str = Field(description="in or out", examples=["in"])
    provider_message_id: str | None = Field(description="the provider's id of the message")
    text: str = Field(description="the words", examples=["Đèn đường hỏng trước nhà số 12"])
    created_at: datetime = Field(description="when it was written (UTC)")


class SplitOut(FromRow):
    """The ticket a split message became."""

    id: int = Field(description="the new ticket's number", examples=[1234])
    code: str = Field(description="the new ticket's code", examples=["PR-2026-001234"])

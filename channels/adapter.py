"""One shape for every channel: an authenticated delivery becomes normalised events; a reply goes out
through the channel's client. Fakes and real providers are interchangeable behind these."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol


class EventKind(StrEnum):
    MESSAGE = "message"  # a citizen wrote (text, image, location, file, sticker, postback, quick reply)
    COMMENT = "comment"  # a comment or visitor post on the page
    COMMENT_REMOVED = "comment_removed"
    ECHO = "echo"  # what the page/OA itself sent: recorded as outbound, never a report
    FOLLOW = "follow"
    UNFOLLOW = "unfollow"
    CONTACT = "contact"  # the person gave their phone through the provider's own form (Zalo)
    RECEIPT = "receipt"  # delivered / seen / read
    OTHER = "other"  # authentic, of a type we do not handle: stored and acknowledged


@dataclass(frozen=True)
class Attachment:
    kind: str  # image, file, sticker, audio, video, link
    url: str | None
    name: str | None = None


@dataclass(frozen=True)
class InboundMessage:
    channel: str
    kind: EventKind
    event_name: str
    event_key: str  # unique per channel: the provider's message id or what identifies the event
    sender_id: str | None
    sent_at: datetime
    text: str = ""
    attachments: tuple[Attachment, ...] = ()
    location: tuple[float, float] | None = None
    thread_ref: str | None = None  # comment id (to reply to it) for page comments
    sender_name: str | None = None
    phone: str | None = None  # a phone the provider hands us from its own form or quick reply
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SendResult:
    ok: bool
    provider_message_id: str | None = None
    route: str | None = None
    error: str | None = None
    retry: bool = False  # a temporary failure: try again later


@dataclass(frozen=True)
class Reply:
    """A text for one citizen, on their own conversation."""

    recipient: str  # Zalo user id, page-scoped id, or the comment id for a private reply
    text: str
    last_inbound_at: datetime | None = None  # the citizen's last message: the provider's reply window
    to_comment: bool = False
    human: bool = False  # typed by a person: Messenger's HUMAN_AGENT tag is allowed, never otherwise


class ChannelClient(Protocol):
    channel: str

    def send_text(self, reply: Reply) -> SendResult: ...


def attachment_objects(items: list[Any]) -> Iterator[tuple[str, Any]]:
    """The objects in a webhook's list of attachments, each as (its type, its payload or {}); anything
    in the list that is not an object is passed over. What the payload holds is each provider's own."""
    for item in items:
        if isinstance(item, dict):
            yield str(item.get("type")), item.get("payload") or {}

"""The port every notification route implements, whatever carries it (Zalo OA, Messenger, ZNS, SMS
brandname, e-mail), real or simulated."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from channels.adapter import SendResult


class Route(StrEnum):
    ZALO = "zalo"  # customer-service message inside the OA window
    FACEBOOK = "facebook"  # Messenger inside 24 h (HUMAN_AGENT for a person's reply), or a private reply
    ZNS = "zns"  # Zalo template message to a phone number
    SMS = "sms"  # SMS brandname through an aggregator
    EMAIL = "email"


OWN_ROUTES = (Route.ZALO, Route.FACEBOOK)
FALLBACK_ROUTES = (Route.ZNS, Route.SMS, Route.EMAIL)


@dataclass(frozen=True)
class Outgoing:
    """One message ready to leave the outbox."""

    route: Route
    recipient: str  # Zalo user id, page-scoped id, comment id, phone or e-mail address
    text: str
    key: str  # our idempotency key, passed to providers that take one (tracking_id, RequestId)
    human: bool = False  # typed by a person (may use Messenger's HUMAN_AGENT tag), not automatic
    to_comment: bool = False
    last_inbound_at: datetime | None = None
    payload: dict[str, Any] = field(default_factory=dict)  # subject, html, links, template data


class Notifier(Protocol):
    route: Route

    def deliver(self, message: Outgoing) -> SendResult: ...

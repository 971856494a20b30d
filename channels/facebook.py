"""Facebook Page: the subscription challenge, X-Hub-Signature-256, Messenger and feed parsing, and our
thin httpx client for the Send API and comment replies."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from channels.adapter import Attachment, EventKind, InboundMessage, Reply, SendResult, attachment_objects
from channels.zalo import parse_body
from kernel.errors import Forbidden

CHANNEL = "facebook"
STANDARD_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
TEMPORARY = {2, 1200}
RATE_LIMITS = {4, 17, 32, 613}
PHONE_CHARACTERS = set("+0123456789 ()-.")


def signature(raw_body: bytes, app_secret: str) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), raw_body, hashlib.sha256).hexdigest()


def verify(raw_body: bytes, header: str | None, *, app_secret: str) -> dict[str, Any]:
    if not header:
        raise Forbidden("missing X-Hub-Signature-256")
    if not hmac.compare_digest(header.strip(), signature(raw_body, app_secret)):
        raise Forbidden("wrong X-Hub-Signature-256")
    return parse_body(raw_body)


def _ms(value: Any) -> datetime:
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):  # unreadable or past year 9999: receipt time
        return datetime.now(UTC)


def parse(body: dict[str, Any], *, page_id: str, app_id: str) -> list[InboundMessage]:
    events: list[InboundMessage] = []
    for entry in body.get("entry") or []:
        if not isinstance(entry, dict):
            continue
        for item in [*(entry.get("messaging") or []), *(entry.get("standby") or [])]:
            if isinstance(item, dict):
                events.append(_messaging(item, app_id))
        for change in entry.get("changes") or []:
            if isinstance(change, dict):
                events.append(_change(change, entry, page_id))
    return events


def _messaging(item: dict[str, Any], app_id: str) -> InboundMessage:
    sender = str((item.get("sender") or {}).get("id") or "")
    recipient = str((item.get("recipient") or {}).get("id") or "")
    sent_at = _ms(item.get("timestamp"))
    message = item.get("message")
    if isinstance(message, dict):
        attachments, location = _attachments(message.get("attachments") or [])
        text = str(message.get("text") or (message.get("quick_reply") or {}).get("payload") or "")
        mid = str(message.get("mid") or f"{sender}:{item.get('timestamp')}")
        if message.get("is_echo"):
            ours = str(message.get("app_id") or "") == app_id and app_id
            return InboundMessage(
                CHANNEL,
                EventKind.ECHO,
                "echo" if not ours else "echo_ours",
                mid,
                recipient,
                sent_at,
                text,
                attachments,
                raw=item,
            )
        return InboundMessage(
            CHANNEL,
            EventKind.MESSAGE,
            "message",
            mid,
            sender,
            sent_at,
            text,
            attachments,
            location,
            phone=_shared_phone(message),
            raw=item,
        )
    postback = item.get("postback")
    if isinstance(postback, dict):
        key = str(postback.get("mid") or f"postback:{sender}:{item.get('timestamp')}")
        text = str(postback.get("title") or postback.get("payload") or "")
        return InboundMessage(CHANNEL, EventKind.MESSAGE, "postback", key, sender, sent_at, text, raw=item)
    name = "delivery" if "delivery" in item else "read" if "read" in item else "other"
    kind = EventKind.RECEIPT if name in ("delivery", "read") else EventKind.OTHER
    return InboundMessage(
        CHANNEL, kind, name, f"{name}:{sender}:{item.get('timestamp')}", sender, sent_at, raw=item
    )


def _shared_phone(message: dict[str, Any]) -> str | None:
    """The number a person tapped in Messenger's `user_phone_number` quick reply (Messenger fills it
    from their profile); a plain text message carries no such promise."""
    quick = message.get("quick_reply")
    payload = quick.get("payload") if isinstance(quick, dict) else None
    if not isinstance(payload, str) or not payload.strip():
        return None
    digits = sum(ch.isdigit() for ch in payload)
    return payload.strip() if 8 <= digits <= 15 and set(payload) <= PHONE_CHARACTERS else None


def _attachments(items: list[Any]) -> tuple[tuple[Attachment, ...], tuple[float, float] | None]:
    found: list[Attachment] = []
    location = None
    for kind, payload in attachment_objects(items):
        coordinates = payload.get("coordinates") if isinstance(payload, dict) else None
        if kind == "location" and isinstance(coordinates, dict):
            try:
                location = (float(coordinates["lat"]), float(coordinates["long"]))
            except (KeyError, TypeError, ValueError):
                location = None
        elif kind == "fallback" and isinstance(payload, dict) and "maps" in str(payload.get("url")):
            found.append(Attachment("link", payload.get("url"), payload.get("title")))
        else:
            found.append(Attachment(kind, payload.get("url") if isinstance(payload, dict) else None))
    return tuple(found), location


def _change(change: dict[str, Any], entry: dict[str, Any], page_id: str) -> InboundMessage:
    value = change.get("value") or {}
    item, verb = value.get("item"), value.get("verb")
    author = (value.get("from") or {}).get("id")
    comment_id = str(value.get("comment_id") or value.get("post_id") or "")
    try:
        sent_at = datetime.fromtimestamp(int(value.get("created_time") or entry.get("time") or 0), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        sent_at = datetime.now(UTC)
    is_report = change.get("field") == "feed" and item in ("comment", "post", "status") and comment_id
    if not is_report:
        key = f"feed:{item}:{verb}:{comment_id or value.get('post_id')}:{value.get('created_time')}"
        return InboundMessage(
            CHANNEL, EventKind.OTHER, f"feed_{item}", key, str(author or ""), sent_at, raw=change
        )
    if str(author) == page_id:
        return InboundMessage(
            CHANNEL,
            EventKind.ECHO,
            "page_comment",
            f"comment:{comment_id}:{verb}",
            None,
            sent_at,
            str(value.get("message") or ""),
            raw=change,
        )
    kind = EventKind.COMMENT_REMOVED if verb == "remove" else EventKind.COMMENT
    # an edit is a new event for the same comment: its key carries the verb and time
    key = (
        f"comment:{comment_id}"
        if verb == "add"
        else f"comment:{comment_id}:{verb}:{value.get('created_time')}"
    )
    return InboundMessage(
        CHANNEL,
        kind,
        f"comment_{verb}",
        key,
        str(author) if author else None,
        sent_at,
        str(value.get("message") or ""),
        thread_ref=comment_id,
        sender_name=(value.get("from") or {}).get("name"),
        raw=change,
    )


class GraphClient:
    """The Send API and comment replies. Errors come as HTTP 4xx with {"error": {"code", …}}."""

    channel = CHANNEL

    def __init__(self, http: httpx.Client, graph_base: str, page_id: str, page_token: str) -> None:
        self.http, self.base, self.page_id, self.token = http, graph_base.rstrip("/"), page_id, page_token

    def _post(self, path: str, body: dict[str, Any], route: str) -> SendResult:
        response = self.http.post(f"{self.base}{path}", params={"access_token": self.token}, json=body)
        if response.status_code < 300:
            answer = response.json()
            return SendResult(True, str(answer.get("message_id") or answer.get("id") or ""), route=route)
        error = (response.json() or {}).get("error", {}) if response.content else {}
        code, subcode = int(error.get("code", 0)), error.get("error_subcode")
        detail = f"Facebook error {code}/{subcode}: {error.get('message', response.text[:200])}"
        if code == 190:
            detail += " — the page token is invalid or expired: an administrator must re-authorise the page"
        return SendResult(False, error=detail, route=route, retry=code in TEMPORARY | RATE_LIMITS)

    def send_text(self, reply: Reply) -> SendResult:
        if reply.to_comment:
            return self._private_reply(reply.recipient, reply.text)
        window = _window(reply.last_inbound_at, human=reply.human)
        if window is None:
            return SendResult(False, error=_OUTSIDE, route="none")
        message = {"text": reply.text[:1999]}
        body: dict[str, Any] = {"recipient": {"id": reply.recipient}, "message": message, **window}
        return self._post(f"/{self.page_id}/messages", body, window.get("tag") or window["messaging_type"])

    def _private_reply(self, comment_id: str, text: str) -> SendResult:
        """The one private reply a comment allows (within 7 days). Never a public reply instead: our
        messages carry the secret tracking link, which must not be posted under a public comment."""
        return self._post(
            f"/{self.page_id}/messages",
            {"recipient": {"comment_id": comment_id}, "message": {"text": text[:1999]}},
            "private_reply",
        )


_OUTSIDE = "outside Messenger's window (24 hours; 7 days for a person's reply): not sent"


def _window(last_inbound_at: datetime | None, *, human: bool) -> dict[str, str] | None:
    """RESPONSE within 24 hours of the person's last message; after that, up to 7 days, HUMAN_AGENT, and
    only for what a person typed (Meta forbids the tag on automatic messages); nothing after."""
    if last_inbound_at is None:
        return None
    age = datetime.now(UTC) - last_inbound_at
    if age <= STANDARD_WINDOW:
        return {"messaging_type": "RESPONSE"}
    if human and age <= HUMAN_AGENT_WINDOW:
        return {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
    return None

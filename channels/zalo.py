"""Zalo Official Account: webhook signature and parsing, and our thin httpx client for the OA API v3
(customer-service messages, image upload) and the OAuth v4 token refresh."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from channels.adapter import Attachment, EventKind, InboundMessage, Reply, SendResult, attachment_objects
from kernel.errors import Forbidden, Malformed

CHANNEL = "zalo"
ECHO_PREFIX = "oa_send_"
RECEIPTS = {"user_received_message", "user_seen_message"}
MESSAGE_EVENTS = {
    "user_send_text",
    "user_send_image",
    "user_send_location",
    "user_send_file",
    "user_send_sticker",
    "user_send_gif",
    "user_send_link",
    "user_send_audio",
    "user_send_video",
}
SUBMIT_INFO = "user_submit_info"  # the user filled the OA's form: info.phone comes from Zalo
TOKEN_EXPIRED = -216
OUTSIDE_WINDOW = -230


def signature(app_id: str, raw_body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """Zalo's X-ZEvent-Signature: SHA-256 (a plain hash) of app_id + body + timestamp + OA secret key."""
    return hashlib.sha256(
        app_id.encode() + raw_body + timestamp.encode() + oa_secret_key.encode()
    ).hexdigest()


def _finite(literal: str) -> float:
    number = float(literal)
    if not math.isfinite(number):
        raise ValueError(f"{literal} is not a finite number")
    return number


def _no_constant(literal: str) -> float:
    raise ValueError(f"{literal} is not JSON")


def parse_body(raw_body: bytes) -> dict[str, Any]:
    try:
        # NaN and infinities are not JSON, and PostgreSQL's json type would refuse to store them
        body = json.loads(raw_body, parse_float=_finite, parse_constant=_no_constant)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise Malformed(f"the body is not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise Malformed("the body must be a JSON object")
    return body


def verify(
    raw_body: bytes, header: str | None, *, oa_secret_key: str, expected_app_id: str
) -> dict[str, Any]:
    """The parsed body of an authentic delivery; Forbidden otherwise (missing or wrong signature)."""
    if not header:
        raise Forbidden("missing X-ZEvent-Signature")
    body = parse_body(raw_body)
    app_id, timestamp = str(body.get("app_id", "")), str(body.get("timestamp", ""))
    if expected_app_id and app_id != expected_app_id:
        raise Forbidden("the event is for another Zalo app")
    given = header.strip().removeprefix("mac=")
    if not hmac.compare_digest(given, signature(app_id, raw_body, timestamp, oa_secret_key)):
        raise Forbidden("wrong X-ZEvent-Signature")
    return body


def _when(body: dict[str, Any]) -> datetime:
    try:
        return datetime.fromtimestamp(int(body.get("timestamp", 0)) / 1000, tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError):  # unreadable or past year 9999: receipt time
        return datetime.now(UTC)


def parse(body: dict[str, Any]) -> list[InboundMessage]:
    name = str(body.get("event_name", "unknown"))
    sent_at = _when(body)
    found = body.get("message")
    message: dict[str, Any] = found if isinstance(found, dict) else {}
    sender = (body.get("sender") or {}).get("id") or (body.get("follower") or {}).get("id")
    msg_id = message.get("msg_id")
    key = str(msg_id) if msg_id else f"{name}:{sender}:{body.get('timestamp')}"
    kind = (
        EventKind.MESSAGE
        if name in MESSAGE_EVENTS
        else EventKind.ECHO
        if name.startswith(ECHO_PREFIX)
        else EventKind.RECEIPT
        if name in RECEIPTS
        else EventKind.FOLLOW
        if name == "follow"
        else EventKind.UNFOLLOW
        if name == "unfollow"
        else EventKind.CONTACT
        if name == SUBMIT_INFO
        else EventKind.OTHER
    )
    if kind == EventKind.ECHO:
        sender = (body.get("recipient") or {}).get("id")  # the citizen the OA wrote to
    attachments, location = _attachments(message.get("attachments") or [])
    found_info = body.get("info")
    info: dict[str, Any] = found_info if isinstance(found_info, dict) else {}
    return [
        InboundMessage(
            channel=CHANNEL,
            kind=kind,
            event_name=name,
            event_key=key,
            sender_id=str(sender) if sender else None,
            sent_at=sent_at,
            text=str(message.get("text") or ""),
            attachments=attachments,
            location=location,
            sender_name=str(info["name"]) if info.get("name") else None,
            phone=str(info["phone"]) if kind == EventKind.CONTACT and info.get("phone") else None,
            raw=body,
        )
    ]


def _attachments(items: list[Any]) -> tuple[tuple[Attachment, ...], tuple[float, float] | None]:
    found: list[Attachment] = []
    location = None
    for kind, payload in attachment_objects(items):
        if kind == "location":
            coordinates = payload.get("coordinates") or {}
            try:
                location = (float(coordinates["latitude"]), float(coordinates["longitude"]))
            except (KeyError, TypeError, ValueError):
                location = None
        else:
            found.append(Attachment(kind, payload.get("url"), payload.get("name")))
    return tuple(found), location


class ZaloError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"Zalo error {code}: {message}")
        self.code = code


TokenSource = Callable[[bool], str]  # (force_refresh) → a valid access token


class ZaloClient:
    """Customer-service messages through the OA API. Every answer is HTTP 200; `error` says how it went."""

    channel = CHANNEL

    def __init__(self, http: httpx.Client, api_base: str, tokens: TokenSource) -> None:
        self.http, self.api_base, self.tokens = http, api_base.rstrip("/"), tokens

    def _post(self, path: str, **kwargs: Any) -> dict[str, Any]:
        for attempt in (0, 1):
            response = self.http.post(
                f"{self.api_base}{path}", headers={"access_token": self.tokens(attempt == 1)}, **kwargs
            )
            response.raise_for_status()
            answer: dict[str, Any] = response.json()
            if answer.get("error") == TOKEN_EXPIRED and attempt == 0:
                continue  # refresh once, then retry
            return answer
        return answer

    def _result(self, answer: dict[str, Any]) -> SendResult:
        code = int(answer.get("error", -1))
        if code == 0:
            return SendResult(True, str((answer.get("data") or {}).get("message_id")), route="cs")
        detail = f"Zalo error {code}: {answer.get('message', '')}"
        if code == OUTSIDE_WINDOW:
            detail += " (the citizen has not written to the OA in the last 7 days)"
        return SendResult(False, error=detail, retry=False)

    def send_text(self, reply: Reply) -> SendResult:
        """A customer-service message (Zalo has no private reply to comments nor a person's tag)."""
        body = {"recipient": {"user_id": reply.recipient}, "message": {"text": reply.text[:2000]}}
        return self._result(self._post("/v3.0/oa/message/cs", json=body))


def refresh_pair(
    http: httpx.Client, oauth_base: str, *, app_id: str, app_secret: str, refresh_token: str
) -> tuple[str, str, datetime]:
    """Exchange the (single-use) refresh token for a new pair; ZaloError when Zalo refuses."""
    response = http.post(
        f"{oauth_base.rstrip('/')}/v4/oa/access_token",
        headers={"secret_key": app_secret},
        data={"app_id": app_id, "grant_type": "refresh_token", "refresh_token": refresh_token},
    )
    response.raise_for_status()
    answer = response.json()
    if "access_token" not in answer or "refresh_token" not in answer:
        raise ZaloError(int(answer.get("error", -1)), str(answer.get("error_description") or answer))
    expires = datetime.now(UTC) + timedelta(seconds=int(answer.get("expires_in", 3600)))
    return answer["access_token"], answer["refresh_token"], expires

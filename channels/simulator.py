"""A citizen writing on Zalo or commenting on the city's Facebook page, played into a running CivicDesk
over the wire: the webhook bodies the providers send, signed with this installation's secrets, POSTed to
the web server's /webhooks/zalo and /webhooks/facebook. The server cannot tell them from the real thing,
so a demo or a new agent's training shows a report arrive without a Zalo OA or a Facebook page.

`civicdesk simulate zalo|facebook` (channels/cli.py) calls these; the tests play them into the app."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx

from channels import facebook, zalo
from kernel.errors import Invalid
from kernel.settings import Settings
from kernel.timeutil import utcnow

OA_ID = "2900000000000000001"  # the city's Official Account, as the recipient of a simulated message


@dataclass(frozen=True)
class Delivery:
    """One webhook request: where it goes, its exact bytes and its signature header."""

    path: str
    body: bytes
    headers: dict[str, str]


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def zalo_message(settings: Settings, *, user_id: str, text: str, at: datetime | None = None) -> Delivery:
    """A `user_send_text` event from the Zalo user ``user_id`` to the OA, signed as Zalo signs it."""
    if not (settings.zalo_app_id and settings.zalo_oa_secret_key):
        raise Invalid(
            "Chưa cấu hình webhook Zalo (not configured): đặt CIVICDESK_ZALO_APP_ID và "
            "CIVICDESK_ZALO_OA_SECRET_KEY như máy chủ đang chạy"
        )
    timestamp = str(_ms(at or utcnow()))
    body = {
        "app_id": settings.zalo_app_id,
        "user_id_by_app": user_id,
        "event_name": "user_send_text",
        "timestamp": timestamp,
        "sender": {"id": user_id},
        "recipient": {"id": OA_ID},
        "message": {"msg_id": f"sim-{secrets.token_hex(8)}", "text": text},
    }
    raw = json.dumps(body, ensure_ascii=False).encode()
    mac = zalo.signature(settings.zalo_app_id, raw, timestamp, settings.zalo_oa_secret_key)
    return Delivery("/webhooks/zalo", raw, {"X-ZEvent-Signature": f"mac={mac}"})


def facebook_comment(
    settings: Settings, *, user_id: str, name: str, text: str, at: datetime | None = None
) -> Delivery:
    """A comment by ``user_id`` on a post of the city's page (the feed change Facebook sends), signed
    with the app secret."""
    if not (settings.facebook_app_secret and settings.facebook_page_id):
        raise Invalid(
            "Chưa cấu hình webhook Facebook (not configured): đặt CIVICDESK_FACEBOOK_APP_SECRET và "
            "CIVICDESK_FACEBOOK_PAGE_ID như máy chủ đang chạy"
        )
    moment = at or utcnow()
    page, post = settings.facebook_page_id, secrets.randbelow(10**10)
    change: dict[str, Any] = {
        "field": "feed",
        "value": {
            "item": "comment",
            "verb": "add",
            "comment_id": f"{post}_{secrets.randbelow(10**6)}",
            "post_id": f"{page}_{post}",
            "parent_id": f"{page}_{post}",
            "created_time": int(moment.timestamp()),
            "from": {"id": user_id, "name": name},
            "message": text,
        },
    }
    body = {"object": "page", "entry": [{"id": page, "time": _ms(moment), "changes": [change]}]}
    raw = json.dumps(body, ensure_ascii=False).encode()
    signature = facebook.signature(raw, settings.facebook_app_secret)
    return Delivery("/webhooks/facebook", raw, {"X-Hub-Signature-256": signature})


def play(http: httpx.Client, base_url: str, delivery: Delivery) -> httpx.Response:
    """POST the delivery to the server at ``base_url`` as the provider would."""
    headers = {"Content-Type": "application/json", **delivery.headers}
    return http.post(base_url.rstrip("/") + delivery.path, content=delivery.body, headers=headers)

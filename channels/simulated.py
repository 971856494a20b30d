"""The simulated side of the chat channels' outbound port: the Zalo OA API and the Facebook Graph API
answered in process (an httpx transport), with the providers' own success and error shapes
(../shared/contracts/zalo-oa.md, facebook-page.md), and every accepted message recorded in JSON lines under
var_dir/channel-simulator/, so a demo or an embedded run "replies" on Zalo or Messenger without an OA or a
page, and anyone can read what left.

The real clients (channels/zalo.py ZaloClient, channels/facebook.py GraphClient) talk to it unchanged: the
simulator replaces the provider, not our code. `inbound` is channels/simulator.py (signed webhooks)."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import httpx

from channels import facebook, zalo
from channels.adapter import ChannelClient
from kernel.settings import Settings, get_settings

BASE = "https://channel-simulator.invalid"
TOKEN = "simulator"  # noqa: S105 - what the simulated provider is given, not a secret
PAGE_ID = "simulated-page"  # when no page id is configured
ZALO_TEXT_LIMIT = 2000
GRAPH_TEXT_LIMIT = 2000  # Graph refuses a text of this length or more
_counter = itertools.count(1)
_clients: dict[str, httpx.Client] = {}


def folder() -> Path:
    return get_settings().var_dir / "channel-simulator"


def record_line(path: Path, entry: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as file:
        file.write(json.dumps(entry, ensure_ascii=False) + "\n")


def recorded(channel: str) -> list[dict[str, Any]]:
    """What the simulated provider accepted so far, oldest first."""
    path = folder() / f"{channel}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def _zalo(request: httpx.Request) -> httpx.Response:
    """POST /v3.0/oa/message/cs: HTTP 200 always, `error` says how it went (0, -216, -201)."""
    if request.url.path != "/zalo/v3.0/oa/message/cs":
        return httpx.Response(404, json={"error": -201, "message": "Unknown endpoint"})
    if not request.headers.get("access_token"):
        return httpx.Response(200, json={"error": -216, "message": "Access token is invalid"})
    body = json.loads(request.content)
    user = (body.get("recipient") or {}).get("user_id")
    text = (body.get("message") or {}).get("text")
    if not isinstance(user, str) or not user or not text or len(text) > ZALO_TEXT_LIMIT:
        return httpx.Response(200, json={"error": -201, "message": "Parameters are invalid"})
    record_line(folder() / f"{zalo.CHANNEL}.jsonl", body)
    data = {"message_id": f"zmsg-sim-{next(_counter)}", "user_id": user}
    return httpx.Response(200, json={"error": 0, "message": "Success", "data": data})


def _graph_error(code: int, message: str) -> httpx.Response:
    error = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Simulator"}
    return httpx.Response(400, json={"error": error})


def _graph(request: httpx.Request) -> httpx.Response:
    """POST /{page-id}/messages: the Send API and a comment's private reply; errors as HTTP 400."""
    if not request.url.path.endswith("/messages"):
        return _graph_error(100, "Unsupported post request")
    if not request.url.params.get("access_token"):
        return _graph_error(190, "Error validating access token")
    body = json.loads(request.content)
    recipient = body.get("recipient") or {}
    text = (body.get("message") or {}).get("text") or ""
    if not text or len(text) >= GRAPH_TEXT_LIMIT:
        return _graph_error(100, f"(#100) Length of param message[text] must be less than {GRAPH_TEXT_LIMIT}")
    if "comment_id" not in recipient:
        kind, tag = body.get("messaging_type"), body.get("tag")
        if kind not in ("RESPONSE", "UPDATE", "MESSAGE_TAG") or (
            kind == "MESSAGE_TAG" and tag != "HUMAN_AGENT"
        ):
            return _graph_error(
                100, "(#100) messaging_type is required, and the only tag we use is HUMAN_AGENT"
            )
    record_line(folder() / f"{facebook.CHANNEL}.jsonl", body)
    answer = {
        "recipient_id": recipient.get("id") or "psid-from-comment",
        "message_id": f"m_sim-{next(_counter)}",
    }
    return httpx.Response(200, json=answer)


def _client(name: str) -> httpx.Client:
    if name not in _clients:
        handler = _zalo if name == zalo.CHANNEL else _graph
        _clients[name] = httpx.Client(transport=httpx.MockTransport(handler))
    return _clients[name]


def zalo_client(_settings: Settings) -> ChannelClient:
    return zalo.ZaloClient(_client(zalo.CHANNEL), f"{BASE}/zalo", lambda _force: TOKEN)


def graph_client(settings: Settings) -> ChannelClient:
    page = settings.facebook_page_id or PAGE_ID
    return facebook.GraphClient(_client(facebook.CHANNEL), f"{BASE}/graph", page, TOKEN)

"""In-process providers for an embedded run: httpx transports that answer ZNS and eSMS requests with
the providers' own success and error shapes (notifications.md) and record what they got in JSON lines
under var_dir/notify-simulator/, so a demo "sends" and anyone can read what left."""

from __future__ import annotations

import itertools
import json
import re
from pathlib import Path
from typing import Any

import httpx

from channels.simulated import record_line
from kernel.settings import get_settings

BASE = "https://simulator.invalid"
_ZALO_PHONE = re.compile(r"^84\d{9,10}$")
_VN_PHONE = re.compile(r"^0\d{9,10}$")
_counter = itertools.count(1)
_clients: dict[str, httpx.Client] = {}


def folder() -> Path:
    return get_settings().var_dir / "notify-simulator"


def _record(name: str, entry: dict[str, Any]) -> None:
    record_line(folder() / f"{name}.jsonl", entry)


def _zns(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    if not request.headers.get("access_token"):
        return httpx.Response(200, json={"error": -216, "message": "Access token is invalid"})
    if not _ZALO_PHONE.match(str(body.get("phone", ""))) or not body.get("template_id"):
        return httpx.Response(200, json={"error": -108, "message": "Phone number is invalid"})
    _record("zns", body)
    data = {"msg_id": f"zns-sim-{next(_counter)}", "sent_time": "0", "quota": {"remainingQuota": "9999"}}
    return httpx.Response(200, json={"error": 0, "message": "Success", "data": data})


def _sms(request: httpx.Request) -> httpx.Response:
    body = json.loads(request.content)
    if not _VN_PHONE.match(str(body.get("Phone", ""))):
        return httpx.Response(200, json={"CodeResult": "99", "ErrorMessage": "Phone not valid"})
    _record("sms", body)
    return httpx.Response(200, json={"CodeResult": "100", "SMSID": f"sms-sim-{next(_counter)}"})


def client(name: str) -> httpx.Client:
    if name not in _clients:
        handler = _zns if name == "zns" else _sms
        _clients[name] = httpx.Client(transport=httpx.MockTransport(handler))
    return _clients[name]

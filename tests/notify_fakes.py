"""Protocol-faithful fakes of the paid notification routes, served over real HTTP on loopback: Zalo ZNS
(template message by phone) and an SMS brandname aggregator with the eSMS API shape. They check what we
send as the providers do and answer with their success and error shapes (../shared/contracts/
notifications.md). E-mail needs no fake: the tests run a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import itertools
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from fakes import free_port
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

ZALO_PHONE = re.compile(r"^84\d{9,10}$")
VN_PHONE = re.compile(r"^0\d{9,10}$")
ESMS_PATH = "/esms/MainService.svc/json/SendMultipleMessage_V4_post_json/"


@dataclass
class ZnsState:
    access_token: str = "zalo-access-1"
    current_token: Callable[[], str] | None = None  # the OA fake's token, when it rotates them
    template_ids: set[str] = field(default_factory=lambda: {"civicdesk-status"})
    without_zalo: set[str] = field(default_factory=set)  # phones with no Zalo account
    sent: list[dict[str, Any]] = field(default_factory=list)
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


@dataclass
class EsmsState:
    api_key: str = "esms-key"
    secret_key: str = "esms-secret"
    brandnames: set[str] = field(default_factory=lambda: {"UBND-PRTC"})
    balance: int = 1_000_000
    sent: list[dict[str, Any]] = field(default_factory=list)
    counter: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


def build_app(zns: ZnsState, esms: EsmsState) -> Starlette:
    async def zns_template(request: Request) -> JSONResponse:
        valid_token = zns.current_token() if zns.current_token else zns.access_token
        if request.headers.get("access_token") != valid_token:
            return JSONResponse({"error": -216, "message": "Access token is invalid"})
        body = await request.json()
        phone, data = str(body.get("phone", "")), body.get("template_data")
        if not ZALO_PHONE.match(phone) or not isinstance(data, dict) or not body.get("tracking_id"):
            return JSONResponse({"error": -201, "message": "Parameters are invalid"})
        if body.get("template_id") not in zns.template_ids:
            return JSONResponse({"error": -124, "message": "Template is not approved"})
        if phone in zns.without_zalo:
            return JSONResponse({"error": -118, "message": "Zalo account not existed"})
        zns.sent.append(body)
        quota = {"dailyQuota": "500", "remainingQuota": str(500 - len(zns.sent))}
        data_out = {"msg_id": f"zns{next(zns.counter)}", "sent_time": "1763790000000", "quota": quota}
        return JSONResponse({"error": 0, "message": "Success", "data": data_out})

    async def esms_send(request: Request) -> JSONResponse:
        body = await request.json()
        if body.get("ApiKey") != esms.api_key or body.get("SecretKey") != esms.secret_key:
            return JSONResponse({"CodeResult": "101", "ErrorMessage": "Authorize Failed"})
        if body.get("Brandname") not in esms.brandnames:
            return JSONResponse({"CodeResult": "104", "ErrorMessage": "Brandname not registered"})
        if esms.balance <= 0:
            return JSONResponse({"CodeResult": "103", "ErrorMessage": "Balance not enough"})
        content = str(body.get("Content", ""))
        ascii_only = content.isascii() and body.get("IsUnicode") == "0"
        valid = VN_PHONE.match(str(body.get("Phone", ""))) and body.get("SmsType") == "2"
        if not (valid and ascii_only and content and body.get("RequestId")):
            return JSONResponse({"CodeResult": "99", "ErrorMessage": "Invalid parameters"})
        esms.sent.append(body)
        esms.balance -= 700
        return JSONResponse({"CodeResult": "100", "SMSID": f"sms-{next(esms.counter)}"})

    return Starlette(
        routes=[
            Route("/zns/message/template", zns_template, methods=["POST"]),
            Route(ESMS_PATH, esms_send, methods=["POST"]),
        ]
    )


class Inbox:
    """An aiosmtpd handler keeping every message it is given."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.recipients: list[list[str]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's name
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(message, EmailMessage)
        self.messages.append(message)
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


@contextmanager
def smtp_server() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on loopback for the duration."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()

"""One adapter per route behind the Notifier port. Zalo OA and Messenger reuse the channel clients; ZNS
and SMS brandname speak the providers' HTTP APIs (notifications.md); e-mail goes over SMTP. Each real
adapter has a simulator beside it (simulators.py), chosen by settings, so an embedded run "sends"."""

from __future__ import annotations

import smtplib
import unicodedata
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from html import escape
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from channels import tokens
from channels.adapter import ChannelClient, Reply, SendResult
from channels.clients import client_for
from kernel.settings import get_settings
from notifications import simulators
from notifications.ports import Notifier, Outgoing, Route

TOKEN_EXPIRED = -216
ESMS_ACCEPTED = "100"
SMS_SEGMENT = 160
TokenSource = Callable[[bool], str]


class ChannelNotifier:
    """The citizen's own conversation: Zalo customer-service message or Messenger / private reply."""

    def __init__(self, route: Route, client: ChannelClient) -> None:
        self.route, self.client = route, client

    def deliver(self, message: Outgoing) -> SendResult:
        return self.client.send_text(
            Reply(
                message.recipient,
                message.text,
                last_inbound_at=message.last_inbound_at,
                to_comment=message.to_comment,
                human=message.human,
            )
        )


class ZnsNotifier:
    """Zalo Notification Service: an approved template, by phone number (84…), with our tracking id."""

    route = Route.ZNS

    def __init__(self, http: httpx.Client, api_base: str, token: TokenSource, template_id: str) -> None:
        self.http, self.api_base, self.token, self.template_id = (
            http,
            api_base.rstrip("/"),
            token,
            template_id,
        )

    def deliver(self, message: Outgoing) -> SendResult:
        body = {
            "phone": message.recipient,
            "template_id": self.template_id,
            "template_data": message.payload.get("template_data", {}),
            "tracking_id": message.key,
        }
        answer: dict[str, Any] = {}
        for attempt in (0, 1):
            response = self.http.post(
                f"{self.api_base}/message/template",
                headers={"access_token": self.token(attempt == 1)},
                json=body,
            )
            response.raise_for_status()
            answer = response.json()
            if answer.get("error") != TOKEN_EXPIRED:
                break  # an expired token is refreshed once, then the send is tried again
        code = int(answer.get("error", -1))
        if code == 0:
            return SendResult(True, str((answer.get("data") or {}).get("msg_id") or ""), route="zns")
        return SendResult(False, error=f"ZNS error {code}: {answer.get('message', '')}", route="zns")


def without_diacritics(text: str) -> str:
    """Vietnamese as SMS brandname messages are written: GSM-7 letters, no accents (cheaper, safer)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).encode("ascii", "ignore").decode()


def sms_segments(text: str) -> int:
    return max(1, -(-len(text) // SMS_SEGMENT))


class EsmsNotifier:
    """SMS brandname through the eSMS HTTP API (SmsType 2: customer care); CodeResult 100 is accepted."""

    route = Route.SMS

    def __init__(self, http: httpx.Client, api_base: str) -> None:
        self.http, self.api_base = http, api_base.rstrip("/")

    def deliver(self, message: Outgoing) -> SendResult:
        settings = get_settings()
        body = {
            "ApiKey": settings.sms_api_key,
            "SecretKey": settings.sms_secret_key,
            "Phone": message.recipient,
            "Content": without_diacritics(message.text),
            "Brandname": settings.sms_brandname,
            "SmsType": "2",
            "IsUnicode": "0",
            "Sandbox": "0",
            "RequestId": message.key,
            "CallbackUrl": settings.sms_callback_url,
        }
        response = self.http.post(
            f"{self.api_base}/MainService.svc/json/SendMultipleMessage_V4_post_json/", json=body
        )
        response.raise_for_status()
        answer = response.json()
        code = str(answer.get("CodeResult", ""))
        if code == ESMS_ACCEPTED:
            return SendResult(True, str(answer.get("SMSID") or ""), route="sms")
        reason = answer.get("ErrorMessage") or "refused"
        return SendResult(False, error=f"eSMS CodeResult {code}: {reason}", route="sms")


def build_email(message: Outgoing, mail_from: str) -> EmailMessage:
    """multipart/alternative (text + HTML), our Message-ID, Auto-Submitted, List-Unsubscribe."""
    mail = EmailMessage()
    mail["From"] = mail_from
    mail["To"] = message.recipient
    mail["Subject"] = str(message.payload.get("subject") or message.text[:80])
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = make_msgid(idstring=message.key.replace(":", "."), domain="civicdesk.local")
    mail["Auto-Submitted"] = "auto-generated"
    unsubscribe = message.payload.get("unsubscribe_url")
    if unsubscribe:
        mail["List-Unsubscribe"] = f"<{unsubscribe}>"
        mail["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    mail.set_content(message.text)
    mail.add_alternative(_html(message), subtype="html")
    return mail


def _html(message: Outgoing) -> str:
    paragraphs = "".join(f"<p>{escape(line)}</p>" for line in message.text.splitlines() if line.strip())
    link = message.payload.get("link")
    button = f'<p><a href="{escape(str(link))}">{escape(str(link))}</a></p>' if link else ""
    return f'<!doctype html><html lang="vi"><body>{paragraphs}{button}</body></html>'


class SmtpNotifier:
    route = Route.EMAIL

    def deliver(self, message: Outgoing) -> SendResult:
        settings = get_settings()
        mail = build_email(message, settings.mail_from)
        try:
            with smtplib.SMTP(
                settings.smtp_host, settings.smtp_port, timeout=settings.channel_http_timeout
            ) as smtp:
                smtp.ehlo()
                if settings.smtp_starttls and smtp.has_extn("starttls"):
                    smtp.starttls()
                    smtp.ehlo()
                if settings.smtp_username:
                    smtp.login(settings.smtp_username, settings.smtp_password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            return SendResult(False, error=f"SMTP refused the address: {exc.recipients}", route="smtp")
        except (smtplib.SMTPException, OSError) as exc:  # the server is down or busy: try again later
            return SendResult(False, error=f"SMTP {type(exc).__name__}: {exc}", route="smtp", retry=True)
        return SendResult(True, str(mail["Message-ID"]), route="smtp")


class MailFileNotifier:
    """The e-mail simulator: each message written whole as an .eml file under var_dir."""

    route = Route.EMAIL

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def deliver(self, message: Outgoing) -> SendResult:
        mail = build_email(message, get_settings().mail_from)
        self.folder.mkdir(parents=True, exist_ok=True)
        name = message.key.replace(":", "_") + ".eml"
        (self.folder / name).write_bytes(mail.as_bytes())
        return SendResult(True, str(mail["Message-ID"]), route="eml-file")


def notifier_for(route: str, http: httpx.Client, engine: Engine | None = None) -> Notifier:
    settings = get_settings()
    if route in (Route.ZALO, Route.FACEBOOK):
        return ChannelNotifier(Route(route), client_for(route, http, engine))
    if route == Route.ZNS:
        if settings.zns_mode == "real":
            return ZnsNotifier(
                http,
                settings.zns_api_base,
                lambda force: tokens.access_token(engine, http, force=force),
                settings.zns_template_id,
            )
        return ZnsNotifier(
            simulators.client("zns"), simulators.BASE, lambda _force: "simulator", settings.zns_template_id
        )
    if route == Route.SMS:
        if settings.sms_mode == "real":
            return EsmsNotifier(http, settings.sms_api_base)
        return EsmsNotifier(simulators.client("sms"), simulators.BASE)
    if route == Route.EMAIL:
        if settings.email_mode == "real":
            return SmtpNotifier()
        return MailFileNotifier(simulators.folder() / "mail")
    raise ValueError(f"no notifier for route {route}")

"""What the web accepts before any route sees it: a body no larger than its route allows, counted while it
arrives (never read whole first), and addresses without NUL or control characters."""

from __future__ import annotations

import re
from dataclasses import dataclass

from fastapi import HTTPException, Request
from starlette.types import Message, Receive, Scope, Send

from kernel.errors import Malformed
from kernel.middleware import HttpMiddleware
from kernel.settings import Settings, get_settings
from kernel.text import has_control_characters

# room for the text fields that travel beside the files of an upload form
FORM_FIELDS_ALLOWANCE = 256 * 1024
# the routes that take files, and how many files each takes at most
UPLOAD_ROUTES = (
    (re.compile(r"^/report$"), 5),  # web/pages/public.py MAX_PHOTOS
    (re.compile(r"^/t/[^/]+/reply$"), 5),  # the status page's answer form takes the same photos
    (re.compile(r"^/api/v1/tickets/[^/]+/attachments$"), 1),
)


def body_limit(path: str, settings: Settings) -> int:
    """The most bytes a request body to this path may have."""
    if path.startswith("/webhooks/"):
        return settings.webhook_body_max_bytes
    for pattern, files in UPLOAD_ROUTES:
        if pattern.match(path):
            return settings.attachment_max_bytes * files + FORM_FIELDS_ALLOWANCE
    return settings.api_body_max_bytes


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(
            413,
            f"Nội dung gửi lên quá lớn: tối đa {limit:,} byte."
            f" (The request body is larger than this address accepts: {limit} bytes at most.)",
        )


@dataclass
class _Counter:
    limit: int
    received: int = 0


class BodyLimitMiddleware(HttpMiddleware):
    """Refuses a body over its route's limit with 413: at once when Content-Length says so, else as soon
    as the streamed bytes pass it. The refusal is raised where the route reads, so each surface (JSON,
    HTML page, Open311) answers in its own form; nothing beyond the limit is ever held in memory."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        counter = _Counter(body_limit(scope["path"], get_settings()))
        declared = _content_length(scope)

        async def limited_receive() -> Message:
            if declared is not None and declared > counter.limit:
                raise BodyTooLarge(counter.limit)
            message = await receive()
            if message["type"] == "http.request":
                counter.received += len(message.get("body", b""))
                if counter.received > counter.limit:
                    raise BodyTooLarge(counter.limit)
            return message

        await self.app(scope, limited_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def refuse_control_characters(request: Request) -> None:
    """A NUL or control character in the path or the query names nothing we serve (a dependency of
    every route, so each surface answers its own 400). Async: a plain function would cost every request
    a trip to the thread pool."""
    parts = [request.scope["path"], *request.query_params.keys(), *request.query_params.values()]
    if any(has_control_characters(part) for part in parts):
        raise Malformed(
            "Địa chỉ chứa ký tự điều khiển (như NUL) nên không thể xử lý."
            " (The address contains a NUL or control character.)"
        )

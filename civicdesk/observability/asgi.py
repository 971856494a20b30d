"""One pure ASGI middleware (BaseHTTPMiddleware would copy every body through a task group): a request id
bound to every log line of the request and echoed back, the latency histogram, one log line per request."""

from __future__ import annotations

import re
import time
import uuid

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from civicdesk.observability.metrics import HTTP_LATENCY
from kernel.middleware import HttpMiddleware
from kernel.observability.logs import get_logger

REQUEST_ID_HEADER = "X-Request-ID"
# An id a proxy or client sends is kept only if it is short and plain: it ends up in every log line.
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+=/-]{0,127}$")
UNMATCHED = "unmatched"

log = get_logger("civicdesk.http")


def request_id_from(scope: Scope) -> str:
    given = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
    return given if _SANE_REQUEST_ID.match(given) else uuid.uuid4().hex


def route_template(scope: Scope, root_path_before: str) -> str:
    """The route's template (``/api/v1/tickets/{ticket_id}``), never the raw path: bounded label values,
    and no secret tracking tokens in metrics or logs."""
    route = scope.get("route")
    path = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(path, str):
        return str(scope.get("root_path", ""))[len(root_path_before) :] + path
    mounted = scope.get("root_path", "")[len(root_path_before) :]
    return f"{mounted}/{{path}}" if mounted else UNMATCHED


class ObservabilityMiddleware(HttpMiddleware):
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = request_id_from(scope)
        tokens = structlog.contextvars.bind_contextvars(request_id=request_id)
        root_path = scope.get("root_path", "")
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope, root_path)
            HTTP_LATENCY.labels(scope["method"], route, str(status)).observe(seconds)
            log.info(
                "http_request",
                method=scope["method"],
                route=route,
                status=status,
                ms=round(seconds * 1000, 1),
            )
            structlog.contextvars.reset_contextvars(**tokens)

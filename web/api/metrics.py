"""``/metrics`` in the Prometheus text format.

Access: with ``CIVICDESK_METRICS_TOKEN`` set, a scrape must send ``Authorization: Bearer <token>``; without
it, only callers on this machine (loopback) are answered, which suits Prometheus or an agent on the host.
Behind a proxy on the same host, the proxy must forward the client's address (``civicdesk web`` trusts
forwarded headers from loopback), or a token must be set.
"""

from __future__ import annotations

import hmac
import ipaddress

from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from kernel.settings import get_settings

router = APIRouter(tags=["observability"])


def _is_loopback(host: str | None) -> bool:
    try:
        return host is not None and ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _refusal(request: Request) -> Response | None:
    """Plain text, as Prometheus shows a failed scrape's body on its targets page."""
    token = get_settings().metrics_token
    if token:
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        if hmac.compare_digest(given.encode(), token.encode()):
            return None
        return PlainTextResponse(
            "Cần mã truy cập hợp lệ — /metrics needs Authorization: Bearer <CIVICDESK_METRICS_TOKEN>\n",
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    if _is_loopback(request.client.host if request.client else None):
        return None
    return PlainTextResponse(
        "Chỉ mở cho máy nội bộ; đặt CIVICDESK_METRICS_TOKEN để mở từ xa — /metrics answers loopback callers"
        " only unless CIVICDESK_METRICS_TOKEN is set\n",
        status_code=403,
    )


@router.get(
    "/metrics",
    response_model=str,
    response_class=PlainTextResponse,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}}, 401: {}, 403: {}},
)
def metrics(request: Request) -> Response:
    """Prometheus text format; loopback only, or with the bearer token when one is set."""
    refused = _refusal(request)
    if refused is not None:
        return refused
    return Response(generate_latest(request.app.state.metrics_registry), media_type=CONTENT_TYPE_LATEST)

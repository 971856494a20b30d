"""Security headers on every response, as a pure ASGI middleware (it never buffers a body, so streamed
exports, attachments and the staff event stream pass through untouched).

Every page is served from our own origin with no inline script, style or handler, so one policy without
'unsafe-inline' covers the public, staff and IOC pages; only FastAPI's /docs and /redoc pages, which load
Swagger UI and ReDoc from their CDN with an inline bootstrap script, get a looser one."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PAGE_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
DOCS_CDN = "https://cdn.jsdelivr.net"
DOCS_POLICY = "; ".join(
    [
        "default-src 'self'",
        f"script-src 'self' 'unsafe-inline' {DOCS_CDN}",
        f"style-src 'self' 'unsafe-inline' {DOCS_CDN} https://fonts.googleapis.com",
        "font-src 'self' https://fonts.gstatic.com",
        "img-src 'self' data: https://fastapi.tiangolo.com",
        "worker-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ]
)
DOCS_PATHS = ("/docs", "/redoc")
ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # secret tracking links (/t/{token}) never leave in a Referer
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), payment=(), geolocation=(self)",
}
HSTS = "max-age=31536000; includeSubDomains"
# Pages and answers that carry personal data or a secret link: never kept by a browser or a proxy.
PRIVATE_PREFIXES = ("/staff", "/api/", "/t/", "/lookup", "/webhooks/", "/open311/")
PUBLIC_API = "/api/v1/public/"


def is_private(path: str) -> bool:
    return path.startswith(PRIVATE_PREFIXES) and not path.startswith(PUBLIC_API)


def secure(headers: MutableHeaders, *, path: str, https: bool) -> None:
    """Add what is missing; a route that set its own value (a cacheable public photo) keeps it."""
    policy = DOCS_POLICY if path.startswith(DOCS_PATHS) else PAGE_POLICY
    headers.setdefault("Content-Security-Policy", policy)
    for name, value in ALWAYS.items():
        headers.setdefault(name, value)
    if https:
        headers.setdefault("Strict-Transport-Security", HSTS)
    if is_private(path):
        headers.setdefault("Cache-Control", "no-store")


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, https = str(scope.get("path", "")), scope.get("scheme") == "https"

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                secure(MutableHeaders(scope=message), path=path, https=https)
            await send(message)

        await self.app(scope, receive, send_secured)

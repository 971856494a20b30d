"""Security headers on every response, as a pure ASGI middleware (it never buffers a body, so streamed
exports, attachments and the staff event stream pass through untouched).

Every page is served from our own origin with no inline script, style or handler, so one policy without
'unsafe-inline' covers the public, staff and IOC pages; only FastAPI's /docs and /redoc pages, which load
Swagger UI and ReDoc from their CDN with an inline bootstrap script, get a looser one."""

from __future__ import annotations

from functools import cache
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.types import Message, Receive, Scope, Send

from kernel.middleware import HttpMiddleware
from kernel.settings import get_settings


def _page_policy(images: str) -> str:
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            f"img-src {images}",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


PAGE_POLICY = _page_policy("'self' data: blob:")
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


def tile_origin(template: str) -> str | None:
    """The origin the maps' background tiles come from, as a CSP source: `https://tile.example.org`, or
    `https://*.tile.example.org` for a template with an {s} subdomain; None when the maps are offline."""
    if not template:
        return None
    parts = urlsplit(template)
    host = parts.netloc
    if "{s}" in host:
        host = "*." + host.split(".", 1)[1] if "." in host else host.replace("{s}", "*")
    return f"{parts.scheme}://{host}"


@cache
def page_policy(template: str) -> str:
    """The pages' policy, with the tile server beside our own origin for images (and nothing else)."""
    origin = tile_origin(template)
    return _page_policy(f"'self' data: blob: {origin}") if origin else PAGE_POLICY


def is_private(path: str) -> bool:
    return path.startswith(PRIVATE_PREFIXES) and not path.startswith(PUBLIC_API)


def secure(headers: MutableHeaders, *, path: str, https: bool) -> None:
    """Add what is missing; a route that set its own value (a cacheable public photo) keeps it."""
    pages = page_policy(get_settings().map_tile_url)
    policy = DOCS_POLICY if path.startswith(DOCS_PATHS) else pages
    headers.setdefault("Content-Security-Policy", policy)
    for name, value in ALWAYS.items():
        headers.setdefault(name, value)
    if https:
        headers.setdefault("Strict-Transport-Security", HSTS)
    if is_private(path):
        headers.setdefault("Cache-Control", "no-store")


class SecurityHeaders(HttpMiddleware):
    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, https = str(scope.get("path", "")), scope.get("scheme") == "https"

        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                secure(MutableHeaders(scope=message), path=path, https=https)
            await send(message)

        await self.app(scope, receive, send_secured)

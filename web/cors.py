"""Cross-origin reads of the Open311 API: a city's map or a partner's portal in a browser may read the
public requests (GET from the origins in `open311_cors_origins`, "*" for any) and, from the origins in
`open311_cors_post_origins` only, file one with its api_key. Nothing else on CivicDesk is cross-origin:
staff pages and the private API keep the browser's same-origin rule."""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kernel.settings import get_settings

PREFIX = "/open311/v2/"
READ_METHODS = ("GET", "HEAD")
PREFLIGHT_MAX_AGE = "86400"


class Open311Cors:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(PREFIX):
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        wanted = headers.get("access-control-request-method")
        if scope["method"] == "OPTIONS" and origin and wanted:
            await self._preflight(origin, wanted.upper(), scope, receive, send)
            return
        allowed = _allowed_origin(origin, scope["method"]) if origin else None
        if allowed is None:
            await self.app(scope, receive, send)
            return

        async def send_with_cors(message: Message) -> None:
            if message["type"] == "http.response.start":
                response_headers = MutableHeaders(scope=message)
                response_headers["Access-Control-Allow-Origin"] = allowed
                response_headers.add_vary_header("Origin")
            await send(message)

        await self.app(scope, receive, send_with_cors)

    async def _preflight(self, origin: str, wanted: str, scope: Scope, receive: Receive, send: Send) -> None:
        allowed = _allowed_origin(origin, wanted)
        if allowed is None:
            refusal = [
                {"code": 403, "description": f"origin {origin} may not {wanted} this API from a browser"}
            ]
            await JSONResponse(refusal, status_code=403, headers={"Vary": "Origin"})(scope, receive, send)
            return
        methods = ", ".join([*READ_METHODS, "POST"] if _posting_allowed(origin) else READ_METHODS)
        answer = Response(
            status_code=204,
            headers={
                "Access-Control-Allow-Origin": allowed,
                "Access-Control-Allow-Methods": methods,
                "Access-Control-Allow-Headers": "Content-Type",
                "Access-Control-Max-Age": PREFLIGHT_MAX_AGE,
                "Vary": "Origin",
            },
        )
        await answer(scope, receive, send)


def _allowed_origin(origin: str | None, method: str) -> str | None:
    """The value of Access-Control-Allow-Origin for this origin and method, or None when refused."""
    if origin is None:
        return None
    if method == "POST":
        return origin if _posting_allowed(origin) else None
    if method not in READ_METHODS:
        return None
    origins = get_settings().open311_cors_origins
    if "*" in origins:
        return "*"
    return origin if origin in origins else None


def _posting_allowed(origin: str) -> bool:
    return origin in get_settings().open311_cors_post_origins

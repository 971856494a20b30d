"""The one shape of CivicDesk's pure ASGI middleware (BaseHTTPMiddleware would copy every body through a
task group): it wraps an app, lets everything but HTTP (lifespan, websockets) straight through, and hands
each HTTP request to ``http``. Part of the kernel: the observability middleware and web's headers and
body limits share it."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class HttpMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """One HTTP request; ``self.app`` is the app this middleware wraps."""
        raise NotImplementedError

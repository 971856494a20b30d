"""Every state-changing request a signed-in member of staff makes lands in the audit log.

A pure ASGI middleware: ``@app.middleware("http")`` (BaseHTTPMiddleware) would pass every request and
response of the whole site — status pages, webhooks, streamed exports — through an extra task and
memory stream, and halved the throughput of an empty route on its own. This one lets reads through
untouched and, for a write by signed-in staff, records it as the answer starts."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kernel.db import unit_of_work
from tickets import audit
from web.deps import Engine
from web.public_access import client_address
from web.sessions import SAFE_METHODS

# sign-in and sign-out write their own, more precise entries
SELF_AUDITED = ("/staff/login", "/staff/logout", "/staff/logout-everywhere")


def _write(engine: Engine, staff: tuple[int, str], request: Request, status: int) -> None:
    with unit_of_work(engine) as session:
        audit.record(
            session,
            f"{request.method.lower()}",
            user_id=staff[0],
            username=staff[1],
            target=request.url.path,
            outcome=status,
            address=client_address(request),
        )


class AuditStaffActions:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in SAFE_METHODS or scope["path"] in SELF_AUDITED:
            await self.app(scope, receive, send)
            return

        async def send_audited(message: Message) -> None:
            if message["type"] == "http.response.start":
                # written before the answer leaves, as before: the client never sees an unaudited success
                staff = scope.get("state", {}).get("staff")  # set by the sign-in dependency (web.deps)
                if staff:
                    engine = scope["app"].state.engine
                    await run_in_threadpool(_write, engine, staff, Request(scope), message["status"])
            await send(message)

        await self.app(scope, receive, send_audited)


def install(app: FastAPI) -> None:
    app.add_middleware(AuditStaffActions)

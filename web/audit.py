"""Every state-changing request a signed-in member of staff makes lands in the audit log."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.engine import Engine

from civicdesk.db import unit_of_work
from tickets import audit
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


def install(app: FastAPI) -> None:
    @app.middleware("http")
    async def audit_staff_actions(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        staff = getattr(request.state, "staff", None)
        if staff and request.method not in SAFE_METHODS and request.url.path not in SELF_AUDITED:
            await run_in_threadpool(_write, request.app.state.engine, staff, request, response.status_code)
        return response

"""The FastAPI application: routers, and one place where errors become HTTP answers."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import threading
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from types import FrameType
from typing import Any
from urllib.parse import quote

import psycopg
from anyio import to_thread
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from channels.handoff import Handoff
from channels.tasks import publish_inbound
from civicdesk import wiring
from civicdesk.celery_app import celery_app
from civicdesk.observability.asgi import ObservabilityMiddleware
from civicdesk.observability.metrics import build_registry
from kernel.city import hotline_number
from kernel.db import get_engine
from kernel.errors import DomainError, Invalid, NotFound
from kernel.i18n import _, localize
from kernel.live_listener import Listener
from kernel.observability.health import Readiness
from kernel.settings import get_settings
from kernel.statement_pool import StatementPool
from web import audit as staff_audit
from web import intake, validation
from web.api import (
    auth,
    channels,
    citizen_notifications,
    citizens,
    geo,
    health,
    incidents,
    ioc,
    metrics,
    open311,
    public,
    reference,
    sla,
    telephony,
    tickets,
    triage,
    webhooks,
)
from web.cors import Open311Cors
from web.headers import SecurityHeaders, secure
from web.i18n import api_language_of
from web.pages import errors as page_errors
from web.pages import ioc as ioc_pages
from web.pages import notify as notify_pages
from web.pages import public as public_pages
from web.pages import staff as staff_pages
from web.pages.common import STATIC

log = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    listener: Listener = app.state.live_listener
    statements: StatementPool = app.state.statements
    to_thread.current_default_thread_limiter().total_tokens = get_settings().web_threads
    restore = _end_streams_on_exit_signal(listener)
    await statements.open()
    try:
        yield
    finally:
        restore()
        await listener.close()
        await statements.close()


def _end_streams_on_exit_signal(listener: Listener) -> Callable[[], None]:
    """uvicorn waits for open responses before it stops, and a staff page's event stream stays open
    for minutes: on SIGINT/SIGTERM the streams end first (browsers come back with Last-Event-ID), then
    uvicorn's own handler runs."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None  # signals reach only the main thread (not the case under a test client)
    loop = asyncio.get_running_loop()
    previous: dict[int, Any] = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def on_exit(sig: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(listener.end_streams)
        handler = previous[sig]
        if callable(handler):
            handler(sig, frame)
        elif handler == signal.SIG_DFL:  # a server without handlers of its own: die as before
            signal.signal(sig, signal.SIG_DFL)
            signal.raise_signal(sig)

    for sig in previous:
        signal.signal(sig, on_exit)

    def restore() -> None:
        for sig, handler in previous.items():
            signal.signal(sig, handler)

    return restore


def create_app(engine: Engine | None = None) -> FastAPI:
    app = FastAPI(
        title="CivicDesk",
        description=f"Phản ánh hiện trường và tổng đài {hotline_number()} — citizen reports and hotline",
        version="0.1.0",
        lifespan=lifespan,
        dependencies=[Depends(intake.refuse_control_characters)],
    )
    wiring.install()
    app.state.engine = engine or get_engine()
    settings = get_settings()
    registry, app.state.metrics_state = build_registry(app.state.engine, celery_app, settings)
    app.state.metrics_registry = registry
    app.state.readiness = Readiness(app.state.engine, celery_app, settings)
    app.state.live_listener = Listener(app.state.engine)  # connects with the first staff page
    app.state.statements = StatementPool(app.state.engine)  # the status page's read, on the event loop
    app.state.inbound_handoff = Handoff(publish_inbound)  # webhook events to the workers (issue 22)
    # Routes are tried in order, each router's in turn (~120 routes, ~1.5 ms of a request's CPU when the
    # status page came last): the citizens' reads and the webhooks, the busiest by far, are tried first.
    # None of their paths is matched by a route of a later router (checked route by route when the order
    # was changed), so the order decides nothing but the time.
    app.include_router(public_pages.router)
    app.include_router(public.router)
    app.include_router(webhooks.router)
    for router in (auth.router, tickets.router, tickets.attachments_router, reference.router, health.router):
        app.include_router(router)
    app.include_router(health.probes)
    app.include_router(metrics.router)
    app.include_router(geo.router)
    app.include_router(sla.router)
    app.include_router(telephony.router)
    app.include_router(citizens.router)
    app.include_router(open311.router)
    app.include_router(ioc.router)
    app.include_router(incidents.router)
    app.include_router(ioc_pages.router)
    app.include_router(open311.admin_router)
    app.include_router(channels.router)
    app.include_router(channels.conversation_router)
    app.include_router(citizen_notifications.router)
    app.include_router(triage.router)
    app.include_router(triage.rules_router)
    app.include_router(sla.notifications_router)
    app.include_router(notify_pages.router)
    app.include_router(staff_pages.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _install_error_handlers(app)
    # innermost: raised inside an outer middleware's task group the 413 would reach the app's
    # handlers as an ExceptionGroup (a 500)
    app.add_middleware(intake.BodyLimitMiddleware)
    app.add_middleware(Open311Cors)  # answers preflights before routing (which knows no OPTIONS)
    staff_audit.install(app)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ObservabilityMiddleware)  # the request id covers the audit's lines
    app.add_middleware(health.LivenessShortcut)  # outermost: the probe skips everything above
    return app


OPEN311 = "/open311/"
STAFF = "/staff"


def _suffix(request: Request) -> str:
    return request.url.path.rsplit(".", 1)[-1] if "." in request.url.path.rsplit("/", 1)[-1] else "json"


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError) -> Response:
        if request.url.path.startswith(OPEN311):
            return open311.error_reply(_suffix(request), exc)
        if exc.status_code == 401 and request.url.path.startswith(STAFF) and request.method == "GET":
            return RedirectResponse(f"/staff/login?next={quote(request.url.path)}", status_code=303)
        if page_errors.wants_page(request):
            return page_errors.page_for(request, exc.status_code, exc.message)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status_code == 401 else None
        detail = localize(exc.message, api_language_of(request))
        return JSONResponse({"detail": detail, **exc.detail}, status_code=exc.status_code, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith(OPEN311):
            fields = ", ".join(str(e["loc"][-1]) for e in exc.errors() if e.get("loc"))
            return open311.error_reply(_suffix(request), DomainError(f"invalid parameters: {fields}"))
        if page_errors.wants_page(request):
            return page_errors.invalid_form_page(request, exc)
        language = api_language_of(request)
        errors = json.loads(json.dumps(exc.errors(), default=str))
        for error in errors:
            error["message"] = validation.explain(error, language)
        if any(error.get("type") == "json_invalid" for error in errors):
            detail = _("Nội dung gửi lên không phải JSON hợp lệ.")
            return JSONResponse({"detail": detail.in_language(language), "errors": errors}, status_code=400)
        detail = _("Yêu cầu chưa đúng: {problems}", problems=validation.summary(errors))
        return JSONResponse({"detail": detail.in_language(language), "errors": errors}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith(OPEN311):
            problem = (
                NotFound("no such Open311 resource")
                if exc.status_code == 404
                else DomainError(str(exc.detail))
            )
            return open311.error_reply(_suffix(request), problem)
        if page_errors.wants_page(request):
            return page_errors.page_for(request, exc.status_code, str(exc.detail))
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        # answered by Starlette's outermost middleware, past ours: the headers are added here
        message = _("Lỗi không mong đợi ở máy chủ; xin thử lại sau.")
        if page_errors.wants_page(request):
            response: Response = page_errors.page_for(request, 500, message)
        else:
            response = JSONResponse(
                {"detail": message.in_language(api_language_of(request))}, status_code=500
            )
        secure(response.headers, path=request.url.path, https=request.url.scheme == "https")
        return response

    @app.exception_handler(IntegrityError)
    async def integrity_error(request: Request, exc: IntegrityError) -> JSONResponse:
        log.warning("integrity error: %s", exc.orig)
        message = _("Dữ liệu này trùng với dữ liệu đã lưu; hãy tải lại trang và thử lại.")
        return JSONResponse({"detail": message.in_language(api_language_of(request))}, status_code=409)

    @app.exception_handler(DataError)
    async def out_of_range(request: Request, exc: DataError) -> Response:
        """The last line behind the validators: a value PostgreSQL cannot hold is the sender's mistake."""
        log.info("value refused by the database: %s", exc.orig)
        return await domain_error(
            request,
            Invalid(_("Một giá trị gửi lên nằm ngoài phạm vi cho phép hoặc chứa ký tự không hợp lệ.")),
        )

    @app.exception_handler(OperationalError)
    @app.exception_handler(psycopg.OperationalError)  # kernel.statement_pool's, outside SQLAlchemy
    async def busy(request: Request, exc: OperationalError | psycopg.OperationalError) -> JSONResponse:
        log.warning("database unavailable: %s", getattr(exc, "orig", exc))
        message = _("Cơ sở dữ liệu đang bận hoặc không kết nối được; xin thử lại sau giây lát.")
        return JSONResponse(
            {"detail": message.in_language(api_language_of(request))},
            status_code=503,
            headers={"Retry-After": "5"},
        )

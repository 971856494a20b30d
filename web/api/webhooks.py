"""/webhooks: Facebook's subscription challenge and deliveries, Zalo's events. Each authentic delivery is
stored before the answer (one row per event, a redelivery stored once) and handed to the workers after the
commit without waiting for the broker (channels.handoff)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, PlainTextResponse

from channels import facebook, service, zalo
from channels.handoff import Handoff
from kernel.db import single_statements
from kernel.errors import DomainError, Forbidden
from kernel.settings import get_settings
from web.deps import Engine, statement_pool

log = logging.getLogger(__name__)
router = APIRouter(prefix="/webhooks", tags=["webhooks"])


class NotConfigured(DomainError):
    status_code = 503


@router.get("/facebook", response_class=PlainTextResponse)
def facebook_challenge(
    mode: Annotated[str, Query(alias="hub.mode")] = "",
    token: Annotated[str, Query(alias="hub.verify_token")] = "",
    challenge: Annotated[str, Query(alias="hub.challenge", max_length=200)] = "",
) -> str:
    expected = get_settings().facebook_verify_token
    if mode != "subscribe" or not expected or token != expected:
        raise Forbidden("the verify token does not match CIVICDESK_FACEBOOK_VERIFY_TOKEN")
    return challenge


# what a signed body of an unexpected shape makes the parsers raise ("entry": 5, a string where an
# object belongs, a timestamp of 1e30)
UNREADABLE_SHAPE = (TypeError, AttributeError, KeyError, ValueError, OverflowError, OSError)


async def _store(request: Request, events: list[Any]) -> dict[str, int]:
    stored = await service.accept(statement_pool(request), events)
    handoff: Handoff = request.app.state.inbound_handoff
    handoff.put(stored)  # committed: the workers may look for them now
    return {"received": len(events), "stored": len(stored)}


def _park(engine: Engine, channel: str, raw: bytes, reason: str) -> dict[str, int]:
    with single_statements(engine) as connection:
        parked = service.park_unreadable(connection, channel=channel, raw_body=raw, reason=reason)
    return {"received": 0, "stored": 0, "dead_letters": int(parked is not None)}


async def _intake(request: Request, channel: str, raw: bytes, parse: Callable[[], list[Any]]) -> JSONResponse:
    """Stores an authentic delivery's events, or keeps one we cannot read as a dead letter and
    acknowledges it, because the provider would otherwise repeat it for days.

    The route is ``async`` and stays on the event loop: checking and parsing are a little CPU, and the
    one INSERT is sent through the loop's own connections (``kernel.statement_pool``), with no trip to
    the thread pool (a sync route with the session dependency made four, a third of the CPU of a
    delivery; issue 22). Only a dead letter, rare, is stored from a thread. The answer is built here, not
    validated against the declared model."""
    engine: Engine = request.app.state.engine
    try:
        events = parse()
    except UNREADABLE_SHAPE as exc:
        reason = f"unreadable {channel} delivery: {type(exc).__name__}: {exc}"
        log.warning(reason)
        return JSONResponse(await run_in_threadpool(_park, engine, channel, raw, reason))
    return JSONResponse(await _store(request, events))


@router.post("/facebook", response_model=dict[str, int])
async def facebook_delivery(request: Request) -> JSONResponse:
    raw = await request.body()
    settings = get_settings()
    if not settings.facebook_app_secret:
        raise NotConfigured("the Facebook webhook is not configured: set CIVICDESK_FACEBOOK_APP_SECRET")
    body = facebook.verify(
        raw, request.headers.get("X-Hub-Signature-256"), app_secret=settings.facebook_app_secret
    )
    return await _intake(
        request,
        "facebook",
        raw,
        lambda: facebook.parse(body, page_id=settings.facebook_page_id, app_id=settings.facebook_app_id),
    )


@router.post("/zalo", response_model=dict[str, int])
async def zalo_delivery(request: Request) -> JSONResponse:
    raw = await request.body()
    settings = get_settings()
    if not settings.zalo_oa_secret_key:
        raise NotConfigured("the Zalo webhook is not configured: set CIVICDESK_ZALO_OA_SECRET_KEY")
    header = request.headers.get("X-ZEvent-Signature")
    if not header:
        raise Forbidden("missing X-ZEvent-Signature")
    body = zalo.verify(
        raw, header, oa_secret_key=settings.zalo_oa_secret_key, expected_app_id=settings.zalo_app_id
    )
    return await _intake(request, "zalo", raw, lambda: zalo.parse(body))

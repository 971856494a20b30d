"""/webhooks: Facebook's subscription challenge and deliveries, Zalo's events. Each authentic delivery is
stored before the answer (one row per event, a redelivery stored once) and handed to the workers after the
commit without waiting for the broker (channels.handoff)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse

from channels import facebook, service, zalo
from channels.handoff import Handoff
from kernel.db import after_commit
from kernel.errors import DomainError, Forbidden
from kernel.settings import get_settings
from web.deps import SessionDep

log = logging.getLogger(__name__)
router = APIRouter(prefix="/webhooks", tags=["webhooks"])


class NotConfigured(DomainError):
    status_code = 503


async def raw_body(request: Request) -> bytes:
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


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


def _store(session: Any, handoff: Handoff, events: list[Any]) -> dict[str, int]:
    stored = service.accept(session, events)
    if stored:
        after_commit(session, lambda: handoff.put(stored))
    return {"received": len(events), "stored": len(stored)}


def _parse_or_park(
    session: Any, request: Request, channel: str, raw: bytes, parse: Callable[[], list[Any]]
) -> dict[str, int]:
    """Events of an authentic delivery; one we cannot read is kept as a dead letter and acknowledged,
    because the provider would otherwise repeat it for days."""
    try:
        events = parse()
    except UNREADABLE_SHAPE as exc:
        reason = f"unreadable {channel} delivery: {type(exc).__name__}: {exc}"
        log.warning(reason)
        parked = service.park_unreadable(session, channel=channel, raw_body=raw, reason=reason)
        return {"received": 0, "stored": 0, "dead_letters": int(parked is not None)}
    return _store(session, request.app.state.inbound_handoff, events)


@router.post("/facebook")
def facebook_delivery(raw: RawBody, request: Request, session: SessionDep) -> dict[str, int]:
    settings = get_settings()
    if not settings.facebook_app_secret:
        raise NotConfigured("the Facebook webhook is not configured: set CIVICDESK_FACEBOOK_APP_SECRET")
    body = facebook.verify(
        raw, request.headers.get("X-Hub-Signature-256"), app_secret=settings.facebook_app_secret
    )
    return _parse_or_park(
        session,
        request,
        "facebook",
        raw,
        lambda: facebook.parse(body, page_id=settings.facebook_page_id, app_id=settings.facebook_app_id),
    )


@router.post("/zalo")
def zalo_delivery(raw: RawBody, request: Request, session: SessionDep) -> dict[str, int]:
    settings = get_settings()
    if not settings.zalo_oa_secret_key:
        raise NotConfigured("the Zalo webhook is not configured: set CIVICDESK_ZALO_OA_SECRET_KEY")
    header = request.headers.get("X-ZEvent-Signature")
    if not header:
        raise Forbidden("missing X-ZEvent-Signature")
    body = zalo.verify(
        raw, header, oa_secret_key=settings.zalo_oa_secret_key, expected_app_id=settings.zalo_app_id
    )
    return _parse_or_park(session, request, "zalo", raw, lambda: zalo.parse(body))

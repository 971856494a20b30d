"""How anonymous callers reach one report: by its secret link, with guessing slowed down."""

from __future__ import annotations

from fastapi import Request
from sqlmodel import Session

from civicdesk import ratelimit
from civicdesk.errors import NotFound
from tickets import service
from tickets.models import Ticket

MISSED_TOKEN_LIMIT = (30, 600)  # wrong links per address per 10 minutes


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def ticket_or_404(session: Session, request: Request, token: str) -> Ticket:
    try:
        return service.get_ticket_by_token(session, token)
    except NotFound:
        ratelimit.hit(
            session,
            f"token-miss:{client_address(request)}",
            limit=MISSED_TOKEN_LIMIT[0],
            window_seconds=MISSED_TOKEN_LIMIT[1],
            message="too many wrong links; try again later",
        )
        session.commit()  # the miss must count even though this request ends in a 404
        raise

"""How anonymous callers reach one report: by its secret link, with guessing slowed down."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from kernel import ratelimit
from kernel.errors import NotFound
from kernel.i18n import _
from tickets import service
from tickets.models import Ticket
from web.deps import Session


@dataclass(frozen=True)
class AttemptLimit:
    scope: str
    attempts: int
    window_seconds: int
    message: str


WRONG_LINKS = AttemptLimit("token-miss", 30, 600, _("Quá nhiều đường dẫn sai; hãy thử lại sau."))


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def ticket_or_404(session: Session, request: Request, token: str) -> Ticket:
    try:
        return service.get_ticket_by_token(session, token)
    except NotFound:
        count_attempt(session, request, WRONG_LINKS)
        raise


def count_attempt(session: Session, request: Request, limit: AttemptLimit) -> None:
    """Count one attempt from this address; refuse with 429 past the limit."""
    address = client_address(request)
    ratelimit.hit(
        session,
        f"{limit.scope}:{address}",
        limit=limit.attempts,
        window_seconds=limit.window_seconds,
        message=limit.message,
    )
    session.commit()  # the attempt counts even when the request then fails and rolls back

"""The citizen's choice to stop updates: the small form on the status page, and the one-click
List-Unsubscribe of our e-mails (RFC 8058), both a POST to the report's secret link."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import PlainTextResponse, RedirectResponse, Response

from kernel.text import CleanStr
from notifications import service as notifications
from web.deps import SessionDep
from web.public_access import ticket_or_404

router = APIRouter(include_in_schema=False)
ONE_CLICK = "One-Click"


@router.post("/t/{token}/stop-updates", response_model=None)
def stop_updates(
    request: Request,
    token: str,
    session: SessionDep,
    list_unsubscribe: Annotated[CleanStr, Form(alias="List-Unsubscribe", max_length=20)] = "",
) -> Response:
    ticket = ticket_or_404(session, request, token)
    notifications.stop_updates(session, ticket)
    if list_unsubscribe == ONE_CLICK:  # a mail client acting for the citizen: no page to show
        return PlainTextResponse("Đã ngừng gửi thông báo. (Updates stopped.)")
    return RedirectResponse(f"/t/{token}?m=stopped", status_code=303)

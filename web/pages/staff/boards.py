"""/staff/boards: the supervisor's live queue wallboard and SLA board."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from incidents.service import open_incidents
from sla import boards
from telephony import agents, calls
from web.deps import CredentialsDep, SessionDep
from web.i18n import language_of
from web.pages.public import ward_map
from web.pages.staff.common import BoardsUser, render_staff
from web.pages.staff.reference import reference_lists

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/boards", response_class=HTMLResponse)
def supervisor_boards(
    request: Request, user: BoardsUser, credentials: CredentialsDep, session: SessionDep
) -> HTMLResponse:
    incidents = open_incidents(session)
    return render_staff(
        request,
        "staff/boards.html",
        user,
        credentials,
        queue=calls.queue_snapshot(session),
        members=agents.queue_members(session),
        board=boards.board(session, user),
        incidents=incidents,
        incident_map=ward_map(session, [], incidents),
        **reference_lists(session, language_of(request)),
    )

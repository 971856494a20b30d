"""/staff/console: the agent's desk: incoming-call card, pause, new ticket with suggestions, inbox, triage."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from channels.inbox import inbox
from routing import flows
from telephony.agents import member_of
from tickets.models import Priority
from web.deps import CredentialsDep, SessionDep
from web.i18n import language_of
from web.pages.staff.common import ConsoleUser, render_staff
from web.pages.staff.reference import reference_lists

router = APIRouter(prefix="/staff", include_in_schema=False)


@router.get("/console", response_class=HTMLResponse)
def console(
    request: Request, user: ConsoleUser, credentials: CredentialsDep, session: SessionDep
) -> HTMLResponse:
    names = reference_lists(session, language_of(request))
    return render_staff(
        request,
        "staff/console.html",
        user,
        credentials,
        member=member_of(session, user.id),
        conversations=inbox(session, user, limit=50),
        triage_queue=flows.queue(session, limit=50),
        priorities=[p.value for p in Priority],
        department_names={d.code: names["label"](d) for d in names["departments"]},
        **names,
    )

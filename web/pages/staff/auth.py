"""/staff/login and sign-out: the cookie session, the lockout, and the audit entries they leave."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from civicdesk.errors import DomainError
from tickets import audit, permissions
from tickets.staff import Role, authenticate
from web.deps import CredentialsDep, CurrentUser, SessionDep
from web.pages.common import render
from web.public_access import client_address
from web.sessions import clear_cookie, issue_cookie

router = APIRouter(prefix="/staff", include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: a login link must not bounce people elsewhere."""
    if not target:
        return "/staff"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/staff"
    return target


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return render(request, "staff/login.html", next=_safe_next(next), error=None, username="")


@router.post("/login", response_model=None)
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str | None, Form(max_length=500)] = None,
) -> Response:
    address = client_address(request)
    result = authenticate(session, username, password)
    if isinstance(result, DomainError):
        audit.record(
            session, "sign_in_failed", username=username, outcome=result.status_code, address=address
        )
        page = render(
            request,
            "staff/login.html",
            status_code=result.status_code,
            next=_safe_next(next),
            error=result.message,
            username=username,
        )
        return page
    audit.record(
        session, "sign_in", user_id=result.id, username=result.username, outcome=200, address=address
    )
    response = RedirectResponse(_safe_next(next), status_code=303)
    issue_cookie(response, request, result)
    return response


@router.post("/logout")
def logout(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    audit.record(
        session, "sign_out", user_id=user.id, username=user.username, address=client_address(request)
    )
    response = RedirectResponse("/staff/login?signed_out=1", status_code=303)
    clear_cookie(response, request)
    return response


@router.post("/logout-everywhere")
def logout_everywhere(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    user.token_version += 1
    session.add(user)
    audit.record(
        session,
        "sign_out_everywhere",
        user_id=user.id,
        username=user.username,
        address=client_address(request),
    )
    response = RedirectResponse("/staff/login?signed_out=1", status_code=303)
    clear_cookie(response, request)
    return response


@router.get("")
def home(user: CurrentUser, _: CredentialsDep) -> Response:
    return RedirectResponse(f"/staff/{permissions.HOME_BY_ROLE[Role(user.role)]}", status_code=303)

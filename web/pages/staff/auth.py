"""/staff/login and sign-out: the cookie session, login CSRF, and the audit entries they leave."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from kernel.errors import DomainError, TooManyRequests
from kernel.i18n import localize
from tickets import audit, permissions
from tickets.staff import Role, end_sign_in, sign_out_everywhere, start_sign_in
from web.deps import CredentialsDep, CurrentUser, SessionDep
from web.i18n import language_of
from web.pages.common import render
from web.public_access import client_address
from web.sessions import (
    check_login_form,
    clear_cookie,
    issue_cookie,
    keep_login_nonce,
    lifetime,
    new_login_form,
)
from web.signin import sign_in

router = APIRouter(prefix="/staff", include_in_schema=False)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: a login link must not bounce people elsewhere."""
    if not target:
        return "/staff"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return "/staff"
    return target


def _login_page(request: Request, *, status_code: int = 200, **context: Any) -> HTMLResponse:
    """The form with a fresh login-CSRF token, and the pre-session cookie it is tied to."""
    nonce, token = new_login_form()
    page = render(request, "staff/login.html", status_code=status_code, login_token=token, **context)
    keep_login_nonce(page, request, nonce)
    page.headers["Cache-Control"] = "no-store"
    return page


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None) -> HTMLResponse:
    return _login_page(request, next=_safe_next(next), error=None, username="")


@router.post("/login", response_model=None)
def login(
    request: Request,
    session: SessionDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=200)],
    next: Annotated[str | None, Form(max_length=500)] = None,
    login_token: Annotated[str | None, Form(max_length=200)] = None,
) -> Response:
    try:
        check_login_form(request, login_token)
        user = sign_in(session, request, username, password)
    except DomainError as refusal:
        page = _login_page(
            request,
            status_code=refusal.status_code,
            next=_safe_next(next),
            error=localize(refusal.message, language_of(request)),
            username=username,
        )
        if isinstance(refusal, TooManyRequests) and refusal.detail.get("retry_after"):
            page.headers["Retry-After"] = str(refusal.detail["retry_after"])
        return page
    response = RedirectResponse(_safe_next(next), status_code=303)
    secret = start_sign_in(session, user, lifetime=lifetime(), address=client_address(request))
    issue_cookie(response, request, secret)
    return response


@router.post("/logout")
def logout(request: Request, user: CurrentUser, credentials: CredentialsDep, session: SessionDep) -> Response:
    if credentials.cookie:
        end_sign_in(session, credentials.cookie.session_id)
    audit.record(
        session, "sign_out", user_id=user.id, username=user.username, address=client_address(request)
    )
    response = RedirectResponse("/staff/login?signed_out=1", status_code=303)
    clear_cookie(response, request)
    return response


@router.post("/logout-everywhere")
def logout_everywhere(request: Request, user: CurrentUser, session: SessionDep) -> Response:
    sign_out_everywhere(session, user)
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

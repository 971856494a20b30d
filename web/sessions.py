"""Staff sign-in by cookie for the staff pages, with CSRF protection.

The cookie holds a random secret naming one sign-in kept in the database (``tickets.staff.SignIn``), so
signing out ends it at once; it is HTTP-only, SameSite=Lax and Secure over HTTPS. It is not a bearer token
and a bearer token is not a cookie: each is looked up only where it belongs. Every state-changing request
made with the cookie must carry the session's CSRF token (header ``X-CSRF-Token`` or form field
``csrf_token``) and, when the browser sends one, an ``Origin`` of this site. The login form itself is
protected the same way before anyone is signed in, by a token tied to a short-lived pre-session cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from fastapi import Request, Response

from kernel.errors import Forbidden, Unauthorized
from kernel.i18n import _
from kernel.settings import get_settings
from tickets.staff import LiveSignIn

COOKIE = "civicdesk_staff"
LOGIN_COOKIE = "civicdesk_login"
LOGIN_FORM_MINUTES = 60
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"
FOREIGN_ORIGIN = _("Yêu cầu đến từ trang web khác; hãy dùng trang CivicDesk.")


@dataclass(frozen=True)
class StaffSession:
    user_id: int
    version: int
    session_id: str

    @property
    def csrf_token(self) -> str:
        return _mac("csrf", self.session_id)


def _mac(purpose: str, value: str) -> str:
    key = get_settings().signing_key.encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def lifetime() -> timedelta:
    """How long a staff sign-in lasts (CIVICDESK_SESSION_HOURS): the cookie's age and the stored row's."""
    return timedelta(hours=get_settings().session_hours)


def issue_cookie(response: Response, request: Request, secret: str) -> None:
    """Give the browser the secret of a sign-in just started (``tickets.staff.start_sign_in``)."""
    _set(response, request, COOKIE, secret, lifetime())
    response.delete_cookie(LOGIN_COOKIE, path="/staff/login", httponly=True, samesite="lax")


def clear_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request))


def _set(
    response: Response, request: Request, name: str, value: str, lifetime: timedelta, path: str = "/"
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path=path,
    )


def _secure(request: Request) -> bool:
    configured = get_settings().cookie_secure
    return request.url.scheme == "https" if configured is None else configured


def read_cookie(request: Request, find: Callable[[str], LiveSignIn | None]) -> StaffSession | None:
    """The sign-in the cookie names, looked up by ``find`` (``tickets.staff.signed_in``); None without a
    cookie, 401 when the sign-in it names has ended."""
    secret = request.cookies.get(COOKIE)
    if not secret:
        return None
    sign_in = find(secret)
    if sign_in is None:
        raise Unauthorized(_("Phiên đăng nhập đã kết thúc; hãy đăng nhập lại."))
    return StaffSession(sign_in.user_id, sign_in.token_version, sign_in.session_id)


async def check_csrf(request: Request, staff: StaffSession) -> None:
    """Refuse a state-changing cookie request that does not prove it comes from our own pages."""
    if request.method in SAFE_METHODS:
        return
    check_origin(request)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and _is_form(request):
        sent = str((await request.form()).get(CSRF_FIELD) or "")
    if not sent or not hmac.compare_digest(sent, staff.csrf_token):
        raise Forbidden(_("Trang đã cũ (thiếu mã bảo mật); hãy tải lại trang và thử lại."))


def check_origin(request: Request) -> None:
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") != f"{request.url.scheme}://{request.url.netloc}":
        raise Forbidden(FOREIGN_ORIGIN)


def new_login_form() -> tuple[str, str]:
    """A pre-session nonce for the login cookie and the token the form carries: tied together, so another
    site cannot sign a browser in to an account of its choosing (login CSRF)."""
    nonce = secrets.token_urlsafe(24)
    return nonce, _mac("login", nonce)


def keep_login_nonce(response: Response, request: Request, nonce: str) -> None:
    _set(response, request, LOGIN_COOKIE, nonce, timedelta(minutes=LOGIN_FORM_MINUTES), path="/staff/login")


def check_login_form(request: Request, sent: str | None) -> None:
    check_origin(request)
    nonce = request.cookies.get(LOGIN_COOKIE)
    if not nonce or not sent or not hmac.compare_digest(sent, _mac("login", nonce)):
        raise Forbidden(_("Trang đăng nhập đã cũ; hãy tải lại và thử lại."))


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))

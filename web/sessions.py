"""Staff sign-in by cookie for the staff pages, with CSRF protection.

The cookie holds the same signed token as the API's bearer token plus a random session id; it is
HTTP-only, SameSite=Lax and Secure over HTTPS. Every state-changing request made with the cookie must
carry the session's CSRF token (header ``X-CSRF-Token`` or form field ``csrf_token``) and, when the
browser sends one, an ``Origin`` of this site. Bearer-token API clients are not affected.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

import jwt
from fastapi import Request, Response

from civicdesk.errors import Forbidden, Unauthorized
from civicdesk.settings import get_settings
from civicdesk.timeutil import utcnow
from tickets.staff import User
from web.security import ALGORITHM

COOKIE = "civicdesk_staff"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf_token"


@dataclass(frozen=True)
class StaffSession:
    user_id: int
    version: int
    session_id: str

    @property
    def csrf_token(self) -> str:
        return csrf_token_for(self.session_id)


def csrf_token_for(session_id: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"csrf:{session_id}".encode(), hashlib.sha256).hexdigest()


def issue_cookie(response: Response, request: Request, user: User) -> StaffSession:
    settings = get_settings()
    now = utcnow()
    session_id = secrets.token_urlsafe(18)
    lifetime = timedelta(hours=settings.session_hours)
    claims = {
        "sub": str(user.id),
        "ver": user.token_version,
        "sid": session_id,
        "iat": int(now.timestamp()),
        "exp": int((now + lifetime).timestamp()),
    }
    token = jwt.encode(claims, settings.secret_key, algorithm=ALGORITHM)
    response.set_cookie(
        COOKIE,
        token,
        max_age=int(lifetime.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=_secure(request),
        path="/",
    )
    return StaffSession(user.id or 0, user.token_version, session_id)


def clear_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=_secure(request))


def _secure(request: Request) -> bool:
    configured = get_settings().cookie_secure
    return request.url.scheme == "https" if configured is None else configured


def read_cookie(request: Request) -> StaffSession | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    try:
        claims = jwt.decode(token, get_settings().secret_key, algorithms=[ALGORITHM])
        return StaffSession(int(claims["sub"]), int(claims["ver"]), str(claims["sid"]))
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise Unauthorized("the sign-in has expired; sign in again") from exc


async def check_csrf(request: Request, staff: StaffSession) -> None:
    """Refuse a state-changing cookie request that does not prove it comes from our own pages."""
    if request.method in SAFE_METHODS:
        return
    origin = request.headers.get("origin")
    if origin and origin.rstrip("/") != f"{request.url.scheme}://{request.url.netloc}":
        raise Forbidden("this request comes from another site; use the CivicDesk pages")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and _is_form(request):
        sent = str((await request.form()).get(CSRF_FIELD) or "")
    if not sent or not hmac.compare_digest(sent, staff.csrf_token):
        raise Forbidden("the page is out of date (missing security token); reload it and try again")


def _is_form(request: Request) -> bool:
    kind = request.headers.get("content-type", "")
    return kind.startswith(("application/x-www-form-urlencoded", "multipart/form-data"))

"""Bearer tokens for the API: signed JWTs that carry the user's token version, so that bumping it signs
the user out everywhere. Their audience is the API alone; the staff cookie is a different thing (see
web/sessions.py), so neither can stand in for the other."""

from __future__ import annotations

from datetime import timedelta

import jwt

from kernel.errors import Unauthorized
from kernel.i18n import _
from kernel.settings import get_settings
from kernel.timeutil import utcnow
from tickets.staff import User

ALGORITHM = "HS256"
AUDIENCE = "civicdesk-api"


def issue_token(user: User) -> str:
    settings = get_settings()
    now = utcnow()
    claims = {
        "sub": str(user.id),
        "ver": user.token_version,
        "aud": AUDIENCE,
        "iat": int(now.timestamp()),
        "exp": int((now + timedelta(minutes=settings.access_token_minutes)).timestamp()),
    }
    return jwt.encode(claims, settings.signing_key, algorithm=ALGORITHM)


def read_token(token: str) -> tuple[int, int]:
    """(user id, token version) from a valid token."""
    try:
        claims = jwt.decode(token, get_settings().signing_key, algorithms=[ALGORITHM], audience=AUDIENCE)
        return int(claims["sub"]), int(claims["ver"])
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise Unauthorized(_("Phiên đăng nhập đã hết hạn hoặc không hợp lệ; hãy đăng nhập lại.")) from exc

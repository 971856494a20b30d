"""Checking a password, for the login page and the API alike, with guessing slowed per address.

The address is ``request.client.host``: the peer itself, or the client a trusted proxy names
(CIVICDESK_TRUSTED_PROXIES, applied by uvicorn before we see the request). X-Forwarded-For is never read
here, so rotating it from anywhere else changes nothing. Accounts are never locked: that would let anyone
shut anyone out, ``admin`` included; the pause falls on the address that keeps guessing.
"""

from __future__ import annotations

import ipaddress

from fastapi import Request

from kernel import ratelimit
from kernel.errors import DomainError
from kernel.i18n import _
from tickets import audit
from tickets.staff import User, authenticate
from web.deps import Session
from web.public_access import client_address

WRONG_PASSWORDS = ratelimit.BackoffPolicy(
    free=10,
    first_pause_seconds=30,
    longest_pause_seconds=15 * 60,
    forget_after_seconds=60 * 60,
    message=_("Quá nhiều lần nhập sai mật khẩu từ địa chỉ này; hãy thử lại sau."),
)


def guesser_key(address: str) -> str:
    """The address; for IPv6 its /64, which one household or server usually holds whole."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"sign-in:{address}"
    if ip.version == 6:
        return f"sign-in:{ipaddress.ip_network(f'{ip}/64', strict=False)}"
    return f"sign-in:{ip}"


def sign_in(session: Session, request: Request, username: str, password: str) -> User:
    """The user, or a raised refusal (401 wrong credentials, 429 paused) already audited and committed."""
    address = client_address(request)
    key = guesser_key(address)
    try:
        ratelimit.check_backoff(session, key, WRONG_PASSWORDS)
        user = authenticate(session, username, password)
    except DomainError as refusal:
        if refusal.status_code == 401:
            ratelimit.record_failure(session, key, WRONG_PASSWORDS)
        audit.record(
            session, "sign_in_failed", username=username, outcome=refusal.status_code, address=address
        )
        session.commit()  # the failure counts although the request answers with an error
        raise
    audit.record(session, "sign_in", user_id=user.id, username=user.username, outcome=200, address=address)
    return user

"""Signing in through the login form as a browser does: fetch the form (its login-CSRF token and the
pre-session cookie), then post both back."""

from __future__ import annotations

from typing import Any

import httpx

from web.sessions import LOGIN_COOKIE

MARKER = 'name="login_token" value="'


def login_form(client: httpx.Client, headers: dict[str, str] | None = None) -> tuple[str, str]:
    """(the form's token, the pre-session cookie's value)."""
    page = client.get("/staff/login", headers=headers)
    return page.text.split(MARKER, 1)[1].split('"', 1)[0], page.cookies[LOGIN_COOKIE]


def login_token(client: httpx.Client) -> str:
    return login_form(client)[0]


def sign_in(
    client: httpx.Client, username: str, password: str, *, headers: dict[str, str] | None = None, **form: Any
) -> httpx.Response:
    token, nonce = login_form(client, headers)
    data = {"username": username, "password": password, "login_token": token, **form}
    # sent by hand: behind a TLS-terminating proxy in tests the cookie is Secure but the hop is http
    cookie = {"Cookie": f"{LOGIN_COOKIE}={nonce}"}
    return client.post(
        "/staff/login", data=data, headers={**(headers or {}), **cookie}, follow_redirects=False
    )

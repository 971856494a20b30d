"""Plumbing shared by the staff pages: the signed-in user, role checks, rendering with the CSRF token."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse

from tickets import permissions
from tickets.staff import User
from web.deps import CredentialsDep, CurrentUser
from web.pages.common import render


def render_staff(
    request: Request, template: str, user: User, credentials: CredentialsDep, **context: Any
) -> HTMLResponse:
    nav = [name for name in ("console", "tasks", "boards", "admin") if permissions.can_open(user, name)]
    csrf = credentials.cookie.csrf_token if credentials.cookie else ""
    response = render(request, template, user=user, nav=nav, csrf_token=csrf, **context)
    response.headers["Cache-Control"] = "no-store"
    return response


def workspace(name: str) -> Any:
    def guard(user: CurrentUser) -> User:
        permissions.require_workspace(user, name)
        return user

    return Depends(guard)


ConsoleUser = Annotated[User, workspace("console")]
TasksUser = Annotated[User, workspace("tasks")]
BoardsUser = Annotated[User, workspace("boards")]
AdminUser = Annotated[User, workspace("admin")]

"""/api/v1/auth: the OAuth2 password flow, who am I, sign out everywhere; /api/v1/users for admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from fastapi.security import OAuth2PasswordRequestForm
from pydantic import BaseModel, ConfigDict, Field

from kernel.errors import DomainError, Invalid, NotFound
from kernel.i18n import localize
from kernel.text import CleanInput, RowId
from tickets import permissions
from tickets.schemas import UserCreate, UserOut
from tickets.staff import User, create_user, set_active, set_head, sign_out_everywhere
from web.deps import CurrentUser, SessionDep
from web.i18n import api_language_of
from web.security import issue_token
from web.signin import sign_in

router = APIRouter(prefix="/api/v1", tags=["auth"])


def user_out(user: User) -> UserOut:
    return UserOut(
        id=user.id or 0,
        username=user.username,
        full_name=user.full_name,
        role=user.role,
        department=user.department_code,
        ward=user.ward_code,
        is_head=user.is_head,
        active=user.active,
    )


class TokenOut(BaseModel):
    """A bearer token for the API (OAuth2 password flow)."""

    access_token: str = Field(description="send as Authorization: Bearer <token>")
    token_type: str = Field(default="bearer", description="always bearer", examples=["bearer"])


@router.post("/auth/token", response_model=TokenOut)
def token(
    request: Request, form: Annotated[OAuth2PasswordRequestForm, Depends()], session: SessionDep
) -> TokenOut | JSONResponse:
    """Sign in with a username and password; refused sign-ins are slowed down (Retry-After)."""
    try:
        user = sign_in(session, request, form.username, form.password)
    except DomainError as refusal:
        headers = {"WWW-Authenticate": "Bearer"}
        if "retry_after" in refusal.detail:
            headers["Retry-After"] = str(refusal.detail["retry_after"])
        detail = localize(refusal.message, api_language_of(request))
        return JSONResponse({"detail": detail}, status_code=refusal.status_code, headers=headers)
    return TokenOut(access_token=issue_token(user))


@router.get("/auth/me")
def me(user: CurrentUser) -> UserOut:
    """The signed-in staff member."""
    return user_out(user)


@router.post("/auth/logout-everywhere", status_code=204)
def logout_everywhere(user: CurrentUser, session: SessionDep) -> None:
    """End every sign-in and token of the signed-in person."""
    sign_out_everywhere(session, user)


@router.post("/users", status_code=201)
def add_user(body: UserCreate, user: CurrentUser, session: SessionDep) -> UserOut:
    """Create a staff account (administrators)."""
    permissions.require_action(user, "manage_users")
    created = create_user(
        session,
        username=body.username,
        password=body.password,
        role=body.role,
        full_name=body.full_name,
        department=body.department,
        ward=body.ward,
    )
    return user_out(created)


class UserChange(CleanInput):
    """Either or both: active (deactivating signs the person out everywhere); is_head (the head of their
    department or ward, told first about SLA breaches)."""

    model_config = ConfigDict(extra="forbid")

    active: bool | None = Field(default=None, description="may sign in")
    is_head: bool | None = Field(default=None, description="the head of their department or ward")


@router.patch("/users/{user_id}")
def change_user(user_id: RowId, body: UserChange, user: CurrentUser, session: SessionDep) -> UserOut:
    """Activate or deactivate a staff member, or make them the head of their unit (administrators)."""
    permissions.require_action(user, "manage_users")
    if body.active is None and body.is_head is None:
        raise Invalid("Không có thay đổi nào: hãy gửi active hoặc is_head. (Nothing to change.)")
    changed: User | None = None
    if body.active is not None:
        changed = set_active(session, user_id, body.active)
    if body.is_head is not None:
        changed = set_head(session, user_id, body.is_head, by=user)
    if changed is None:
        raise NotFound(f"Không có người dùng {user_id}. (no user {user_id})")
    return user_out(changed)

"""FastAPI dependencies: one unit of work per request, the signed-in user."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.engine import Engine
from sqlmodel import Session

from civicdesk.db import unit_of_work
from civicdesk.errors import Unauthorized
from tickets.staff import User
from web.security import read_token

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token")


def get_session(request: Request) -> Iterator[Session]:
    """Commits when the endpoint returns, before the response is sent; rolls back if it raises."""
    engine: Engine = request.app.state.engine
    with unit_of_work(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def get_current_user(session: SessionDep, token: Annotated[str, Depends(oauth2_scheme)]) -> User:
    user_id, version = read_token(token)
    user = session.get(User, user_id)
    if user is None or not user.active or user.token_version != version:
        raise Unauthorized("the sign-in is no longer valid; sign in again")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]

"""FastAPI dependencies: one unit of work per request, the signed-in user."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.engine import Engine as Engine  # re-exported, as Session: the rest of web/ types from here
from sqlmodel import Session as Session  # re-exported: no other web module imports sqlmodel or sqlalchemy

from kernel.db import unit_of_work
from kernel.errors import Unauthorized
from kernel.i18n import _
from kernel.statement_pool import StatementPool
from tickets.staff import User, signed_in, signed_in_user
from tickets.storage import FileStore, default_store
from web.security import read_token
from web.sessions import StaffSession, check_csrf, read_cookie

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def get_session(request: Request) -> Iterator[Session]:
    """Commits when the endpoint returns, before the response is sent; rolls back if it raises."""
    engine: Engine = request.app.state.engine
    with unit_of_work(engine) as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session, scope="function")]


def database_of(request: Request) -> str:
    """The application's database by its address, password hidden (to key what is kept per database)."""
    engine: Engine = request.app.state.engine
    return engine.url.render_as_string(hide_password=True)


def statement_pool(request: Request) -> StatementPool:
    """The web process's connections for one-statement reads on the event loop (``kernel.statement_pool``)."""
    pool: StatementPool = request.app.state.statements
    return pool


@contextmanager
def request_session(request: Request) -> Iterator[Session]:
    """``get_session`` for a route that does all its database work in one trip to the thread pool (the
    busiest public reads): as a dependency the session costs two more trips, one to open, one to close."""
    with unit_of_work(request.app.state.engine) as session:
        yield session


def end_transaction(session: Session) -> None:
    """Commit what the request did so far and give the connection back, before slow outside work (a
    client's server, a remote source): no transaction waits on the network. Used again, the session
    begins a new transaction, committed when the endpoint returns like any other."""
    session.commit()


StoreDep = Annotated[FileStore, Depends(default_store)]  # where attachment bytes are read from


@dataclass(frozen=True)
class Credentials:
    user_id: int
    version: int
    cookie: StaffSession | None = None


BearerToken = Annotated[str | None, Depends(oauth2_scheme)]


def get_cookie_session(request: Request, session: SessionDep, token: BearerToken) -> StaffSession | None:
    """The staff cookie's sign-in, looked up in the database (ended sign-ins refused); not consulted when
    a bearer token is given."""
    return None if token else read_cookie(request, lambda secret: signed_in(session, secret))


async def get_credentials(
    request: Request,
    token: BearerToken,
    staff: Annotated[StaffSession | None, Depends(get_cookie_session)],
) -> Credentials:
    """A bearer token (API clients) or the staff cookie (our pages, CSRF-checked)."""
    if token:
        return Credentials(*read_token(token))
    if staff is None:
        raise Unauthorized(_("Hãy đăng nhập trước."))
    await check_csrf(request, staff)
    return Credentials(staff.user_id, staff.version, staff)


def get_current_user(
    request: Request, session: SessionDep, credentials: Annotated[Credentials, Depends(get_credentials)]
) -> User:
    user = signed_in_user(session, credentials.user_id, credentials.version)
    if user is None:
        raise Unauthorized(_("Phiên đăng nhập không còn hiệu lực; hãy đăng nhập lại."))
    request.state.staff = (user.id, user.username)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]
CredentialsDep = Annotated[Credentials, Depends(get_credentials)]

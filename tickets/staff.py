"""Staff accounts, their roles, and which tickets each of them may see."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from enum import StrEnum

from pwdlib import PasswordHash
from sqlalchemy import String
from sqlmodel import Field, Session, SQLModel, select

from civicdesk.errors import Conflict, DomainError, Invalid, NotFound, TooManyRequests, Unauthorized
from civicdesk.timeutil import VN_TZ, UTCDateTime, utcnow

USERNAME = re.compile(r"^[A-Za-z0-9._-]{3,64}$")


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"
    DEPARTMENT_STAFF = "department_staff"
    WARD_OFFICER = "ward_officer"


CITY_WIDE_ROLES = frozenset({Role.ADMIN, Role.SUPERVISOR, Role.AGENT})


class User(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(sa_type=String(64), unique=True)
    full_name: str = Field(default="", sa_type=String(200))
    password_hash: str = Field(sa_type=String(300))
    role: str = Field(sa_type=String(24))
    department_code: str | None = Field(default=None, foreign_key="department.code")
    ward_code: str | None = Field(default=None, foreign_key="ward.code")
    # the head of a department (or ward) hears about SLA breaches first
    is_head: bool = False
    active: bool = True
    # bumped by "sign out everywhere": tokens carry the version they were issued under
    token_version: int = 0
    failed_logins: int = 0
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)

    @property
    def city_wide(self) -> bool:
        return self.role in CITY_WIDE_ROLES


_hasher = PasswordHash.recommended()
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _hasher.verify(password, password_hash)


MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)


def authenticate(session: Session, username: str, password: str) -> User | DomainError:
    """The user if the password is right, else the refusal to show. Refusals are returned, not raised,
    so the caller commits the failure count: five wrong passwords in a row lock the account 15 minutes."""
    user = session.exec(select(User).where(User.username == username)).first()
    now = utcnow()
    if user is None or not user.active:
        verify_password(password, _DUMMY_HASH)  # same work either way: no username probing by timing
        return Unauthorized("wrong username or password")
    if user.locked_until and user.locked_until > now:
        return TooManyRequests(
            f"too many wrong passwords; try again after {user.locked_until.astimezone(VN_TZ):%H:%M}"
        )
    if not verify_password(password, user.password_hash):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until = now + LOCKOUT
            user.failed_logins = 0
        return Unauthorized("wrong username or password")
    user.failed_logins = 0
    user.locked_until = None
    return user


def create_user(
    session: Session,
    *,
    username: str,
    password: str,
    role: str,
    full_name: str = "",
    department: str | None = None,
    ward: str | None = None,
) -> User:
    from tickets.reference import Department, Ward

    if role not in {r.value for r in Role}:
        raise Invalid(f"unknown role '{role}'; use one of {[r.value for r in Role]}", field="role")
    if not USERNAME.match(username):
        raise Invalid("a username is 3 to 64 letters, digits, dots, dashes or underscores", field="username")
    if len(password) < 8:
        raise Invalid("a password needs at least 8 characters", field="password")
    if role == Role.DEPARTMENT_STAFF and not department:
        raise Invalid("department staff need --department", field="department")
    if role == Role.WARD_OFFICER and not ward:
        raise Invalid("a ward officer needs --ward", field="ward")
    if department and session.get(Department, department) is None:
        raise Invalid(f"unknown department '{department}'", field="department")
    if ward and session.get(Ward, ward) is None:
        raise Invalid(f"unknown ward '{ward}'", field="ward")
    if session.exec(select(User).where(User.username == username)).first():
        raise Conflict(f"the username '{username}' is taken")
    user = User(
        username=username,
        full_name=full_name,
        password_hash=hash_password(password),
        role=role,
        department_code=department,
        ward_code=ward,
    )
    session.add(user)
    session.flush()
    return user


def set_active(session: Session, user_id: int, active: bool) -> User:
    """Deactivating also ends every sign-in of that person at once."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"no user {user_id}")
    if user.active and not active:
        user.token_version += 1
    user.active = active
    session.add(user)
    return user

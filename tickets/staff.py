"""Staff accounts, their roles, and which tickets each of them may see."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pwdlib import PasswordHash
from sqlalchemy import String, delete, update
from sqlmodel import Field, Session, SQLModel, col, select

from kernel.errors import Conflict, Invalid, NotFound, Unauthorized
from kernel.i18n import _
from kernel.timeutil import UTCDateTime, utcnow

USERNAME = re.compile(r"^[A-Za-z0-9._-]{3,64}$")


class Role(StrEnum):
    ADMIN = "admin"
    SUPERVISOR = "supervisor"
    AGENT = "agent"
    DEPARTMENT_STAFF = "department_staff"
    WARD_OFFICER = "ward_officer"


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
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)


_hasher = PasswordHash.recommended()
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str) -> bool:
    return _hasher.verify(password, password_hash)


WRONG_CREDENTIALS = _("Sai tên đăng nhập hoặc mật khẩu.")


def authenticate(session: Session, username: str, password: str) -> User:
    """The user if the password is right. A wrong password, an unknown or a deactivated account all get
    the same refusal after the same work (one Argon2 check), so neither the answer nor its timing tells
    which accounts exist. Guessing is slowed per address by the caller, never by locking the account:
    a lock would let anyone shut any account out, ``admin`` included."""
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None or not user.active:
        verify_password(password, _DUMMY_HASH)
        raise Unauthorized(WRONG_CREDENTIALS)
    if not verify_password(password, user.password_hash):
        raise Unauthorized(WRONG_CREDENTIALS)
    return user


class SignIn(SQLModel, table=True):
    """One staff sign-in (a browser's cookie), kept server-side so that signing out ends it at once.
    Only a hash of the cookie's secret is stored: a read of this table signs nobody in."""

    __tablename__ = "staff_session"

    id: str = Field(primary_key=True, sa_type=String(64))
    user_id: int = Field(foreign_key="user.id", index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime)
    expires_at: datetime = Field(sa_type=UTCDateTime)
    ended_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    address: str = Field(default="", sa_type=String(64))


def session_id_of(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start_sign_in(session: Session, user: User, *, lifetime: timedelta, address: str) -> str:
    """A new sign-in for ``user``; returns the secret for the cookie (shown once, stored hashed).
    The same person's long-expired sign-ins are swept here, so the table stays small."""
    now = utcnow()
    session.execute(
        delete(SignIn).where(col(SignIn.user_id) == user.id, col(SignIn.expires_at) < now - timedelta(days=1))
    )
    secret = secrets.token_urlsafe(32)
    session.add(
        SignIn(
            id=session_id_of(secret), user_id=user.id or 0, expires_at=now + lifetime, address=address[:64]
        )
    )
    return secret


def live_sign_in(session: Session, secret: str) -> SignIn | None:
    sign_in = session.get(SignIn, session_id_of(secret))
    if sign_in is None or sign_in.ended_at is not None or sign_in.expires_at <= utcnow():
        return None
    return sign_in


@dataclass(frozen=True)
class LiveSignIn:
    """A sign-in still in force, with the token version its user has now (-1 when the user is gone), so
    that a cookie issued before "sign out everywhere" is refused like a bearer token."""

    session_id: str
    user_id: int
    token_version: int


def signed_in(session: Session, secret: str) -> LiveSignIn | None:
    """The live sign-in a cookie's secret names, or None when it ended, expired or never was."""
    sign_in = live_sign_in(session, secret)
    if sign_in is None:
        return None
    user = session.get(User, sign_in.user_id)
    return LiveSignIn(sign_in.id, sign_in.user_id, user.token_version if user else -1)


def signed_in_user(session: Session, user_id: int, version: int) -> User | None:
    """The active user a token or a cookie of this version signs in, or None: the user is gone or
    deactivated, or signed out everywhere since (``token_version`` moved on)."""
    user = session.get(User, user_id)
    if user is None or not user.active or user.token_version != version:
        return None
    return user


def end_sign_in(session: Session, session_id: str) -> None:
    session.execute(
        update(SignIn)
        .where(col(SignIn.id) == session_id, col(SignIn.ended_at).is_(None))
        .values(ended_at=utcnow())
    )


def sign_out_everywhere(session: Session, user: User) -> None:
    """Ends every cookie of the user, and (by the version bump) every bearer token."""
    user.token_version += 1
    session.add(user)
    session.execute(
        update(SignIn)
        .where(col(SignIn.user_id) == user.id, col(SignIn.ended_at).is_(None))
        .values(ended_at=utcnow())
    )


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
        raise Invalid(_("Vai trò không hợp lệ: {role}", role=role), field="role")
    if not USERNAME.match(username):
        raise Invalid(
            _("Tên đăng nhập gồm 3 đến 64 chữ cái không dấu, chữ số, dấu chấm, gạch ngang hoặc gạch dưới."),
            field="username",
        )
    if len(password) < 8:
        raise Invalid(_("Mật khẩu cần ít nhất 8 ký tự."), field="password")
    if role == Role.DEPARTMENT_STAFF and not department:
        raise Invalid(_("Cán bộ phòng ban cần có đơn vị."), field="department")
    if role == Role.WARD_OFFICER and not ward:
        raise Invalid(_("Cán bộ phường/xã cần có phường/xã."), field="ward")
    if department and session.get(Department, department) is None:
        raise Invalid(_("Không có đơn vị mã {code}.", code=department), field="department")
    if ward and session.get(Ward, ward) is None:
        raise Invalid(_("Không có phường/xã mã {code}.", code=ward), field="ward")
    if session.exec(select(User).where(User.username == username)).first():
        raise Conflict(_("Tên đăng nhập “{username}” đã có người dùng.", username=username))
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
        raise NotFound(_("Không có tài khoản số {number}.", number=user_id))
    if user.active and not active:
        sign_out_everywhere(session, user)
    user.active = active
    session.add(user)
    return user


HEAD_ROLES = frozenset({Role.DEPARTMENT_STAFF, Role.WARD_OFFICER})


def set_head(session: Session, user_id: int, is_head: bool, *, by: User) -> User:
    """Make a member of staff the head of their department (or ward), who hears about SLA breaches
    first; there is one head per unit, so the previous head steps down. Kept in the audit log."""
    from tickets import audit

    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"Không có người dùng {user_id}. (no user {user_id})")
    if is_head and (user.role not in HEAD_ROLES or not user.active):
        raise Invalid(
            "Chỉ cán bộ phòng ban hoặc cán bộ phường/xã đang làm việc mới làm trưởng đơn vị được."
            " (Only active department staff or ward officers can head their unit.)",
            field="is_head",
        )
    unit = (
        User.department_code == user.department_code
        if user.role == Role.DEPARTMENT_STAFF
        else User.ward_code == user.ward_code
    )
    previous = [
        other
        for other in session.exec(select(User).where(unit, col(User.is_head).is_(True))).all()
        if other.id != user.id
    ]
    if is_head:
        for other in previous:
            other.is_head = False
            session.add(other)
    user.is_head = is_head
    session.add(user)
    audit.record(
        session,
        "set_head",
        user_id=by.id,
        username=by.username,
        target=f"user:{user.username}",
        outcome=200,
        is_head=is_head,
        department=user.department_code,
        ward=user.ward_code,
        replaced=[other.username for other in previous] if is_head else [],
    )
    return user


def users_by_name(session: Session) -> list[User]:
    """Every account, active or not, by user name (the administrators' list)."""
    return list(session.exec(select(User).order_by(User.username)).all())


def ward_officers(session: Session, ward_code: str) -> list[User]:
    """The active ward officers of one ward, by user name: whom a ward-level ticket may be handed to."""
    query = select(User).where(
        User.role == Role.WARD_OFFICER, User.ward_code == ward_code, col(User.active).is_(True)
    )
    return list(session.exec(query.order_by(col(User.username))).all())

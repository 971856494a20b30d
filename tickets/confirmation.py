"""A phone or e-mail typed on a report is only a claim until the citizen follows the link we send to
it. Following it makes the identifier verified, and a verified identifier someone else already holds
makes the two records one person (an automatic merge, which staff can undo).

Sending is not done here: whoever sends the receipt e-mail or SMS asks `confirmation_url` for the link
to put in it. Only a hash of each token is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session, select

from kernel.errors import NotFound
from kernel.timeutil import as_utc, utcnow
from tickets import merges
from tickets.citizens import CONFIRMED, find_citizen, get_citizen
from tickets.links import confirmation_link
from tickets.models import ChannelIdentity, IdentityConfirmation, IdentityKind, Ticket

VALID_FOR = timedelta(days=30)
CONFIRMABLE = (IdentityKind.PHONE, IdentityKind.EMAIL)
GONE = "Liên kết xác nhận này không đúng hoặc đã hết hạn. Hãy dùng liên kết trong tin nhắn mới nhất."


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def confirmation_url(session: Session, ticket: Ticket, kind: IdentityKind, value: str) -> str | None:
    """The link to put in the message that goes to `value` (a phone in E.164 or an e-mail, as stored)
    about `ticket`; None when there is nothing to confirm (already verified, or not this ticket's)."""
    if kind not in CONFIRMABLE or ticket.citizen_id is None:
        return None
    identity = session.exec(
        select(ChannelIdentity).where(
            ChannelIdentity.citizen_id == ticket.citizen_id,
            ChannelIdentity.kind == kind,
            ChannelIdentity.value == value,
        )
    ).first()
    if identity is None or identity.id is None or identity.verified_by is not None:
        return None
    token = secrets.token_urlsafe(24)
    now = utcnow()
    session.add(
        IdentityConfirmation(
            token_hash=_hash(token),
            identity_id=identity.id,
            ticket_id=ticket.id,
            created_at=now,
            expires_at=now + VALID_FOR,
        )
    )
    session.flush()
    return confirmation_link(token)


@dataclass(frozen=True)
class Pending:
    kind: str
    masked: str  # what the page may show: the end of the number, the first letter and domain of a mail


def pending(session: Session, token: str) -> Pending:
    row, identity = _valid(session, token)
    return Pending(identity.kind, _masked(identity))


@dataclass(frozen=True)
class Confirmed:
    kind: str
    masked: str
    merged: bool  # the identifier was already someone's: the two records are now one person


def confirm(session: Session, token: str) -> Confirmed:
    """Verify the identifier behind the token; a second use of the same link confirms again, harmlessly."""
    row, identity = _valid(session, token, for_update=True)
    row.used_at = row.used_at or utcnow()
    merged = _verify(session, identity)
    return Confirmed(identity.kind, _masked(identity), merged)


def _valid(
    session: Session, token: str, *, for_update: bool = False
) -> tuple[IdentityConfirmation, ChannelIdentity]:
    if not token or len(token) > 100:
        raise NotFound(GONE)
    row = session.get(IdentityConfirmation, _hash(token), with_for_update=for_update)
    if row is None or as_utc(row.expires_at) < utcnow():
        raise NotFound(GONE)
    identity = session.get(ChannelIdentity, row.identity_id)
    if identity is None:
        raise NotFound(GONE)
    return row, identity


def _verify(session: Session, identity: ChannelIdentity) -> bool:
    if identity.verified_by is not None:
        return False
    owner = find_citizen(session, IdentityKind(identity.kind), identity.value)
    if owner is None:
        identity.verified_by, identity.verified_at = CONFIRMED, utcnow()
        return False
    if owner.id == identity.citizen_id:
        return False
    claimant = get_citizen(session, identity.citizen_id)
    done = merges.merge_automatically(session, source=claimant, target=owner)
    return done is not None


def _masked(identity: ChannelIdentity) -> str:
    if identity.kind == IdentityKind.PHONE:
        return "•" * 6 + identity.value[-3:]
    local, _, domain = identity.value.partition("@")
    return f"{local[:1]}•••@{domain}"

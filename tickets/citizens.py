"""One citizen across channels: find or create the person behind a phone number, e-mail, Zalo id
or Facebook page-scoped id."""

from __future__ import annotations

import re
from dataclasses import dataclass

import phonenumbers
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from civicdesk.errors import Invalid
from civicdesk.i18n import _
from civicdesk.timeutil import utcnow
from tickets.models import ChannelIdentity, Citizen, IdentityKind

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


PHONE_REGION = "VN"


def _parsed_phone(raw: str) -> phonenumbers.PhoneNumber:
    try:
        number = phonenumbers.parse(raw, PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise Invalid(
            _("“{raw}” không phải số điện thoại hợp lệ; hãy viết như 0912345678.", raw=raw), field="phone"
        )
    return number


def normalize_phone(raw: str) -> str:
    """A phone number in E.164, however written: '0912 345 678', '(+84) 912-345-678' → '+84912345678'."""
    return phonenumbers.format_number(_parsed_phone(raw), phonenumbers.PhoneNumberFormat.E164)


def dialable_phone(raw: str) -> str:
    """What the city's PBX dials: digits only, national form for a Vietnamese number ('0912345678')."""
    number = _parsed_phone(raw)
    if phonenumbers.region_code_for_number(number) == PHONE_REGION:
        national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
        return re.sub(r"\D", "", national)
    return "00" + phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]


def normalize_email(raw: str) -> str:
    value = raw.strip().lower()
    if len(value) > 200 or not _EMAIL.match(value):
        raise Invalid(_("“{raw}” không phải địa chỉ thư điện tử.", raw=raw), field="email")
    return value


@dataclass(frozen=True)
class Contact:
    """What a channel knows about the person who wrote."""

    phone: str | None = None
    email: str | None = None
    zalo_id: str | None = None
    facebook_id: str | None = None
    name: str | None = None

    def identities(self) -> list[tuple[IdentityKind, str]]:
        found: list[tuple[IdentityKind, str]] = []
        if self.phone:
            found.append((IdentityKind.PHONE, normalize_phone(self.phone)))
        if self.email:
            found.append((IdentityKind.EMAIL, normalize_email(self.email)))
        if self.zalo_id:
            found.append((IdentityKind.ZALO, self.zalo_id.strip()))
        if self.facebook_id:
            found.append((IdentityKind.FACEBOOK, self.facebook_id.strip()))
        return found


def find_citizen(session: Session, kind: IdentityKind, value: str) -> Citizen | None:
    identity = session.exec(
        select(ChannelIdentity).where(ChannelIdentity.kind == kind, ChannelIdentity.value == value)
    ).first()
    return session.get(Citizen, identity.citizen_id) if identity else None


def resolve_citizen(session: Session, contact: Contact) -> Citizen | None:
    """The citizen behind these identities, created if none is known; None when nothing identifies them.

    Identities already bound to someone stay with that person: two known people are never merged
    automatically (a shared family phone is common), the first match wins and new identities join it.
    """
    identities = contact.identities()
    if not identities:
        return None
    now = utcnow()
    citizen: Citizen | None = None
    unbound: list[tuple[IdentityKind, str]] = []
    for kind, value in identities:
        identity = session.exec(
            select(ChannelIdentity).where(ChannelIdentity.kind == kind, ChannelIdentity.value == value)
        ).first()
        if identity is None:
            unbound.append((kind, value))
            continue
        identity.last_seen_at = now
        if citizen is None:
            citizen = session.get(Citizen, identity.citizen_id)
    if citizen is None:
        citizen = Citizen(display_name=contact.name)
        session.add(citizen)
        session.flush()
    elif contact.name and not citizen.display_name:
        citizen.display_name = contact.name
    for kind, value in unbound:
        _bind_identity(session, citizen, kind, value)
    return citizen


def _bind_identity(session: Session, citizen: Citizen, kind: IdentityKind, value: str) -> None:
    """Insert in a savepoint: a concurrent delivery from the same new sender may bind it first."""
    assert citizen.id is not None
    try:
        with session.begin_nested():
            session.add(ChannelIdentity(citizen_id=citizen.id, kind=kind, value=value))
    except IntegrityError:
        pass  # bound meanwhile by another transaction; that binding stands


def identities_of(session: Session, citizen_id: int) -> list[ChannelIdentity]:
    return list(session.exec(select(ChannelIdentity).where(ChannelIdentity.citizen_id == citizen_id)).all())

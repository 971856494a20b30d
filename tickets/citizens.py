"""One citizen across channels: find or create the person behind a phone number, e-mail, Zalo id
or Facebook page-scoped id.

Only a verified identifier links: a channel's own user id, the caller's number from the PBX, a phone
given through Zalo's or Messenger's own form, an address confirmed by link. A verified identifier that
two people hold makes them one (an automatic merge, which staff can undo); an unverified one is stored
on the person who gave it and never joins anyone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from kernel.errors import Conflict, Invalid, NotFound
from kernel.i18n import _
from kernel.timeutil import utcnow
from tickets.models import ChannelIdentity, Citizen, IdentityKind, Message, Ticket

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


def phone_is_valid(raw: str) -> bool:
    try:
        _parsed_phone(raw)
    except Invalid:
        return False
    return True


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


PROVIDER = "provider"  # the channel itself says who wrote (Zalo user id, Facebook page-scoped id)
PBX = "pbx"  # the caller's number as the exchange received it
ZALO_FORM = "zalo_form"  # the phone a Zalo user submitted through the OA's own form
MESSENGER = "messenger"  # the phone a Messenger user tapped in the phone quick reply
ANSWERED = "answered"  # a bare number a Zalo or Messenger user wrote back when we asked for it
CONFIRMED = "confirmed"  # the citizen followed the link we sent to that phone or address
STAFF = "staff"  # a member of staff linked it, and answers for it in the audit log


@dataclass(frozen=True)
class Claim:
    kind: IdentityKind
    value: str
    verified_by: str | None


@dataclass(frozen=True)
class Contact:
    """What a channel knows about the person who wrote. `phone_verified_by` says who vouches for the
    phone (PBX, ZALO_FORM, MESSENGER); a phone or e-mail typed into a form is vouched for by no one."""

    phone: str | None = None
    email: str | None = None
    zalo_id: str | None = None
    facebook_id: str | None = None
    name: str | None = None
    language: str | None = None  # "vi" or "en": the language their notifications are written in
    phone_verified_by: str | None = None

    def claims(self) -> list[Claim]:
        found: list[Claim] = []
        if self.phone:
            found.append(Claim(IdentityKind.PHONE, normalize_phone(self.phone), self.phone_verified_by))
        if self.email:
            found.append(Claim(IdentityKind.EMAIL, normalize_email(self.email), None))
        if self.zalo_id:
            found.append(Claim(IdentityKind.ZALO, self.zalo_id.strip(), PROVIDER))
        if self.facebook_id:
            found.append(Claim(IdentityKind.FACEBOOK, self.facebook_id.strip(), PROVIDER))
        return found

    def identities(self) -> list[tuple[IdentityKind, str]]:
        return [(claim.kind, claim.value) for claim in self.claims()]


def verified_identity(session: Session, kind: IdentityKind, value: str) -> ChannelIdentity | None:
    return session.exec(
        select(ChannelIdentity).where(
            ChannelIdentity.kind == kind,
            ChannelIdentity.value == value,
            col(ChannelIdentity.verified_by).is_not(None),
        )
    ).first()


def find_citizen(session: Session, kind: IdentityKind, value: str) -> Citizen | None:
    """The one person who verifiably holds this identifier (an unverified holder is nobody's proof)."""
    identity = verified_identity(session, kind, value)
    citizen = session.get(Citizen, identity.citizen_id) if identity else None
    seen: set[int] = set()
    # a verified row stays behind on a merged record when the target already had the value unverified
    while citizen is not None and citizen.merged_into_id is not None and citizen.merged_into_id not in seen:
        seen.add(citizen.merged_into_id)
        citizen = session.get(Citizen, citizen.merged_into_id)
    return citizen


def resolve_citizen(session: Session, contact: Contact) -> Citizen | None:
    """The citizen behind these identifiers, created if none is known; None when nothing identifies them.

    The verified identifiers find the person; when they name several, those are one person and are
    merged into the oldest (unless staff undid that very merge before). Unverified identifiers are
    stored on whoever this turns out to be, and a contact with only unverified ones is a new person."""
    claims = contact.claims()
    if not claims:
        return None
    from tickets import merges

    owners = _verified_owners(session, claims)
    citizen = owners[0] if owners else _new_citizen(session, contact.name)
    for other in owners[1:]:
        merges.merge_automatically(session, source=other, target=citizen)
    if contact.name and not citizen.display_name:
        citizen.display_name = contact.name
    if contact.language in ("vi", "en") and citizen.language is None:
        citizen.language = contact.language
    for claim in claims:
        attach(session, citizen, claim)
    return citizen


def _verified_owners(session: Session, claims: list[Claim]) -> list[Citizen]:
    owners: dict[int, Citizen] = {}
    for claim in claims:
        if claim.verified_by is None:
            continue
        owner = find_citizen(session, claim.kind, claim.value)
        if owner is not None and owner.id is not None:
            owners[owner.id] = owner
    return [owners[key] for key in sorted(owners)]


def _new_citizen(session: Session, name: str | None) -> Citizen:
    citizen = Citizen(display_name=name)
    session.add(citizen)
    session.flush()
    return citizen


def attach(session: Session, citizen: Citizen, claim: Claim) -> ChannelIdentity | None:
    """Put the identifier on the person, verified if vouched for and nobody else verifiably holds it."""
    assert citizen.id is not None
    now = utcnow()
    held = verified_identity(session, claim.kind, claim.value)
    verified_by = claim.verified_by if held is None or held.citizen_id == citizen.id else None
    row = session.exec(
        select(ChannelIdentity).where(
            ChannelIdentity.citizen_id == citizen.id,
            ChannelIdentity.kind == claim.kind,
            ChannelIdentity.value == claim.value,
        )
    ).first()
    if row is not None:
        row.last_seen_at = now
        if verified_by and row.verified_by is None and held is None:
            row.verified_by, row.verified_at = verified_by, now
        return row
    row = ChannelIdentity(
        citizen_id=citizen.id,
        kind=claim.kind,
        value=claim.value,
        verified_by=verified_by,
        verified_at=now if verified_by else None,
    )
    try:  # in a savepoint: a concurrent delivery from the same new sender may bind it first
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None  # bound meanwhile by another transaction; that binding stands
    return row


def add_verified(session: Session, citizen: Citizen, claim: Claim) -> Citizen:
    """The person now verifiably holds this identifier; if someone else already does, the two are one
    (merged into the older record). Returns whoever holds it afterwards."""
    from tickets import merges

    owner = find_citizen(session, claim.kind, claim.value)
    if owner is not None and owner.id != citizen.id:
        source, target = sorted((owner, citizen), key=lambda c: c.id or 0)
        if merges.merge_automatically(session, source=source, target=target) is not None:
            citizen = target
    attach(session, citizen, claim)
    return citizen


def identities_of(session: Session, citizen_id: int) -> list[ChannelIdentity]:
    return list(
        session.exec(
            select(ChannelIdentity)
            .where(ChannelIdentity.citizen_id == citizen_id)
            .order_by(col(ChannelIdentity.id))
        ).all()
    )


def find_citizen_by_id(session: Session, citizen_id: int | None) -> Citizen | None:
    """The citizen with this id, or None (no id, or no such row)."""
    return session.get(Citizen, citizen_id) if citizen_id else None


def get_citizen(session: Session, citizen_id: int) -> Citizen:
    citizen = session.get(Citizen, citizen_id)
    if citizen is None:
        raise NotFound(_("Không có người dân #{number}.", number=citizen_id))
    return citizen


@dataclass(frozen=True)
class ContactCard:
    """Who reported a ticket, with every identifier known for them by kind (staff eyes only)."""

    citizen_id: int
    name: str | None
    identifiers: dict[str, list[str]]


def contact_card(session: Session, citizen_id: int) -> ContactCard:
    citizen = session.get(Citizen, citizen_id)
    found: dict[str, list[str]] = {kind.value: [] for kind in IdentityKind}
    for identity in identities_of(session, citizen_id):
        found[identity.kind].append(identity.value)
    return ContactCard(citizen_id, citizen.display_name if citizen else None, found)


def link_identity(session: Session, citizen_id: int, kind: IdentityKind, raw: str) -> ChannelIdentity:
    """Staff vouch that this identifier is this person's. If someone else verifiably holds it, that is
    a merge, which staff ask for as such."""
    citizen = get_citizen(session, citizen_id)
    if citizen.merged_into_id is not None:
        raise Conflict(
            _(
                "Người dân #{number} đã được gộp vào #{into}; hãy liên kết với người đó.",
                number=citizen_id,
                into=citizen.merged_into_id,
            )
        )
    value = normalized(kind, raw)
    held = verified_identity(session, kind, value)
    if held is not None and held.citizen_id != citizen_id:
        raise Conflict(
            _(
                "{value} đã thuộc về người dân #{number}; nếu là cùng một người, hãy gộp hai hồ sơ.",
                value=value,
                number=held.citizen_id,
            ),
            owner_id=held.citizen_id,
        )
    row = attach(session, citizen, Claim(kind, value, STAFF))
    if row is None:
        raise Conflict(_("{value} vừa được liên kết với người khác; hãy tải lại trang.", value=value))
    session.flush()
    return row


def normalized(kind: IdentityKind, raw: str) -> str:
    if kind == IdentityKind.PHONE:
        return normalize_phone(raw)
    if kind == IdentityKind.EMAIL:
        return normalize_email(raw)
    value = raw.strip()
    if not value or len(value) > 200:
        raise Invalid(_("Mã {kind} phải có từ 1 đến 200 ký tự.", kind=kind.value), field="value")
    return value


@dataclass(frozen=True)
class LastMessage:
    text: str
    channel: str
    direction: str
    at: datetime


@dataclass(frozen=True)
class TicketLine:
    id: int
    code: str
    title: str
    channel: str
    status: str
    created_at: datetime
    last_message: LastMessage | None


def tickets_of(session: Session, citizen_id: int, *, limit: int = 30) -> list[TicketLine]:
    """The person's tickets on every channel, newest first, each with its latest message."""
    tickets = session.exec(
        select(Ticket)
        .where(Ticket.citizen_id == citizen_id)
        .order_by(col(Ticket.created_at).desc())
        .limit(limit)
    ).all()
    last = _last_messages(session, [t.id for t in tickets if t.id is not None])
    return [
        TicketLine(
            id=t.id or 0,
            code=t.code,
            title=t.title,
            channel=t.origin_channel,
            status=t.status,
            created_at=t.created_at,
            last_message=last.get(t.id or 0),
        )
        for t in tickets
    ]


def _last_messages(session: Session, ticket_ids: list[int]) -> dict[int, LastMessage]:
    if not ticket_ids:
        return {}
    newest = (
        select(func.max(Message.id))
        .where(col(Message.ticket_id).in_(ticket_ids))
        .group_by(col(Message.ticket_id))
    )
    rows = session.exec(select(Message).where(col(Message.id).in_(newest))).all()
    return {m.ticket_id or 0: LastMessage(m.text[:200], m.channel, m.direction, m.created_at) for m in rows}

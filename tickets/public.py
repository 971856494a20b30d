"""The public face of a report: what the citizen's status page, the public list and map, the public JSON
and Open311 may show. This is the one public view: which tickets are listed, which notes are public,
and every text through ``privacy.mask_personal_data``; nothing names a person or a contact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from civicdesk.errors import Invalid
from civicdesk.settings import get_settings
from civicdesk.timeutil import utcnow
from tickets import service
from tickets.models import OPEN_STATUSES, Attachment, Citizen, EventKind, Status, Ticket, TicketEvent
from tickets.privacy import mask_personal_data
from tickets.reference import Category, Ward

PUBLIC_PHOTO_PURPOSES = ("evidence", "before", "after")
IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp", "image/gif")


@dataclass
class PublicEvent:
    kind: str
    at: datetime
    status: str | None = None
    note: str | None = None
    rating: int | None = None
    id: int | None = None


@dataclass
class PublicReport:
    code: str
    status: str
    category_code: str | None
    category_vi: str | None
    category_en: str | None
    ward_code: str | None
    ward_name: str | None
    text: str
    address: str | None
    latitude: float | None
    longitude: float | None
    created_at: datetime
    resolved_at: datetime | None
    due_at: datetime | None
    rating: int | None
    events: list[PublicEvent] = field(default_factory=list)
    photos: list[tuple[int, str]] = field(default_factory=list)  # (attachment id, purpose)
    can_rate: bool = False
    can_reopen: bool = False


def known_names(session: Session, ticket: Ticket) -> list[str]:
    """The names the citizen gave us, masked wherever they appear in any case or without diacritics."""
    citizen = session.get(Citizen, ticket.citizen_id) if ticket.citizen_id else None
    return [citizen.display_name] if citizen and citizen.display_name else []


def mask(text: str | None, names: list[str]) -> str | None:
    return mask_personal_data(text, known_names=names) if text else text


def public_note(event: TicketEvent) -> str | None:
    """What was written for the public: a public comment, the citizen's own reopening reason or rating
    comment, and the reason a report was refused (owed to the citizen). Staff's reasons for an
    assignment or any other status change are internal."""
    if event.kind in (EventKind.COMMENT, EventKind.REOPENED, EventKind.RATED):
        return event.note
    if event.kind == EventKind.STATUS_CHANGED and event.data.get("new") == Status.REJECTED:
        return event.note
    return None


def public_event(event: TicketEvent, names: list[str]) -> PublicEvent:
    status = event.data.get("new") if event.kind in (EventKind.STATUS_CHANGED, EventKind.REOPENED) else None
    return PublicEvent(
        kind=event.kind,
        at=event.created_at,
        status=status,
        note=mask(public_note(event), names),
        rating=event.data.get("rating"),
        id=event.id,
    )


def public_events(session: Session, ticket: Ticket) -> list[PublicEvent]:
    assert ticket.id is not None
    names = known_names(session, ticket)
    return [public_event(e, names) for e in service.timeline(session, ticket.id, public_only=True)]


def reopen_deadline(ticket: Ticket) -> datetime | None:
    if ticket.resolved_at is None:
        return None
    return ticket.resolved_at + timedelta(days=get_settings().reopen_days)


def public_report(session: Session, ticket: Ticket) -> PublicReport:
    assert ticket.id is not None
    names = known_names(session, ticket)
    photos = session.exec(
        select(Attachment.id, Attachment.purpose).where(
            Attachment.ticket_id == ticket.id,
            col(Attachment.public).is_(True),
            col(Attachment.purpose).in_(PUBLIC_PHOTO_PURPOSES),
            col(Attachment.mime_type).in_(IMAGE_TYPES),
        )
    ).all()
    deadline = reopen_deadline(ticket)
    resolved = ticket.status in (Status.RESOLVED, Status.CLOSED)
    report = _report(session, ticket, names, ticket.public_description or ticket.description)
    report.address = mask(ticket.address_text, names)
    report.rating = ticket.rating
    report.events = public_events(session, ticket)
    report.photos = [(photo_id, purpose) for photo_id, purpose in photos if photo_id is not None]
    report.can_rate = resolved and ticket.rating is None
    report.can_reopen = resolved and deadline is not None and utcnow() <= deadline
    return report


def public_photo(session: Session, ticket: Ticket, attachment_id: int) -> Attachment | None:
    attachment = session.get(Attachment, attachment_id)
    if (
        attachment is None
        or attachment.ticket_id != ticket.id
        or not attachment.public
        or attachment.mime_type not in IMAGE_TYPES
    ):
        return None
    return attachment


@dataclass
class PublicFilter:
    category: str | None = None
    ward: str | None = None
    status: str | None = None  # "open", "resolved" or a status code


def publicly_listed() -> list[Any]:
    """Which tickets any public list, map or Open311 read may show: never a hidden one, a complaint or
    denunciation (its own legal process), a sensitive category, a rejected or a merged report."""
    public_categories = select(Category.code).where(col(Category.public).is_(True))
    return [
        col(Ticket.hidden_from_public).is_(False),
        col(Ticket.legal_process).is_(False),
        col(Ticket.category_code).in_(public_categories),
        col(Ticket.status).not_in([Status.DUPLICATE, Status.REJECTED]),
    ]


def _public_conditions(session: Session, filters: PublicFilter) -> list[Any]:
    conditions = publicly_listed()
    if filters.category:
        conditions.append(Ticket.category_code == filters.category)
    if filters.ward:
        conditions.append(col(Ticket.ward_code).in_(ward_and_predecessors(session, filters.ward)))
    if filters.status == "open":
        conditions.append(col(Ticket.status).in_(OPEN_STATUSES))
    elif filters.status == "resolved":
        conditions.append(col(Ticket.status).in_([Status.RESOLVED, Status.CLOSED]))
    elif filters.status:
        if filters.status not in {s.value for s in Status}:
            raise Invalid(f"unknown status '{filters.status}'")
        conditions.append(Ticket.status == filters.status)
    return conditions


def public_list(
    session: Session, filters: PublicFilter, *, limit: int = 100, offset: int = 0
) -> list[PublicReport]:
    """Reports anyone may see: never sensitive categories, hidden, rejected or merged ones."""
    query = select(Ticket).where(*_public_conditions(session, filters))
    query = query.order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc())
    rows = session.exec(query.offset(offset).limit(limit)).all()
    return [_summary(session, ticket) for ticket in rows]


def public_count(session: Session, filters: PublicFilter) -> int:
    query = select(func.count()).select_from(Ticket).where(*_public_conditions(session, filters))
    return session.exec(query).one()


def ward_and_predecessors(session: Session, code: str) -> set[str]:
    """A ward in force today and every older unit that was merged into it, however many steps back."""
    successor_of = dict(session.exec(select(Ward.code, Ward.successor_code)).all())
    found = {code}
    grew = True
    while grew:
        before = len(found)
        found |= {old for old, new in successor_of.items() if new in found}
        grew = len(found) > before
    return found


def _summary(session: Session, ticket: Ticket) -> PublicReport:
    names = known_names(session, ticket)
    return _report(session, ticket, names, ticket.public_description or ticket.title)


def _report(session: Session, ticket: Ticket, names: list[str], text: str) -> PublicReport:
    """What the list and the status page both show; the status page adds its details."""
    category = session.get(Category, ticket.category_code) if ticket.category_code else None
    ward = session.get(Ward, ticket.ward_code) if ticket.ward_code else None
    return PublicReport(
        code=ticket.code,
        status=ticket.status,
        category_code=ticket.category_code,
        category_vi=category.name_vi if category else None,
        category_en=category.name_en if category else None,
        ward_code=ticket.ward_code,
        ward_name=ward.name_vi if ward else None,
        text=mask(text, names) or "",
        address=None,
        latitude=ticket.latitude,
        longitude=ticket.longitude,
        created_at=ticket.created_at,
        resolved_at=ticket.resolved_at,
        due_at=None,
        rating=None,
    )

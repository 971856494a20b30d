"""The public face of a report: what the citizen's status page, the public list and map, the public JSON
and Open311 may show. This is the one public view: which tickets are listed, which notes are public,
and every text through ``privacy.mask_personal_data``; nothing names a person or a contact.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol

from sqlalchemy import func, or_
from sqlalchemy import select as select_columns  # sqlmodel's select takes at most four
from sqlmodel import Session, col, select

from kernel.errors import Invalid
from kernel.i18n import _
from kernel.settings import get_settings
from kernel.timeutil import utcnow
from tickets.conversation import KindAndData, is_status_page_message
from tickets.merges import first_owner_of, own_identities
from tickets.models import (
    OPEN_STATUS_ORDER,
    OPEN_STATUSES,
    ActorType,
    Attachment,
    Citizen,
    EventKind,
    IdentityKind,
    Status,
    Ticket,
    TicketEvent,
)
from tickets.privacy import last_digits, mask_personal_data
from tickets.refcache import Reference, reference
from tickets.reference import Category
from tickets.staff import User

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
    speaker: str = "city"  # who wrote the note: "city" or "citizen" (never which person)
    merged_into: str | None = None  # the public code of the report this one was merged into
    photos: list[int] = field(default_factory=list)  # photos the citizen sent with this message


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
    can_reply: bool = False  # the citizen may answer or add information (the report is open)
    question: str | None = None  # what the city asked, while it waits for the citizen's answer


def known_names(session: Session, ticket: Ticket) -> list[str]:
    """The names the citizen gave us, masked wherever they appear in any case or without diacritics:
    the reporter's own, and the name of whoever their record was merged into."""
    assert ticket.id is not None
    return names_of_reporters(session, [ticket])[ticket.id]


def names_of_reporters(session: Session, tickets: Sequence[Ticket]) -> dict[int, list[str]]:
    """``known_names`` of many tickets at once: a statement per step of a merge chain and one for the
    names, however many tickets are listed."""
    from tickets.merges import first_owners

    owners = first_owners(session, tickets)
    people_of = {t.id or 0: {t.citizen_id, owners.get(t.id or 0)} - {None} for t in tickets}
    everyone = set().union(*people_of.values()) if people_of else set()
    named: dict[int | None, str] = {}
    if everyone:
        rows = session.exec(select(Citizen.id, Citizen.display_name).where(col(Citizen.id).in_(everyone)))
        named = {pid: name for pid, name in rows.all() if name}
    return {tid: sorted({named[p] for p in people if p in named}) for tid, people in people_of.items()}


def conversation_names(session: Session, ticket: Ticket) -> list[str]:
    """Every name a conversation could carry: the citizen's, those of the citizens whose reports were
    merged with this one (either way), and the staff who worked on it."""
    assert ticket.id is not None
    return conversation_names_of(session, [ticket])[ticket.id]


def conversation_names_of(session: Session, tickets: Sequence[Ticket]) -> dict[int, list[str]]:
    """``conversation_names`` of many tickets in a fixed number of statements."""
    ids = [t.id for t in tickets if t.id is not None]
    if not ids:
        return {}
    known = names_of_reporters(session, tickets)
    merged_into = {t.duplicate_of_id for t in tickets} - {None}
    related = session.exec(
        select(Ticket.id, Ticket.duplicate_of_id, Citizen.display_name)
        .join(Citizen, col(Ticket.citizen_id) == Citizen.id)
        .where(or_(col(Ticket.duplicate_of_id).in_(ids), col(Ticket.id).in_(merged_into)))
    ).all()
    actors = session.exec(
        select(TicketEvent.ticket_id, User.full_name)
        .join(User, col(User.id) == TicketEvent.actor_user_id)
        .where(col(TicketEvent.ticket_id).in_(ids))
        .distinct()
    ).all()
    assignee_ids = {t.assignee_id for t in tickets} - {None}
    assignees = (
        dict(session.exec(select(User.id, User.full_name).where(col(User.id).in_(assignee_ids))).all())
        if assignee_ids
        else {}
    )
    staff_of: dict[int, set[str]] = {}
    for ticket_id, full_name in actors:
        staff_of.setdefault(ticket_id, set()).add(full_name)
    found: dict[int, list[str]] = {}
    for ticket in tickets:
        if ticket.id is None:
            continue
        others = {
            name
            for other_id, other_into, name in related
            if other_into == ticket.id
            or (ticket.duplicate_of_id is not None and other_id == ticket.duplicate_of_id)
        }
        others |= staff_of.get(ticket.id, set())
        if ticket.assignee_id is not None:
            others.add(assignees.get(ticket.assignee_id))
        full_names = {name for name in others if name and len(name.split()) >= 2}
        found[ticket.id] = known[ticket.id] + sorted(full_names)
    return found


def mask(text: str | None, names: list[str]) -> str | None:
    return _masked(text, tuple(names)) if text else text


@lru_cache(maxsize=8192)
def _masked(text: str, names: tuple[str, ...]) -> str:
    """Masking is most of a list's time (~0.6 ms a report: phone, number and name detection) and a
    function of the text and the names alone: the newest reports, which every visitor of the list sees,
    are masked once per process. A changed text or name is another key, so nothing stale is shown."""
    return mask_personal_data(text, known_names=list(names))


# status changes whose note is written to the citizen: the question, the resolution summary, the refusal
NOTE_FOR_CITIZEN = (Status.WAITING_CITIZEN, Status.RESOLVED, Status.REJECTED)


class EventFacts(KindAndData, Protocol):
    """An event as far as its public face goes: the ORM's row or the status page's ``TimelineEntry``."""

    @property
    def id(self) -> int | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def note(self) -> str | None: ...
    @property
    def actor_type(self) -> str: ...


def public_note(event: EventFacts) -> str | None:
    """What was written for the public: a public comment, the city's question, its resolution summary,
    the reason a report was refused (owed to the citizen), and the citizen's own words (a message through
    the status page, a reopening reason, a rating comment). Staff's reasons for an assignment or any
    other status change are internal."""
    if event.kind in (EventKind.COMMENT, EventKind.REOPENED, EventKind.RATED):
        return event.note
    if is_status_page_message(event):
        return event.note
    if event.kind == EventKind.STATUS_CHANGED and event.data.get("new") in NOTE_FOR_CITIZEN:
        return event.note
    return None


def public_event(event: EventFacts, names: list[str], photos: list[int] | None = None) -> PublicEvent:
    status = event.data.get("new") if event.kind in (EventKind.STATUS_CHANGED, EventKind.REOPENED) else None
    merged_into = event.data.get("into") if event.kind == EventKind.MERGED else None
    return PublicEvent(
        kind=event.kind,
        at=event.created_at,
        status=status,
        note=mask(public_note(event), names),
        rating=event.data.get("rating"),
        id=event.id,
        speaker="citizen" if event.actor_type == ActorType.CITIZEN else "city",
        merged_into=merged_into if isinstance(merged_into, str) else None,
        photos=photos or [],
    )


def reopen_deadline(ticket: ReportFacts) -> datetime | None:
    if ticket.resolved_at is None:
        return None
    return ticket.resolved_at + timedelta(days=get_settings().reopen_days)


class ReportFacts(Protocol):
    """What a public report is made of, from a ticket row (the ORM's, or the status page's statement)."""

    @property
    def id(self) -> int | None: ...
    @property
    def code(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def category_code(self) -> str | None: ...
    @property
    def ward_code(self) -> str | None: ...
    @property
    def latitude(self) -> float | None: ...
    @property
    def longitude(self) -> float | None: ...
    @property
    def created_at(self) -> datetime: ...
    @property
    def resolved_at(self) -> datetime | None: ...


@dataclass(frozen=True)
class StatusFacts:
    """The ticket's columns a status page shows or needs, as ``flows.status_page`` reads them."""

    id: int
    code: str
    status: str
    category_code: str | None
    ward_code: str | None
    latitude: float | None
    longitude: float | None
    created_at: datetime
    resolved_at: datetime | None
    description: str
    public_description: str | None
    address_text: str | None
    rating: int | None
    citizen_id: int | None


@dataclass(frozen=True)
class TimelineEntry:
    """A public event of the timeline as the status page's statement reads it (``EventFacts``)."""

    id: int
    kind: str
    created_at: datetime
    actor_type: str
    note: str | None
    data: dict[str, Any]


# What a status page needs besides the ticket and its timeline, as SQL over a row of the ``ticket``
# table (issue 22: ``flows.status_page`` reads it inside its one statement): the reporter's name and the
# merges into their record (to know whether the report came from a merged record: rare, then
# ``first_owners`` walks the chain), the names of the citizens of the reports merged with this one
# (either way), of the staff who acted on it and of its assignee, and the public photos. Rows: kind,
# name, ref, message id, ids.
STATUS_EXTRAS_SQL = """
SELECT 'reporter' AS kind, c.display_name AS name, NULL::int AS ref, NULL::int AS message_id,
       NULL::json AS ticket_ids
  FROM citizen c WHERE c.id = ticket.citizen_id
UNION ALL
SELECT 'merge', NULL, m.source_id, NULL, m.ticket_ids
  FROM citizen_merge m WHERE m.target_id = ticket.citizen_id AND m.undone_at IS NULL
UNION ALL
SELECT 'other', c.display_name, NULL, NULL, NULL
  FROM ticket d JOIN citizen c ON c.id = d.citizen_id
 WHERE d.duplicate_of_id = ticket.id OR d.id = ticket.duplicate_of_id
UNION ALL
SELECT 'other', u.full_name, NULL, NULL, NULL
  FROM "user" u
 WHERE u.id = ticket.assignee_id
    OR u.id IN (SELECT e.actor_user_id FROM ticket_event e WHERE e.ticket_id = ticket.id)
UNION ALL
SELECT 'photo', a.purpose, a.id, a.message_id, NULL
  FROM attachment a
 WHERE a.ticket_id = ticket.id AND a.public IS true
   AND a.purpose = ANY(:purposes) AND a.mime_type = ANY(:image_types)
"""
STATUS_EXTRAS_PARAMETERS = {"purposes": list(PUBLIC_PHOTO_PURPOSES), "image_types": list(IMAGE_TYPES)}

Photo = tuple[int, str, int | None]  # attachment id, purpose, the message it came with


def _names_and_photos(
    session: Session, ticket: StatusFacts, extras: Sequence[Sequence[Any]]
) -> tuple[list[str], list[Photo]]:
    """``conversation_names`` of one ticket and its public photos (id, purpose, message id) from the rows
    of ``STATUS_EXTRAS_SQL``; a statement per step of a merge chain when the report came from a merged
    record."""
    moved = any(kind == "merge" and ticket.id in (ids or []) for kind, _n, _r, _m, ids in extras)
    if moved:
        known = names_of_reporters(session, [session.get_one(Ticket, ticket.id)])[ticket.id]
    else:  # the reporter's record is the report's first: its name is the only one of the reporter's
        known = sorted({name for kind, name, *_ in extras if kind == "reporter" and name})
    others = {name for kind, name, *_ in extras if kind == "other" and name and len(name.split()) >= 2}
    photos = sorted(
        (ref, name, message_id) for kind, name, ref, message_id, _ids in extras if kind == "photo"
    )
    return known + sorted(others), photos


def status_report(
    session: Session,
    ticket: StatusFacts,
    timeline: Sequence[TimelineEntry],
    extras: Sequence[Sequence[Any]],
) -> PublicReport:
    """The status page's report from what ``flows.status_page`` read: the ticket, its public timeline
    (oldest first) and the rows of ``STATUS_EXTRAS_SQL``."""
    names, photos = _names_and_photos(session, ticket, extras)
    deadline = reopen_deadline(ticket)
    resolved = ticket.status in (Status.RESOLVED, Status.CLOSED)
    report = _report(reference(session), ticket, names, ticket.public_description or ticket.description)
    report.address = mask(ticket.address_text, names)
    report.rating = ticket.rating
    by_message: dict[int, list[int]] = {}
    for photo_id, _purpose, message_id in photos:
        if photo_id is not None and message_id is not None:
            by_message.setdefault(message_id, []).append(photo_id)

    def photos_of(event: TimelineEntry) -> list[int]:
        return by_message.get(event.data.get("message_id") or 0, []) if is_status_page_message(event) else []

    report.events = [public_event(e, names, photos_of(e)) for e in timeline]
    beside_a_message = {photo_id for event in report.events for photo_id in event.photos}
    report.photos = [
        (photo_id, purpose)
        for photo_id, purpose, _ in photos
        if photo_id is not None and photo_id not in beside_a_message
    ]
    report.can_reply = ticket.status in OPEN_STATUSES
    if ticket.status == Status.WAITING_CITIZEN:
        asked = [e.note for e in report.events if e.status == Status.WAITING_CITIZEN and e.note]
        report.question = asked[-1] if asked else None
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
        conditions.append(col(Ticket.status).in_(OPEN_STATUS_ORDER))
    elif filters.status == "resolved":
        conditions.append(col(Ticket.status).in_([Status.RESOLVED, Status.CLOSED]))
    elif filters.status:
        if filters.status not in {s.value for s in Status}:
            raise Invalid(
                _(
                    "Không có trạng thái “{status}”; hãy dùng open, resolved hoặc một mã trạng thái.",
                    status=filters.status,
                ),
                field="status",
            )
        conditions.append(Ticket.status == filters.status)
    return conditions


def public_list(
    session: Session, filters: PublicFilter, *, limit: int = 100, offset: int = 0
) -> list[PublicReport]:
    """Reports anyone may see: never sensitive categories, hidden, rejected or merged ones. One statement
    for the page, one (or one per merge step) for the reporters' names: none per listed report."""
    query = select(Ticket).where(*_public_conditions(session, filters))
    query = query.order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc())
    rows = session.exec(query.offset(offset).limit(limit)).all()
    names = names_of_reporters(session, rows)
    ref = reference(session)
    return [_report(ref, t, names[t.id or 0], t.public_description or t.title) for t in rows]


class Placed(Protocol):
    """What a map needs of a report: where it is."""

    @property
    def ward_code(self) -> str | None: ...
    @property
    def latitude(self) -> float | None: ...
    @property
    def longitude(self) -> float | None: ...


@dataclass(frozen=True)
class PublicPoint:
    ward_code: str | None
    latitude: float | None
    longitude: float | None


def public_points(session: Session, filters: PublicFilter, *, limit: int) -> list[PublicPoint]:
    """The newest listed reports' places, for a map: no text, so nothing to mask."""
    query = select(Ticket.ward_code, Ticket.latitude, Ticket.longitude).where(
        *_public_conditions(session, filters)
    )
    query = query.order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc()).limit(limit)
    return [PublicPoint(ward, lat, lon) for ward, lat, lon in session.exec(query).all()]


COUNT_CAP = 10_000  # past this a list says "10,000+": counting a million rows per page view is not worth it


def public_count(session: Session, filters: PublicFilter, *, cap: int = COUNT_CAP) -> int:
    """How many reports the filters list, counted up to ``cap + 1`` (more than ``cap`` means "cap+")."""
    listed = select(col(Ticket.id)).where(*_public_conditions(session, filters)).limit(cap + 1)
    return session.exec(select(func.count()).select_from(listed.subquery())).one()


def ward_and_predecessors(session: Session, code: str) -> set[str]:
    """A ward in force today and every older unit that was merged into it, however many steps back."""
    return set(reference(session).ward_and_predecessors(code))


def _report(ref: Reference, ticket: ReportFacts, names: list[str], text: str) -> PublicReport:
    """What the list and the status page both show; the status page adds its details."""
    category = ref.categories.get(ticket.category_code) if ticket.category_code else None
    ward = ref.wards.get(ticket.ward_code) if ticket.ward_code else None
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


PIN_DECIMALS = 3  # a map pin is shown to about 100 m: the street, not the house


@dataclass
class PublicPin:
    """A report on the public map: where (rounded), what and how far along; no text, no address, no one."""

    code: str
    status: str
    category_code: str | None
    category_vi: str | None
    category_en: str | None
    ward_name: str | None
    latitude: float
    longitude: float


def public_pins(
    session: Session, filters: PublicFilter, *, limit: int, offset: int = 0
) -> tuple[int, list[PublicPin]]:
    """The publicly listed reports that have a location, newest first, with their points rounded."""
    conditions = [
        *_public_conditions(session, filters),
        col(Ticket.latitude).is_not(None),
        col(Ticket.longitude).is_not(None),
    ]
    # counted up to the list's cap: an exact count of a million located reports is a scan per map view
    located = select(col(Ticket.id)).where(*conditions).limit(COUNT_CAP + 1)
    total = session.exec(select(func.count()).select_from(located.subquery())).one()
    query = (
        select_columns(  # columns, not whole tickets: a page of 500 pins reads six values each
            col(Ticket.code),
            col(Ticket.status),
            col(Ticket.category_code),
            col(Ticket.ward_code),
            col(Ticket.latitude),
            col(Ticket.longitude),
        )
        .where(*conditions)
        .order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc())
        .offset(offset)
        .limit(limit)
    )
    ref = reference(session)  # names from the process's reference tables, not a join per row
    pins = []
    for code, status, category_code, ward_code, lat, lon in session.execute(query).all():
        category = ref.categories.get(category_code) if category_code else None
        ward = ref.wards.get(ward_code) if ward_code else None
        pins.append(
            PublicPin(
                code,
                status,
                category_code,
                category.name_vi if category else None,
                category.name_en if category else None,
                ward.name_vi if ward else None,
                round(lat or 0.0, PIN_DECIMALS),
                round(lon or 0.0, PIN_DECIMALS),
            )
        )
    return total, pins


def lookup_token(session: Session, code: str, phone_last4: str) -> str | None:
    """The secret link of the report a citizen names by its code and the last four digits of their phone,
    or None (a wrong code and wrong digits look the same). Only the reporter's own numbers open their
    report: a merge does not lend them another's."""
    ticket = session.exec(select(Ticket).where(Ticket.code == code.strip().upper())).first()
    owner = first_owner_of(session, ticket) if ticket else None
    if ticket is None or owner is None:
        return None
    own_phone = any(
        identity.kind == IdentityKind.PHONE and last_digits(identity.value) == phone_last4
        for identity in own_identities(session, owner)
    )
    return ticket.tracking_token if own_phone else None

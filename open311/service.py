"""The GeoReport v2 surface as service functions: services from our categories, requests through the
same intake as every channel, requests read back without personal data, and FixMyStreet's
servicerequestupdates for our detailed states."""

from __future__ import annotations

import hashlib
import json
import secrets
from bisect import bisect_right
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from geo.centres import centre_of_units
from kernel import ratelimit
from kernel.city import city_profile
from kernel.errors import Forbidden, Invalid, NotFound
from kernel.text import clean_text
from kernel.timeutil import as_utc, utcnow
from open311 import media
from open311.models import ApiClient, Open311Request
from sla import state as sla_state
from tickets import public
from tickets import service as tickets
from tickets.attachments import store_attachment
from tickets.citizens import Contact
from tickets.conversation import is_status_page_message
from tickets.models import ActorType, Attachment, Channel, EventKind, Status, Ticket, TicketEvent
from tickets.photos import CleanPhoto
from tickets.refcache import Reference, reference
from tickets.reference import Category

ATTRIBUTES_FILE = Path(__file__).parent / "data" / "attributes.json"
CLOSED = {Status.RESOLVED, Status.CLOSED, Status.REJECTED, Status.DUPLICATE}
MAX_DESCRIPTION = 4000
MAX_WINDOW = timedelta(days=90)
MAX_REQUESTS = 1000


class NotFoundOpen311(NotFound):
    pass


@cache
def attribute_definitions() -> dict[str, list[dict[str, Any]]]:
    loaded: dict[str, list[dict[str, Any]]] = json.loads(ATTRIBUTES_FILE.read_text(encoding="utf-8"))
    return loaded


# --- clients and keys -------------------------------------------------------------------------------


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_client(session: Session, name: str, requests_per_minute: int = 60) -> tuple[ApiClient, str]:
    if not name.strip():
        raise Invalid("a client needs a name", field="name")
    key = secrets.token_urlsafe(24)
    client = ApiClient(
        name=name.strip(), key_hash=_digest(key), key_prefix=key[:8], requests_per_minute=requests_per_minute
    )
    session.add(client)
    session.flush()
    return client, key


def clients(session: Session) -> list[ApiClient]:
    """Every client ever given a key, revoked ones too, oldest first."""
    return list(session.exec(select(ApiClient).order_by(col(ApiClient.id))).all())


def revoke_client(session: Session, client_id: int) -> None:
    """The client's key stops working at once; the row stays, for the record."""
    client = session.get(ApiClient, client_id)
    if client is None:
        raise NotFound(f"no Open311 client {client_id}")
    client.active = False


def client_for_key(session: Session, api_key: str | None) -> ApiClient:
    if not api_key:
        raise Forbidden("api_key is required")
    client = session.exec(select(ApiClient).where(ApiClient.key_hash == _digest(api_key))).first()
    if client is None or not client.active:
        raise Forbidden("api_key is not valid")
    ratelimit.hit(
        session,
        f"open311:{client.id}",
        limit=client.requests_per_minute,
        window_seconds=60,
        message="too many requests for this api_key; slow down",
    )
    client.last_used_at = utcnow()
    return client


# --- services -----------------------------------------------------------------------------------------


def _offered() -> list[Any]:
    """Categories a client may file and read back: active, public, and not a complaint or denunciation
    (those follow their own legal process and are never listed, so a client could not see them again)."""
    return [
        col(Category.active).is_(True),
        col(Category.public).is_(True),
        col(Category.out_of_sla).is_(False),
    ]


def _offered_category(session: Session, service_code: str) -> Category:
    category = session.exec(select(Category).where(Category.code == service_code, *_offered())).first()
    if category is None:
        raise NotFoundOpen311(f"service_code {service_code} is not a service here; see services.json")
    return category


def services(session: Session) -> list[dict[str, Any]]:
    rows = session.exec(select(Category).where(*_offered()).order_by(Category.code)).all()
    definitions = attribute_definitions()
    groups = city_profile().open311
    return [
        {
            "service_code": row.code,
            "service_name": row.name_vi,
            "description": row.name_en,
            "metadata": row.code in definitions,
            "type": "realtime",
            "keywords": row.name_en.lower().replace(" and ", ", "),
            "group": groups.groups.get(row.department_code, groups.other_group),
        }
        for row in rows
    ]


def definition(session: Session, service_code: str) -> dict[str, Any]:
    _offered_category(session, service_code)
    attributes = attribute_definitions().get(service_code)
    if attributes is None:
        raise NotFoundOpen311(f"service_code {service_code} has no service definition (metadata is false)")
    return {
        "service_code": service_code,
        "attributes": [
            {
                "variable": True,
                "code": a["code"],
                "datatype": a["datatype"],
                "required": a["required"],
                "datatype_description": a.get("datatype_description"),
                "order": a["order"],
                "description": a["description"],
                "values": a.get("values", []),
            }
            for a in attributes
        ],
    }


# --- creating requests ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewRequest:
    service_code: str | None
    lat: str | None
    long: str | None
    address_string: str | None
    address_id: str | None
    description: str | None
    email: str | None
    phone: str | None
    first_name: str | None
    last_name: str | None
    media_url: str | None
    attributes: dict[str, list[str]]


def _float(value: str | None, name: str, low: float, high: float) -> float | None:
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except ValueError as exc:
        raise Invalid(f"{name} must be a number") from exc
    if not low <= number <= high:
        raise Invalid(f"{name} must be between {low} and {high}")
    return number


def _check_attributes(service_code: str, given: dict[str, list[str]]) -> list[str]:
    lines = []
    for attribute in attribute_definitions().get(service_code, []):
        values = [v for v in given.get(attribute["code"], []) if v]
        if attribute["required"] and not values:
            raise Invalid(f"attribute[{attribute['code']}] is required for {service_code}")
        keys = {v["key"] for v in attribute.get("values", [])}
        if keys and any(v not in keys for v in values):
            raise Invalid(f"attribute[{attribute['code']}] must be one of {sorted(keys)}")
        if attribute["datatype"] == "singlevaluelist" and len(values) > 1:
            raise Invalid(f"attribute[{attribute['code']}] takes one value")
        if values:
            lines.append(f"{attribute['description']}: {', '.join(values)}")
    return lines


def check_request(session: Session, new: NewRequest) -> tuple[float | None, float | None, list[str]]:
    """Refuse a request that cannot be filed, before anything slow (the media_url) is done for it; the
    coordinates and the attribute lines it will be filed with."""
    if not new.service_code:
        raise Invalid("service_code is required")
    _offered_category(session, new.service_code)
    lat = _float(new.lat, "lat", -90, 90)
    long = _float(new.long, "long", -180, 180)
    if (lat is None) != (long is None):
        raise Invalid("lat and long go together")
    if lat is None and not new.address_string and not new.address_id:
        raise Invalid("a location is required: lat and long, address_string or address_id")
    if new.description and len(new.description) > MAX_DESCRIPTION:
        raise Invalid(f"description is longer than {MAX_DESCRIPTION} characters")
    return lat, long, _check_attributes(new.service_code, new.attributes)


def fetch_media(new: NewRequest) -> CleanPhoto | None:
    """The photo at the request's media_url (network: call it with no transaction open)."""
    return media.fetch_photo(new.media_url) if new.media_url else None


def create_request(
    session: Session, client: ApiClient, new: NewRequest, photo: CleanPhoto | None = None
) -> Ticket:
    """File a checked request; ``photo`` is its media_url fetched beforehand (``fetch_media``), else it
    is fetched here."""
    lat, long, extra = check_request(session, new)
    assert new.service_code is not None  # check_request refuses a request without one
    if photo is None:
        photo = fetch_media(new)
    text = "\n".join(filter(None, [new.description or "", *extra]))
    name = " ".join(filter(None, [new.first_name, new.last_name])) or None
    ticket = tickets.create_ticket(
        session,
        tickets.NewTicket(
            description=clean_text(text) or f"({new.service_code})",
            channel=Channel.OPEN311,
            contact=Contact(phone=new.phone or None, email=new.email or None, name=name),
            address=clean_text(new.address_string or "")
            or (f"address_id {new.address_id}" if new.address_id else None),
            latitude=lat,
            longitude=long,
            category=new.service_code,
        ),
        actor=tickets.CITIZEN,
    )
    if photo is not None:
        store_attachment(session, data=photo.data, ticket_id=ticket.id, purpose="evidence")
    session.add(
        Open311Request(
            ticket_id=ticket.id or 0,
            client_id=client.id or 0,
            address_id=clean_text(new.address_id)[:200] if new.address_id else None,
            media_url=new.media_url[:2000] if new.media_url else None,
        )
    )
    return ticket


# --- reading requests -----------------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return as_utc(moment).isoformat(timespec="seconds") if moment else None


@dataclass(frozen=True)
class ReadContext:
    """What every read needs besides the tickets: where our API is served (for media addresses)."""

    base_url: str


def _extras(session: Session, tickets_: list[Ticket]) -> dict[int, Open311Request]:
    ids = [t.id for t in tickets_ if t.id is not None]
    if not ids:
        return {}
    rows = session.exec(select(Open311Request).where(col(Open311Request.ticket_id).in_(ids))).all()
    return {row.ticket_id: row for row in rows}


def _first_photos(session: Session, tickets_: list[Ticket]) -> dict[int, int]:
    """The first public photo of each ticket (the spec has room for one media_url)."""
    ids = [t.id for t in tickets_ if t.id is not None]
    if not ids:
        return {}
    rows = session.exec(
        select(Attachment.ticket_id, Attachment.id)
        .where(
            col(Attachment.ticket_id).in_(ids),
            col(Attachment.public).is_(True),
            col(Attachment.purpose).in_(public.PUBLIC_PHOTO_PURPOSES),
            col(Attachment.mime_type).in_(public.IMAGE_TYPES),
        )
        .order_by(col(Attachment.id))
    ).all()
    first: dict[int, int] = {}
    for ticket_id, attachment_id in rows:
        if ticket_id is not None and attachment_id is not None:
            first.setdefault(ticket_id, attachment_id)
    return first


def media_address(context: ReadContext, code: str, attachment_id: int) -> str:
    return f"{context.base_url}/open311/v2/media/{code}/{attachment_id}"


def _approximate_point(ref: Reference, ticket: Ticket) -> tuple[float, float] | None:
    """A request filed with an address only is placed at its ward's centre (FixMyStreet's importer
    skips a request without coordinates); the answer says the point is approximate."""
    return centre_of_units(ref.ward_and_predecessors(ticket.ward_code)) if ticket.ward_code else None


@dataclass(frozen=True)
class _Shown:
    """What the requests of one answer need besides their own rows, read once for all of them."""

    ref: Reference
    names: dict[int, list[str]]
    notes: dict[int, str | None]
    deadlines: dict[int, datetime | None]


def _shown(session: Session, rows: list[Ticket]) -> _Shown:
    ids = [t.id for t in rows if t.id is not None]
    names = public.conversation_names_of(session, rows)
    last_note: dict[int, TicketEvent] = {}
    if ids:
        events = session.exec(
            select(TicketEvent)
            .where(col(TicketEvent.ticket_id).in_(ids), col(TicketEvent.public).is_(True))
            .order_by(col(TicketEvent.created_at), col(TicketEvent.id))
        ).all()
        # the city's notes only: the citizen's own words (a reopening, a message) are for the status page
        for event in events:
            if event.actor_type != ActorType.CITIZEN and public.public_note(event):
                last_note[event.ticket_id] = event
    notes = {tid: public.public_event(e, names.get(tid, [])).note for tid, e in last_note.items()}
    standings = sla_state.states_for(session, rows)
    deadlines = {tid: standing.due_at for tid, standing in standings.items()}
    return _Shown(reference(session), names, notes, deadlines)


def as_request(
    shown: _Shown,
    ticket: Ticket,
    context: ReadContext,
    extra: Open311Request | None = None,
    photo_id: int | None = None,
) -> dict[str, Any]:
    """One request as the public view shows it: masked text, and only notes written for the public."""
    tid = ticket.id or 0
    category = shown.ref.categories.get(ticket.category_code) if ticket.category_code else None
    department = shown.ref.departments.get(ticket.department_code) if ticket.department_code else None
    names = shown.names.get(tid, [])
    lat, long = ticket.latitude, ticket.longitude
    approximate = lat is None and (point := _approximate_point(shown.ref, ticket)) is not None
    if approximate and point is not None:
        lat, long = point
    return {
        "service_request_id": ticket.code,
        "status": "closed" if ticket.status in CLOSED else "open",
        "status_notes": shown.notes.get(tid),
        "service_name": category.name_vi if category else None,
        "service_code": ticket.category_code or "other",
        "description": public.mask(ticket.public_description or ticket.description, names),
        "agency_responsible": department.name_vi if department else None,
        "service_notice": None,
        "requested_datetime": _iso(ticket.created_at),
        "updated_datetime": _iso(ticket.updated_at),
        "expected_datetime": _iso(shown.deadlines.get(tid)),
        "address": public.mask(ticket.address_text, names),
        "address_id": extra.address_id if extra else None,
        "zipcode": None,
        "lat": lat,
        "long": long,
        "location_approximate": approximate,
        "media_url": media_address(context, ticket.code, photo_id) if photo_id else None,
        "detailed_status": ticket.status,  # FixMyStreet-style richer state, beside the spec's open/closed
    }


def _as_requests(session: Session, rows: list[Ticket], context: ReadContext) -> list[dict[str, Any]]:
    """The requests of one answer in a fixed number of statements, however many are listed."""
    extras, photos = _extras(session, rows), _first_photos(session, rows)
    shown = _shown(session, rows)
    return [as_request(shown, t, context, extras.get(t.id or 0), photos.get(t.id or 0)) for t in rows]


def _listed(session: Session, code: str) -> Ticket:
    ticket = session.exec(select(Ticket).where(Ticket.code == code, *public.publicly_listed())).first()
    if ticket is None:
        raise NotFoundOpen311(f"service_request_id {code} not found")
    return ticket


def get_request(session: Session, service_request_id: str, context: ReadContext) -> dict[str, Any]:
    return _as_requests(session, [_listed(session, service_request_id)], context)[0]


def photo_of_request(session: Session, service_request_id: str, attachment_id: int) -> Attachment:
    """A photo of a listed request, as its media_url names it."""
    ticket = _listed(session, service_request_id)
    attachment = public.public_photo(session, ticket, attachment_id)
    if attachment is None or attachment.purpose not in public.PUBLIC_PHOTO_PURPOSES:
        raise NotFoundOpen311(f"request {service_request_id} has no photo {attachment_id}")
    return attachment


def _dates(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    def parse(value: str, name: str) -> datetime:
        try:
            return as_utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
        except ValueError as exc:
            raise Invalid(f"{name} must be a W3C datetime such as 2026-11-01T00:00:00Z") from exc

    until = parse(end, "end_date") if end else utcnow()
    since = parse(start, "start_date") if start else until - MAX_WINDOW
    if since > until:
        raise Invalid("start_date is after end_date")
    if until - since > MAX_WINDOW:
        raise Invalid("start_date and end_date may be at most 90 days apart")
    return since, until


def list_requests(
    session: Session,
    context: ReadContext,
    *,
    service_request_id: str | None = None,
    service_code: str | None = None,
    start_date: str | None = None,
    end_date: str | None = None,
    status: str | None = None,
) -> list[dict[str, Any]]:
    query = select(Ticket).where(*public.publicly_listed())
    if service_request_id:
        ids = [i.strip() for i in service_request_id.split(",") if i.strip()]
        query = query.where(col(Ticket.code).in_(ids))  # overrides every other filter
    else:
        since, until = _dates(start_date, end_date)
        query = query.where(col(Ticket.created_at) >= since, col(Ticket.created_at) <= until)
        if service_code:
            query = query.where(col(Ticket.category_code).in_([c.strip() for c in service_code.split(",")]))
        if status:
            wanted = {s.strip() for s in status.split(",")}
            if not wanted <= {"open", "closed"}:
                raise Invalid("status must be open, closed or both")
            if wanted == {"open"}:
                query = query.where(col(Ticket.status).not_in(CLOSED))
            elif wanted == {"closed"}:
                query = query.where(col(Ticket.status).in_(CLOSED))
    rows = session.exec(query.order_by(col(Ticket.created_at).desc()).limit(MAX_REQUESTS)).all()
    return _as_requests(session, list(rows), context)


STATUS_BEARING = (EventKind.STATUS_CHANGED, EventKind.REOPENED)


def _status_history(session: Session, ticket_ids: set[int]) -> dict[int, list[tuple[int, str]]]:
    """For each ticket, its status changes as (event id, new status), oldest first."""
    rows = session.exec(
        select(TicketEvent.ticket_id, TicketEvent.id, TicketEvent.data)
        .where(col(TicketEvent.ticket_id).in_(ticket_ids), col(TicketEvent.kind).in_(STATUS_BEARING))
        .order_by(col(TicketEvent.id))
    ).all()
    history: dict[int, list[tuple[int, str]]] = {}
    for ticket_id, event_id, data in rows:
        if event_id is not None and data.get("new"):
            history.setdefault(ticket_id, []).append((event_id, str(data["new"])))
    return history


def _status_at(history: list[tuple[int, str]], event_id: int) -> str:
    """The status a ticket had just after `event_id` (event ids grow with time)."""
    ids = [changed_id for changed_id, _ in history]
    index = bisect_right(ids, event_id)
    return history[index - 1][1] if index else Status.NEW


def updates(
    session: Session, start_date: str | None, end_date: str | None, *, page: int = 1
) -> list[dict[str, Any]]:
    """FixMyStreet's servicerequestupdates: the public events of listable requests in a window, newest
    first, MAX_REQUESTS a page, each with the status the request had at that moment."""
    since, until = _dates(start_date, end_date)
    rows = session.exec(
        select(TicketEvent, Ticket)
        .join(Ticket, Ticket.id == TicketEvent.ticket_id)  # type: ignore[arg-type]
        .where(
            col(TicketEvent.public).is_(True),
            col(TicketEvent.created_at) >= since,
            col(TicketEvent.created_at) <= until,
            *public.publicly_listed(),
        )
        .order_by(col(TicketEvent.created_at).desc(), col(TicketEvent.id).desc())
        .offset((page - 1) * MAX_REQUESTS)
        .limit(MAX_REQUESTS)
    ).all()
    history = _status_history(session, {event.ticket_id for event, _ in rows})
    names: dict[int, list[str]] = {}
    found = []
    for event, ticket in rows:
        if is_status_page_message(event):
            continue  # the citizen's words to the city, for their status page only
        if event.ticket_id not in names:
            names[event.ticket_id] = public.conversation_names(session, ticket)
        shown = public.public_event(event, names[event.ticket_id])
        then = _status_at(history.get(event.ticket_id, []), event.id or 0)
        found.append(
            {
                "update_id": str(event.id),
                "service_request_id": ticket.code,
                "status": "closed" if then in CLOSED else "open",
                "external_status_code": then,
                "description": shown.note or "",
                "updated_datetime": _iso(shown.at),
                "media_url": None,
            }
        )
    return found

"""Incidents from citizens' reports: a surge of one category in one place within a window (thresholds
as data in incidents/data/surges.json), an IOC alert or a supervisor's choice opens one; reports that
match an open incident join it and their citizen is told at once; one public notice reaches every
member's status page and each citizen once; resolving the incident resolves its members with its
summary."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from functools import cache
from pathlib import Path

from sqlalchemy import or_
from sqlmodel import Session, col, select

from geo.centres import ward_centre
from incidents.models import Incident, IncidentMember, IncidentStatus
from kernel.distance import Point, metres_between, within_sql
from kernel.errors import Conflict, Invalid, NotFound
from kernel.i18n import _
from kernel.timeutil import as_utc, utcnow
from notifications.service import Notice, notify
from tickets import service as tickets
from tickets.models import OPEN_STATUS_ORDER, OPEN_STATUSES, EventKind, Status, Ticket, TicketEvent
from tickets.reference import Category
from tickets.service import SYSTEM, Actor

SURGES_FILE = Path(__file__).parent / "data" / "surges.json"
DEFAULT_RADIUS_M = 2000


@dataclass(frozen=True)
class SurgeRule:
    category: str
    min_reports: int
    window_minutes: int
    radius_m: int
    title: str


@cache
def surge_rules() -> dict[str, SurgeRule]:
    rows = json.loads(SURGES_FILE.read_text(encoding="utf-8"))
    return {row["category"]: SurgeRule(**row) for row in rows}


def point_of(session: Session, ticket: Ticket) -> Point | None:
    """Where a report is: its own coordinates, else the centre of its ward."""
    if ticket.latitude is not None and ticket.longitude is not None:
        return ticket.latitude, ticket.longitude
    return ward_centre(session, ticket.ward_code) if ticket.ward_code is not None else None


def incident_of(session: Session, ticket_id: int) -> Incident | None:
    member = session.get(IncidentMember, ticket_id)
    return session.get(Incident, member.incident_id) if member else None


def members(session: Session, incident_id: int) -> list[Ticket]:
    return list(
        session.exec(
            select(Ticket)
            .join(IncidentMember, IncidentMember.ticket_id == Ticket.id)  # type: ignore[arg-type]
            .where(IncidentMember.incident_id == incident_id)
            .order_by(col(Ticket.created_at))
        ).all()
    )


# --- finding incidents ---------------------------------------------------------------------------------


def consider(session: Session, ticket: Ticket) -> Incident | None:
    """A report that has its category: it joins an open incident close by, or opens one when it
    completes a surge; otherwise nothing happens."""
    if ticket.id is None or ticket.category_code is None or ticket.status not in OPEN_STATUSES:
        return None
    if session.get(IncidentMember, ticket.id) is not None:
        return None
    point = point_of(session, ticket)
    if point is None:
        return None
    nearby = _open_incident_near(session, ticket.category_code, point)
    if nearby is not None:
        join(session, nearby, [ticket])
        return nearby
    rule = surge_rules().get(ticket.category_code)
    if rule is None:
        return None
    cluster = _surge_around(session, ticket, point, rule)
    if len(cluster) < rule.min_reports:
        return None
    return open_incident(session, cluster, source="surge", title=rule.title, radius_m=rule.radius_m)


def _open_incident_near(session: Session, category: str, point: Point) -> Incident | None:
    candidates = session.exec(
        select(Incident).where(Incident.status == IncidentStatus.OPEN, Incident.category_code == category)
    ).all()
    near = [i for i in candidates if metres_between(point, (i.latitude, i.longitude)) <= i.radius_m]
    return min(near, key=lambda i: metres_between(point, (i.latitude, i.longitude)), default=None)


def _surge_around(session: Session, ticket: Ticket, point: Point, rule: SurgeRule) -> list[Ticket]:
    """The open reports of the rule's category within its window before this one and its radius, not
    yet in an incident; this one included. The database keeps only pins inside the radius's box and
    reports with no pin (placed at their ward's centre); the exact distance is measured here."""
    since = as_utc(ticket.created_at) - timedelta(minutes=rule.window_minutes)
    in_an_incident = select(IncidentMember.ticket_id)
    pinned_near = within_sql(col(Ticket.latitude), col(Ticket.longitude), point, rule.radius_m)
    no_pin = or_(col(Ticket.latitude).is_(None), col(Ticket.longitude).is_(None))
    recent = session.exec(
        select(Ticket).where(
            Ticket.category_code == rule.category,
            col(Ticket.status).in_(OPEN_STATUS_ORDER),
            col(Ticket.created_at) >= since,
            col(Ticket.created_at) <= as_utc(ticket.created_at),
            col(Ticket.id).not_in(in_an_incident),
            or_(pinned_near, no_pin),
        )
    ).all()
    close = []
    for other in recent:
        where = point_of(session, other)
        if where is not None and metres_between(point, where) <= rule.radius_m:
            close.append(other)
    return close


# --- opening, joining, telling ---------------------------------------------------------------------------


def open_incident(
    session: Session,
    reports: list[Ticket],
    *,
    source: str,
    title: str,
    radius_m: int = DEFAULT_RADIUS_M,
    user_id: int | None = None,
) -> Incident:
    points = [p for p in (point_of(session, t) for t in reports) if p is not None]
    if not reports or not points:
        raise Invalid("an incident needs at least one report with a place (coordinates or a ward)")
    categories = {t.category_code for t in reports if t.category_code}
    if len(categories) != 1:
        raise Invalid("the reports of an incident share one category", field="tickets")
    incident = Incident(
        category_code=categories.pop(),
        title=title.strip()[:200],
        source=source,
        latitude=sum(p[0] for p in points) / len(points),
        longitude=sum(p[1] for p in points) / len(points),
        radius_m=radius_m,
        opened_by_user_id=user_id,
    )
    session.add(incident)
    session.flush()
    join(session, incident, reports)
    return incident


def join(session: Session, incident: Incident, reports: Iterable[Ticket]) -> None:
    """Reports become members; each one's timeline says so and its citizen hears at once what the city
    already told the others (or that the city is on it)."""
    assert incident.id is not None
    for ticket in reports:
        if ticket.id is None or session.get(IncidentMember, ticket.id) is not None:
            continue
        session.add(IncidentMember(ticket_id=ticket.id, incident_id=incident.id))
        session.flush()
        note = incident.public_notice or _joined_text(incident)
        told = tickets.record_event(
            session, ticket, EventKind.COMMENT, actor=SYSTEM, public=True, note=note, incident_id=incident.id
        )
        _tell(session, {ticket.id: told}, [ticket], note)


def _joined_text(incident: Incident) -> str:
    return _(
        "Phản ánh của bạn thuộc sự cố «{title}» mà thành phố đang xử lý chung;"
        " mọi thông báo về sự cố sẽ được gửi tới bạn.",
        title=incident.title,
    )


def post_notice(session: Session, incident_id: int, text: str, *, actor: Actor) -> Incident:
    """One notice: on every member's status page, and to each citizen once however many reports they
    made."""
    incident = _open(session, incident_id)
    if not text.strip():
        raise Invalid("the notice is empty", field="text")
    incident.public_notice = text.strip()
    reports = members(session, incident_id)
    events = {
        ticket.id: tickets.record_event(
            session,
            ticket,
            EventKind.COMMENT,
            actor=SYSTEM,
            public=True,
            note=incident.public_notice,
            incident_id=incident_id,
            posted_by=actor.user_id,
        )
        for ticket in reports
    }
    _tell(session, events, reports, incident.public_notice)
    return incident


def _tell(session: Session, events: dict[int | None, TicketEvent], reports: list[Ticket], text: str) -> None:
    """The notice to each citizen behind these reports, once each, about the newest of their reports,
    on whatever route reaches them (their own channel first)."""
    newest: dict[int, Ticket] = {}
    for ticket in reports:
        if ticket.citizen_id is None or ticket.status not in OPEN_STATUSES:
            continue
        known = newest.get(ticket.citizen_id)
        if known is None or as_utc(ticket.created_at) > as_utc(known.created_at):
            newest[ticket.citizen_id] = ticket
    session.flush()  # the events' ids key the messages (one per event and route)
    for ticket in newest.values():
        event = events.get(ticket.id)
        if event is not None and event.id is not None:
            notify(session, ticket, Notice(event.id, "incident_notice", text))


def resolve(session: Session, incident_id: int, summary: str, *, actor: Actor) -> Incident:
    """The incident and every open member resolved with its summary (which each status page shows and
    each citizen receives with the resolution)."""
    incident = _open(session, incident_id)
    if not summary.strip():
        raise Invalid("say how the incident was resolved", field="summary")
    incident.status, incident.summary, incident.resolved_at = (
        IncidentStatus.RESOLVED,
        summary.strip(),
        utcnow(),
    )
    for ticket in members(session, incident_id):
        if ticket.status in OPEN_STATUSES:
            _resolve_member(session, ticket, incident.summary, actor)
    return incident


def _resolve_member(session: Session, ticket: Ticket, summary: str, actor: Actor) -> None:
    ticket_id = ticket.id or 0
    if ticket.status in (Status.NEW, Status.TRIAGED):
        department = ticket.department_code or _department_of(session, ticket.category_code)
        tickets.assign(session, ticket_id, department=department, actor=actor, reason="sự cố chung")
    if ticket.status == Status.WAITING_CITIZEN:
        tickets.transition(session, ticket_id, Status.IN_PROGRESS, actor=actor)
    tickets.record_event(session, ticket, EventKind.COMMENT, actor=SYSTEM, public=True, note=summary)
    tickets.transition(session, ticket_id, Status.RESOLVED, actor=actor, reason=summary)


def _department_of(session: Session, category_code: str | None) -> str:
    category = session.get(Category, category_code) if category_code else None
    if category is None:
        raise Conflict("a member has no category and so no department to resolve it")
    return category.department_code


def _open(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    if incident.status != IncidentStatus.OPEN:
        raise Conflict(f"incident {incident_id} is already resolved")
    return incident


def add_reports(session: Session, incident_id: int, codes: list[str]) -> Incident:
    incident = _open(session, incident_id)
    join(session, incident, _reports_by_code(session, codes, incident.category_code))
    return incident


def _reports_by_code(session: Session, codes: list[str], category: str | None = None) -> list[Ticket]:
    found = list(session.exec(select(Ticket).where(col(Ticket.code).in_(codes))).all())
    missing = sorted(set(codes) - {t.code for t in found})
    if missing:
        raise NotFound(f"no ticket {', '.join(missing)}")
    if category and any(t.category_code != category for t in found):
        raise Invalid(f"every report of this incident is of category {category}", field="tickets")
    return found


def open_by_supervisor(session: Session, codes: list[str], title: str, *, actor: Actor) -> Incident:
    if not title.strip():
        raise Invalid("give the incident a title", field="title")
    reports = _reports_by_code(session, codes)
    taken = [t.code for t in reports if session.get(IncidentMember, t.id) is not None]
    if taken:
        raise Conflict(f"already in an incident: {', '.join(taken)}")
    return open_incident(session, reports, source="supervisor", title=title, user_id=actor.user_id)


def open_incidents(session: Session) -> list[tuple[Incident, int]]:
    """Open incidents, newest first, with how many reports each groups."""
    rows = session.exec(
        select(Incident)
        .where(Incident.status == IncidentStatus.OPEN)
        .order_by(col(Incident.opened_at).desc())
    ).all()
    return [(incident, len(members(session, incident.id or 0))) for incident in rows]


def scan(session: Session, *, minutes: int = 180) -> int:
    """The safety net: recent categorised reports not yet considered (their hook's transaction failed,
    or they were classified by hand) get considered; the number of reports that found an incident."""
    since = utcnow() - timedelta(minutes=minutes)
    recent = session.exec(
        select(Ticket)
        .where(
            col(Ticket.category_code).in_(list(surge_rules())),
            col(Ticket.status).in_(OPEN_STATUS_ORDER),
            col(Ticket.created_at) >= since,
            col(Ticket.id).not_in(select(IncidentMember.ticket_id)),
        )
        .order_by(col(Ticket.created_at))
    ).all()
    return sum(1 for ticket in recent if consider(session, ticket) is not None)


def get(session: Session, incident_id: int) -> Incident:
    incident = session.get(Incident, incident_id)
    if incident is None:
        raise NotFound(f"no incident {incident_id}")
    return incident

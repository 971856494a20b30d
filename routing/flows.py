"""Routing a ticket that people have looked at: after triage, on re-classification, and from the triage
queue ("confirm as is"); and why each queue item waits for a person."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlmodel import Session, col, select

from kernel import city
from kernel.errors import Conflict, Invalid
from kernel.i18n import from_data
from routing.rules import Route, route_of
from tickets import service
from tickets.models import OPEN_STATUSES, ActorType, EventKind, Status, Ticket, TicketEvent
from tickets.reference import Category, Department
from tickets.service import SYSTEM, Actor
from tickets.staff import User

log = logging.getLogger(__name__)

QUEUE_STATUSES = (Status.NEW, Status.TRIAGED)


def route_ticket(session: Session, ticket: Ticket, *, actor: Actor = SYSTEM) -> Route | None:
    """Run the routing rules on what the ticket says now and hand it to the department (or the ward's
    officers) they choose. The matching rule goes on the timeline; None when nothing can hold it."""
    found = route_of(session, ticket)
    ward_level = found.ward_officer and ticket.ward_code is not None
    department = None if ward_level else found.department
    if department is None and not ward_level:
        log.info(
            "routing found no holder",
            extra={"ticket": ticket.code, "category": ticket.category_code, "ward": ticket.ward_code},
        )
        return None
    assert ticket.id is not None
    service.record_event(
        session,
        ticket,
        EventKind.ROUTED,
        actor=actor,
        note=f"Định tuyến theo {found.label_vi}",
        rule=found.label_vi,
        rule_id=found.rule_id,
        department=department,
        ward=ticket.ward_code if ward_level else None,
    )
    holder_changes = ticket.department_code != department or ticket.status in QUEUE_STATUSES
    if ticket.status == Status.NEW:
        service.transition(session, ticket.id, Status.TRIAGED, actor=actor)
    if holder_changes:
        service.assign(session, ticket.id, department=department, actor=actor, rule=found.label_vi)
    ticket.needs_review = False
    log.info(
        "routing rule applied",
        extra={
            "ticket": ticket.code,
            "rule_id": found.rule_id,
            "rule": found.label_vi,
            "category": ticket.category_code,
            "ward": ticket.ward_code,
            "department": department,
            "ward_level": ward_level,
            "actor": actor.type,
        },
    )
    return found


def reroute_on_reclassification(session: Session, ticket: Ticket, event: TicketEvent) -> None:
    """A person changed the category or the ward: the rules run again (a re-route never restarts the SLA
    clocks). A ticket nothing can hold stays where it is."""
    if event.kind != EventKind.CLASSIFIED or event.actor_type != ActorType.STAFF or event.data.get("triage"):
        return
    if not {"category_code", "ward_code"} & set(event.data.get("changes", {})):
        return
    if ticket.status not in OPEN_STATUSES:
        return
    route_ticket(session, ticket, actor=Actor(ActorType.STAFF, event.actor_user_id))


def confirm(session: Session, ticket_id: int, *, actor: Actor, viewer: User | None = None) -> Ticket:
    """A person agrees with what the ticket says and routes it as it is."""
    ticket = service.get_ticket(session, ticket_id, viewer=viewer, lock=True)
    if not ticket.needs_review or ticket.status not in QUEUE_STATUSES:
        raise Conflict(
            f"{ticket.code} không còn chờ phân loại. ({ticket.code} is not waiting in the triage queue.)"
        )
    if route_ticket(session, ticket, actor=actor) is None:
        raise Invalid(
            "Chưa đủ thông tin để định tuyến: hãy chọn lĩnh vực (hoặc phường/xã) rồi lưu."
            " (Choose a category or a ward first: nothing can hold this ticket yet.)",
            field="category",
        )
    return ticket


# --- the queue and its reasons -------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    ticket: Ticket
    reasons: list[str]


def queue(session: Session, limit: int = 100) -> list[QueueItem]:
    """Reports waiting for a person, oldest first, each with why it waits."""
    query = (
        select(Ticket)
        .where(col(Ticket.needs_review).is_(True), col(Ticket.status).in_(QUEUE_STATUSES))
        .order_by(col(Ticket.created_at))
        .limit(limit)
    )
    return [QueueItem(t, reasons_for(session, t)) for t in session.exec(query).all()]


def reasons_for(session: Session, ticket: Ticket) -> list[str]:
    """Why a ticket is in the triage queue, in Vietnamese, from what the ticket and its timeline say."""
    events = service.timeline(session, ticket.id or 0)
    reasons = [_returned(session, e) for e in events if e.data.get("returned")][-1:]
    # what the intake asked a person to check first (a voicemail whose words are doubtful or unheard),
    # until someone has routed the ticket: a ticket sent back later waits for its own reasons
    if not any(e.kind == EventKind.ROUTED for e in events):
        reasons += [str(from_data(e.data["review_hold"])) for e in events if e.data.get("review_hold")][-1:]
    category = session.get(Category, ticket.category_code) if ticket.category_code else None
    if category is None:
        reasons.append("Chưa xác định được lĩnh vực")
    elif not category.public:
        reasons.append(f"Lĩnh vực nhạy cảm ({category.name_vi}): cần người xem trước khi chuyển")
    confidence = _machine_confidence(events)
    threshold = city.confidence_threshold()
    if confidence is not None and confidence < threshold:
        reasons.append(f"Độ tin cậy phân loại thấp ({confidence:.0%}, dưới ngưỡng {threshold:.0%})")
    if ticket.ward_code is None:
        reasons.append("Chưa xác định được phường/xã")
    return reasons or ["Cần người xem lại"]


def _machine_confidence(events: list[TicketEvent]) -> float | None:
    """The classifier's confidence in the category, unless a person has chosen the category since."""
    for event in reversed(events):
        if event.kind != EventKind.CLASSIFIED:
            continue
        if event.data.get("triage"):
            return float(event.data["confidence"]) if "confidence" in event.data else None
        if "category_code" in event.data.get("changes", {}):
            return None
    return None


def _returned(session: Session, event: TicketEvent) -> str:
    who = session.get(User, event.actor_user_id) if event.actor_user_id else None
    source = event.data.get("returned_from") or {}
    department = session.get(Department, source["department"]) if source.get("department") else None
    by = (who.full_name or who.username) if who else "cán bộ"
    where = f" ({department.name_vi})" if department else ""
    return f"Bị trả lại bởi {by}{where}: {event.note or 'không ghi lý do'}"

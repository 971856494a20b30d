"""Triage: classify, locate, look for duplicates and route a report — for the agent's suggestion box
(decide) and for every new ticket (apply, from a Celery task). Every decision is kept on the timeline
with its reasons."""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from civicdesk.i18n import _
from civicdesk.settings import get_settings
from civicdesk.timeutil import VN_TZ, as_utc, utcnow
from nlp import classifier, duplicates, location
from routing.models import TriageCorrection
from routing.rules import route
from tickets import service
from tickets.models import OPEN_STATUSES, ActorType, EventKind, Status, Ticket, TicketEvent
from tickets.reference import Category, Ward
from tickets.service import SYSTEM

log = logging.getLogger(__name__)

DUPLICATE_WINDOW = timedelta(days=14)
DUPLICATE_RADIUS_METRES = 300.0


@dataclass(frozen=True)
class DuplicateCandidate:
    ticket_id: int
    code: str
    score: float
    automatic: bool


@dataclass
class Decision:
    category: str | None
    category_confidence: float
    ward: str | None
    ward_named: str | None  # the unit's Vietnamese name as the text refers to it
    ward_named_code: str | None
    address: location.Address
    department: str | None
    priority: str | None
    ward_officer: bool
    needs_review: bool
    reasons: list[str] = field(default_factory=list)
    duplicates: list[DuplicateCandidate] = field(default_factory=list)

    @property
    def link_to(self) -> DuplicateCandidate | None:
        return next((d for d in self.duplicates if d.automatic), None)

    def as_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "category_confidence": round(self.category_confidence, 4),
            "ward": self.ward,
            "ward_named": self.ward_named,
            "department": self.department,
            "priority": self.priority,
            "needs_review": self.needs_review,
            "reasons": self.reasons,
            "address": asdict(self.address),
            "duplicates": [asdict(d) for d in self.duplicates],
        }


def _category_name(session: Session, code: str | None) -> str:
    row = session.get(Category, code) if code else None
    return row.name_vi if row else "—"


def _ward_name(session: Session, code: str) -> str:
    row = session.get(Ward, code)
    return row.name_vi if row else code


def _local_date(moment: datetime | None) -> date:
    return as_utc(moment or utcnow()).astimezone(VN_TZ).date()


def decide(
    session: Session,
    text: str,
    *,
    reported_at: datetime | None = None,
    channel: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    category: str | None = None,
    exclude_ticket_id: int | None = None,
) -> Decision:
    reasons: list[str] = []
    if category:
        confidence = 1.0
        reasons.append(_("Lĩnh vực “{category}” do cán bộ chọn", category=_category_name(session, category)))
    else:
        prediction = classifier.predict(text)
        category, confidence = prediction.category, prediction.confidence
        reasons.append(
            _(
                "Lĩnh vực “{category}” {confidence} (kế tiếp “{runner_up}” {runner_up_confidence})",
                category=_category_name(session, category),
                confidence=format(confidence, ".2f"),
                runner_up=_category_name(session, prediction.runner_up),
                runner_up_confidence=format(prediction.runner_up_confidence, ".2f"),
            )
        )
    ward = location.find_ward(text, _local_date(reported_at))
    if ward:
        reasons.append(_("Phường/xã “{ward}” từ “{text}”", ward=ward.named_name, text=ward.matched_text))
        if ward.code != ward.named_code:
            reasons.append(_("nay thuộc {ward}", ward=_ward_name(session, ward.code)))
    else:
        reasons.append(_("Không tìm thấy phường/xã trong nội dung"))
    routed = route(session, category=category, ward=ward.code if ward else None, text=text, channel=channel)
    reasons.append(routed.reason)
    threshold = get_settings().triage_confidence_threshold
    needs_review = confidence < threshold or ward is None
    if confidence < threshold:
        reasons.append(
            _("Độ tin cậy dưới {threshold}: chuyển hàng chờ phân loại", threshold=format(threshold, ".2f"))
        )
    decision = Decision(
        category=category,
        category_confidence=confidence,
        ward=ward.code if ward else None,
        ward_named=ward.named_name if ward else None,
        ward_named_code=ward.named_code if ward else None,
        address=location.find_address(text),
        department=routed.department,
        priority=routed.priority,
        ward_officer=routed.ward_officer,
        needs_review=needs_review,
        reasons=reasons,
    )
    decision.duplicates = find_duplicates(
        session, decision, text, reported_at or utcnow(), latitude, longitude, exclude_ticket_id
    )
    if decision.duplicates:
        best = decision.duplicates[0]
        reasons.append(
            _("Trùng với {code} ({score})", code=best.code, score=round(best.score))
            if best.automatic
            else _("Có thể trùng với {code} ({score})", code=best.code, score=round(best.score))
        )
    return decision


def _metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    y = math.radians(lat2 - lat1)
    return 6_371_000 * math.hypot(x, y)


def _same_ward_codes(session: Session, ward: str) -> set[str]:
    from tickets.public import ward_and_predecessors

    return ward_and_predecessors(session, ward)


def find_duplicates(
    session: Session,
    decision: Decision,
    text: str,
    reported_at: datetime,
    latitude: float | None,
    longitude: float | None,
    exclude_ticket_id: int | None,
) -> list[DuplicateCandidate]:
    """Open tickets of the same category and ward from the last two weeks (and close by, when both have
    coordinates), scored on their text."""
    if decision.category is None or decision.ward is None:
        return []
    since = as_utc(reported_at) - DUPLICATE_WINDOW
    query = select(Ticket).where(
        Ticket.category_code == decision.category,
        col(Ticket.ward_code).in_(_same_ward_codes(session, decision.ward)),
        col(Ticket.status).in_(OPEN_STATUSES),
        col(Ticket.created_at) >= since,
    )
    if exclude_ticket_id is not None:
        query = query.where(Ticket.id != exclude_ticket_id)
    found = []
    here = (latitude, longitude) if latitude is not None and longitude is not None else None
    for other in session.exec(query.order_by(col(Ticket.created_at).desc()).limit(200)).all():
        if here and other.latitude is not None and other.longitude is not None:
            if _metres(*here, other.latitude, other.longitude) > DUPLICATE_RADIUS_METRES:
                continue
        score = duplicates.similarity(text, other.description)
        if score >= duplicates.SUGGEST and other.id is not None:
            found.append(DuplicateCandidate(other.id, other.code, score, score >= duplicates.AUTO_LINK))
    return sorted(found, key=lambda d: d.score, reverse=True)[:5]


def apply(session: Session, ticket_id: int) -> Decision | None:
    """Triage a new ticket once; a repeated task finds it already done and does nothing."""
    ticket = service.get_ticket(session, ticket_id, lock=True)
    if ticket.triaged_at is not None or ticket.status != Status.NEW:
        return None
    decision = decide(
        session,
        ticket.description,
        reported_at=ticket.created_at,
        channel=ticket.origin_channel,
        latitude=ticket.latitude,
        longitude=ticket.longitude,
        category=ticket.category_code,
        exclude_ticket_id=ticket.id,
    )
    changes = _fill_in(session, ticket, decision)
    service.record_event(
        session,
        ticket,
        EventKind.CLASSIFIED,
        actor=SYSTEM,
        note="; ".join(decision.reasons),
        changes=changes,
        confidence=round(decision.category_confidence, 4),
        triage=True,
    )
    link = decision.link_to
    if link is not None:
        service.merge(session, ticket.id or 0, into_id=link.ticket_id, actor=SYSTEM)
    elif not decision.needs_review:
        service.transition(session, ticket.id or 0, Status.TRIAGED, actor=SYSTEM)
        if decision.department and not decision.ward_officer:
            service.assign(session, ticket.id or 0, department=decision.department, actor=SYSTEM)
    log.info(
        "triage decision",
        extra={
            "ticket": ticket.code,
            "category": decision.category,
            "confidence": round(decision.category_confidence, 3),
            "ward": decision.ward,
            "department": decision.department,
            "outcome": "merged" if link else "human_review" if decision.needs_review else "routed",
        },
    )
    return decision


def _fill_in(session: Session, ticket: Ticket, decision: Decision) -> dict[str, list[Any]]:
    """What triage knows goes onto the ticket, without overwriting what a person already set."""
    wanted = {
        "category_code": ticket.category_code or decision.category,
        "ward_code": ticket.ward_code or decision.ward,
        "ward_named_code": ticket.ward_named_code or decision.ward_named_code,
        "priority": decision.priority or ticket.priority,
        "address_text": ticket.address_text or decision.address.as_text(),
    }
    changes = {k: [getattr(ticket, k), v] for k, v in wanted.items() if getattr(ticket, k) != v}
    for name, (_old, value) in changes.items():
        setattr(ticket, name, value)
    ticket.needs_review = decision.needs_review
    ticket.triaged_at = utcnow()
    return changes


def review_queue(session: Session, limit: int = 100) -> list[Ticket]:
    query = (
        select(Ticket)
        .where(col(Ticket.needs_review).is_(True), col(Ticket.status).in_([Status.NEW]))
        .order_by(col(Ticket.created_at))
        .limit(limit)
    )
    return list(session.exec(query).all())


# --- learning from people ---------------------------------------------------------------------------

CORRECTED_FIELDS = {"category_code": "category", "ward_code": "ward"}


def record_correction(session: Session, ticket: Ticket, event: TicketEvent) -> None:
    """A person's change of category, ward or department becomes labelled data."""
    if event.actor_type != ActorType.STAFF:
        return
    rows: list[tuple[str, Any, Any]] = []
    if event.kind == EventKind.CLASSIFIED:
        for name, (old, new) in event.data.get("changes", {}).items():
            if name in CORRECTED_FIELDS:
                rows.append((CORRECTED_FIELDS[name], old, new))
    elif event.kind == EventKind.ASSIGNED:
        old = (event.data.get("previous") or {}).get("department")
        if old != event.data.get("department"):  # a first routing by a person is a label too
            rows.append(("department", old, event.data.get("department")))
    for name, old, new in rows:
        session.add(
            TriageCorrection(
                ticket_id=ticket.id or 0,
                field=name,
                old_value=old,
                new_value=new,
                text=ticket.description,
                user_id=event.actor_user_id,
            )
        )
    if any(name == "ward" for name, _old, _new in rows):
        ward = session.get(Ward, ticket.ward_code) if ticket.ward_code else None
        if ward is not None:
            ticket.needs_review = False


def category_corrections(session: Session) -> list[tuple[str, str]]:
    """(text, category) for every ticket a person reclassified; the latest label of a ticket wins."""
    rows = session.exec(
        select(TriageCorrection)
        .where(TriageCorrection.field == "category", col(TriageCorrection.new_value).is_not(None))
        .order_by(col(TriageCorrection.id))
    ).all()
    latest = {row.ticket_id: (row.text, row.new_value or "") for row in rows}
    return list(latest.values())

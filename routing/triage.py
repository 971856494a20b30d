"""Triage: classify, locate, look for duplicates and route a report — for the agent's suggestion box
(decide) and for every new ticket (apply, from a Celery task). Every decision is kept on the timeline
with its reasons."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_
from sqlalchemy import select as select_columns
from sqlmodel import Session, col, select

from geo.locate import Method, locate_pin
from kernel import city
from kernel.distance import within_sql
from kernel.i18n import Text, _, from_data
from kernel.timeutil import as_utc, local_date, utcnow
from nlp import classifier, duplicates, location
from routing import flows
from routing.models import TriageCorrection
from routing.rules import route
from tickets import service
from tickets.models import OPEN_STATUS_ORDER, ActorType, EventKind, Status, Ticket, TicketEvent
from tickets.refcache import reference
from tickets.reference import Ward
from tickets.service import SYSTEM

log = logging.getLogger(__name__)

DUPLICATE_WINDOW = timedelta(days=14)


@dataclass(frozen=True)
class DuplicateCandidate:
    ticket_id: int
    code: str
    score: float
    automatic: bool
    why: str = ""  # Vietnamese, for staff: "cách 35 m, cùng lĩnh vực, nội dung giống 72%"
    distance_m: float | None = None


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
    reasons: list[str] = field(default_factory=list)  # for programs (the suggestion API, logs)
    duplicates: list[DuplicateCandidate] = field(default_factory=list)
    ward_source: str | None = None
    ward_approximate: bool = False
    location_message: str | None = None  # Vietnamese, for the citizen: why the pin gave no ward
    notes_vi: list[str] = field(default_factory=list)  # the same, for people: the ticket's timeline
    model_version: str | None = None  # the category model that decided; None when a person set it

    @property
    def link_to(self) -> DuplicateCandidate | None:
        return next((d for d in self.duplicates if d.automatic), None)

    def as_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "category_confidence": round(self.category_confidence, 4),
            "ward": self.ward,
            "ward_named": self.ward_named,
            "ward_source": self.ward_source,
            "ward_approximate": self.ward_approximate,
            "location_message": self.location_message,
            "department": self.department,
            "priority": self.priority,
            "needs_review": self.needs_review,
            "model_version": self.model_version,
            "reasons": self.reasons,
            "address": asdict(self.address),
            "duplicates": [asdict(d) for d in self.duplicates],
        }


class Notes:
    """Triage's reasons as staff read them on the timeline: in Vietnamese, with names, not codes."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.lines: list[str] = []

    def say(self, line: str) -> None:
        self.lines.append(line)

    def category(self, code: str | None) -> str:
        row = reference(self.session).categories.get(code) if code else None
        return f"«{row.name_vi}»" if row else _("chưa rõ")

    def ward(self, code: str) -> str:
        row = reference(self.session).wards.get(code)
        return row.name_vi if row else code


def _local_date(moment: datetime | None) -> date:
    return local_date(moment)


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
    notes = Notes(session)
    model_version = None
    if category:
        confidence = 1.0
        reasons.append(f"category {category} set by a person")
        notes.say(_("Lĩnh vực {category} do cán bộ chọn", category=notes.category(category)))
    else:
        model = classifier.load_model()
        prediction = classifier.predict(text, model)
        category, confidence, model_version = prediction.category, prediction.confidence, model.version
        reasons.append(
            f"category {category} {confidence:.2f}"
            f" (next {prediction.runner_up} {prediction.runner_up_confidence:.2f}; model {model.version})"
        )
        notes.say(
            _(
                "Lĩnh vực {category} (độ tin cậy {confidence}; kế tiếp {runner_up} {runner_up_confidence})",
                category=notes.category(category),
                confidence=format(confidence, ".0%"),
                runner_up=notes.category(prediction.runner_up),
                runner_up_confidence=format(prediction.runner_up_confidence, ".0%"),
            )
        )
    day = _local_date(reported_at)
    address = duplicates.address_of(text)
    named = location.find_ward(text, day)
    place = locate(session, text=named, address=address, day=day, latitude=latitude, longitude=longitude)
    reasons.extend(place.reasons)
    notes.say(_place_note(notes, place, named))
    routed = route(session, category=category, ward=place.ward, text=text, channel=channel)
    reasons.append(routed.reason)
    notes.say(_("định tuyến theo {route}", route=routed.label_vi))
    threshold, strict = confidence_threshold(routed.department)
    sensitive = _sensitive(session, category)
    needs_review = confidence < threshold or place.ward is None or place.approximate or sensitive
    if confidence < threshold:
        why = f" for the sensitive department {routed.department}" if strict else ""
        reasons.append(f"confidence below {threshold:.2f}{why}: to the triage queue")
        notes.say(
            _("độ tin cậy dưới {threshold}: chuyển hàng chờ phân loại", threshold=format(threshold, ".0%"))
        )
    if sensitive:
        reasons.append(f"sensitive category {category}: to the triage queue")
        notes.say(_("lĩnh vực nhạy cảm: chuyển hàng chờ phân loại"))
    decision = Decision(
        category=category,
        category_confidence=confidence,
        ward=place.ward,
        ward_named=named.named_name if named else None,
        ward_named_code=named.named_code if named else None,
        address=address,
        department=routed.department,
        priority=routed.priority,
        ward_officer=routed.ward_officer,
        needs_review=needs_review,
        reasons=reasons,
        ward_source=place.source,
        ward_approximate=place.approximate,
        location_message=place.message,
        notes_vi=notes.lines,
        model_version=model_version,
    )
    decision.duplicates = find_duplicates(
        session, decision, text, reported_at or utcnow(), latitude, longitude, exclude_ticket_id
    )
    if decision.duplicates:
        best = decision.duplicates[0]
        reasons.append(
            f"{'duplicate of' if best.automatic else 'may duplicate'} {best.code}"
            f" ({best.score:.0f}: {best.why})"
        )
        notes.say(
            _("trùng với {code} ({score})", code=best.code, score=round(best.score))
            if best.automatic
            else _("có thể trùng {code} ({score})", code=best.code, score=round(best.score))
        )
    return decision


@dataclass(frozen=True)
class Place:
    ward: str | None
    source: str | None  # pin_boundary, text, street, pin_nearest_centre
    approximate: bool
    message: str | None  # for the citizen, when the pin could not be used
    reasons: list[str]


def locate(
    session: Session,
    *,
    text: location.WardMatch | None,
    address: location.Address,
    day: date,
    latitude: float | None,
    longitude: float | None,
) -> Place:
    """Every clue to the ward, the surest first: a pin inside an imported boundary, the ward the text names,
    a street that runs through one ward only, and last the ward centre nearest the pin (approximate)."""
    pin = (
        locate_pin(session, latitude, longitude, day)
        if latitude is not None and longitude is not None
        else None
    )
    reasons = [pin.reason()] if pin else []
    if text:
        old = f", in force: {text.code}" if text.code != text.named_code else ""
        reasons.append(f"ward {text.named_name} from '{text.matched_text}'{old}")
    message = pin.message if pin else None
    if pin and pin.method == Method.BOUNDARY:
        if text and text.code != pin.ward:
            reasons.append(f"the text names {text.code}, the pin is in {pin.ward}: the pin wins")
        return Place(pin.ward, "pin_boundary", False, message, reasons)
    if text:
        return Place(text.code, "text", False, message, reasons)
    street_ward = location.ward_from_street(address.street, day)
    if street_ward:
        reasons.append(f"ward {street_ward} from the street {address.street}, which runs through it alone")
        return Place(street_ward, "street", False, message, reasons)
    if pin and pin.method == Method.NEAREST_CENTRE:
        reasons.append("approximate ward: a person confirms it")
        return Place(pin.ward, "pin_nearest_centre", True, message, reasons)
    reasons.append("no ward found in the text" + (" or the pin" if pin else ""))
    return Place(None, None, False, message, reasons)


def _place_note(notes: Notes, place: Place, named: location.WardMatch | None) -> str:
    """The ward line of the timeline note, in Vietnamese, saying which clue gave it."""
    if place.ward is None:
        return _("không tìm thấy phường/xã trong nội dung hay vị trí")
    how = {
        "pin_boundary": _("theo vị trí trên bản đồ"),
        "text": _("từ “{text}”", text=named.matched_text) if named else _("từ nội dung"),
        "street": _("theo tên đường"),
        "pin_nearest_centre": _("gần vị trí nhất, cần người xác nhận"),
    }.get(place.source or "", "")
    name = named.named_name if named and place.source == "text" else notes.ward(place.ward)
    if named and place.ward != named.named_code:
        return _(
            "phường/xã {name} ({how}), nay thuộc {ward}", name=name, how=how, ward=notes.ward(place.ward)
        )
    return _("phường/xã {name} ({how})", name=name, how=how)


def _sensitive(session: Session, category: str | None) -> bool:
    row = reference(session).categories.get(category) if category else None
    return row is not None and not row.public


def confidence_threshold(department: str | None) -> tuple[float, bool]:
    """The confidence a report needs to be routed without a person, and whether its department is one a
    wrong report must not reach (police, health, education): those need the stricter threshold."""
    ordinary = city.confidence_threshold()
    if department in city.sensitive_departments():
        return max(city.sensitive_threshold(), ordinary), True
    return ordinary, False


def find_duplicates(
    session: Session,
    decision: Decision,
    text: str,
    reported_at: datetime,
    latitude: float | None,
    longitude: float | None,
    exclude_ticket_id: int | None,
) -> list[DuplicateCandidate]:
    """Open tickets of the same category from the last two weeks in the same ward or close to the pin,
    compared on place first (distance, house number, street) and then text."""
    if decision.category is None:
        return []
    where: list[ColumnElement[bool]] = []
    if decision.ward is not None:
        where.append(col(Ticket.ward_code).in_(reference(session).ward_and_predecessors(decision.ward)))
    if latitude is not None and longitude is not None:
        pin = (latitude, longitude)
        near = duplicates.limits().near_metres
        where.append(within_sql(col(Ticket.latitude), col(Ticket.longitude), pin, near))
    if not where:
        return []
    # only the columns the comparison reads, not whole tickets (the ward index, or the category's, finds them)
    query = select_columns(
        col(Ticket.id),
        col(Ticket.code),
        col(Ticket.description),
        col(Ticket.category_code),
        col(Ticket.ward_named_code),
        col(Ticket.latitude),
        col(Ticket.longitude),
    ).where(
        col(Ticket.category_code) == decision.category,
        or_(*where),
        col(Ticket.status).in_(OPEN_STATUS_ORDER),
        col(Ticket.created_at) >= as_utc(reported_at) - DUPLICATE_WINDOW,
    )
    if exclude_ticket_id is not None:
        query = query.where(col(Ticket.id) != exclude_ticket_id)
    this = duplicates.Report(text, decision.category, None, decision.ward_named_code, latitude, longitude)
    found = []
    for other in session.execute(query.order_by(col(Ticket.created_at).desc()).limit(200)):
        that = duplicates.Report(
            other.description,
            other.category_code,
            None,
            other.ward_named_code,
            other.latitude,
            other.longitude,
        )
        compared = duplicates.compare(this, that)
        if compared is not None and compared.suggested:
            found.append(
                DuplicateCandidate(
                    other.id,
                    other.code,
                    compared.score,
                    compared.automatic,
                    compared.why(),
                    compared.distance_m,
                )
            )
    return sorted(found, key=lambda d: (d.automatic, d.score), reverse=True)[:5]


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
    hold = _intake_hold(session, ticket)
    if hold is not None:
        decision.needs_review = True
        decision.reasons.append(f"held for a person at intake: {hold}")
        decision.notes_vi.append(_("giữ lại chờ người xem: {reason}", reason=hold))
    changes = _fill_in(session, ticket, decision)
    service.record_event(
        session,
        ticket,
        EventKind.CLASSIFIED,
        actor=SYSTEM,
        note=_sentence(decision.notes_vi),
        reasons=decision.reasons,
        changes=changes,
        confidence=round(decision.category_confidence, 4),
        model_version=decision.model_version,
        triage=True,
    )
    link = decision.link_to if hold is None else None  # doubtful words never merge a ticket on their own
    if link is not None:
        service.merge(session, ticket.id or 0, into_id=link.ticket_id, actor=SYSTEM)
    elif not decision.needs_review:
        service.transition(session, ticket.id or 0, Status.TRIAGED, actor=SYSTEM)
        flows.route_ticket(session, ticket)
    log.info(
        "triage decision",
        extra={
            "ticket": ticket.code,
            "category": decision.category,
            "confidence": round(decision.category_confidence, 3),
            "ward": decision.ward,
            "department": decision.department,
            "model_version": decision.model_version,
            "outcome": "merged" if link else "human_review" if decision.needs_review else "routed",
        },
    )
    return decision


def _intake_hold(session: Session, ticket: Ticket) -> Text | None:
    """Why the intake asked for a person before any routing (a voicemail whose words are doubtful or
    could not be heard), from the timeline; only a ticket the intake marked for review can have one."""
    if not ticket.needs_review:
        return None
    events = session.exec(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(col(TicketEvent.id))
    ).all()
    holds = [e.data["review_hold"] for e in events if e.data.get("review_hold")]
    return from_data(holds[-1]) if holds else None


def _sentence(parts: list[str]) -> str:
    """The notes joined into one translatable sentence (the first note starts with a capital)."""
    sentence: str = ""
    for part in parts:
        sentence = _("{first}; {then}", first=sentence, then=part) if sentence else part
    return sentence


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


def recent_corrections(session: Session, limit: int = 500) -> list[TriageCorrection]:
    """The newest corrections people made to triage, for the administrators' review."""
    query = select(TriageCorrection).order_by(col(TriageCorrection.id).desc()).limit(limit)
    return list(session.exec(query).all())


def category_corrections(session: Session) -> list[tuple[str, str]]:
    """(text, category) for every ticket a person reclassified; the latest label of a ticket wins."""
    rows = session.exec(
        select(TriageCorrection)
        .where(TriageCorrection.field == "category", col(TriageCorrection.new_value).is_not(None))
        .order_by(col(TriageCorrection.id))
    ).all()
    latest = {row.ticket_id: (row.text, row.new_value or "") for row in rows}
    return list(latest.values())

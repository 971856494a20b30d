"""The ticket core's verbs. Every change writes a timeline event; nothing here commits — the unit of
work that calls it does, so a ticket, its events and the tasks it triggers stand or fall together."""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from kernel.errors import Conflict, Invalid, NotFound
from kernel.i18n import Text, _, label, to_data
from kernel.settings import get_settings
from kernel.text import clean_text
from kernel.timeutil import as_utc, city_tz, utcnow
from tickets import life, lifecycle, permissions, search
from tickets.citizens import Contact, resolve_citizen
from tickets.codes import new_tracking_token, next_ticket_code
from tickets.models import (
    OPEN_STATUSES,
    ActorType,
    Attachment,
    Channel,
    Citizen,
    Direction,
    EventKind,
    Message,
    Priority,
    Status,
    Ticket,
    TicketEvent,
)
from tickets.reference import Category, Department, Ward
from tickets.staff import Role, User

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Actor:
    """Who did something: the system, a citizen, or a member of staff."""

    type: ActorType
    user_id: int | None = None

    @classmethod
    def staff(cls, user: User) -> Actor:
        return cls(ActorType.STAFF, user.id)


SYSTEM = Actor(ActorType.SYSTEM)
CITIZEN = Actor(ActorType.CITIZEN)

TITLE_MAX = 300
ADDRESS_MAX = 500


def record_event(
    session: Session,
    ticket: Ticket,
    kind: EventKind,
    *,
    actor: Actor = SYSTEM,
    public: bool = False,
    note: str | None = None,
    at: datetime | None = None,
    **data: Any,
) -> TicketEvent:
    assert ticket.id is not None
    if isinstance(note, Text):  # written by the system: kept translatable for the English pages
        data = {**data, "note_i18n": to_data(note)}
    event = TicketEvent(
        ticket_id=ticket.id,
        kind=kind,
        actor_type=actor.type,
        actor_user_id=actor.user_id,
        public=public,
        note=clean_text(note) if note else note,  # whoever calls: no control character is ever stored
        data=data,
        created_at=at or utcnow(),
    )
    session.add(event)
    life.follower().event_recorded(session, ticket, event)
    return event


# --- creation -------------------------------------------------------------------------------------


def _cleaned(draft: NewTicket) -> NewTicket:
    """Every channel's text loses control characters here too, however its intake read it: they break
    XML feeds, CSV exports and SMS gateways long after the report came in."""
    return replace(
        draft,
        description=clean_text(draft.description),
        title=clean_text(draft.title) if draft.title else draft.title,
        address=clean_text(draft.address) if draft.address else draft.address,
        opening_text=clean_text(draft.opening_text) if draft.opening_text else draft.opening_text,
    )


@dataclass
class NewTicket:
    description: str
    title: str | None = None
    channel: Channel = Channel.WEB
    contact: Contact = field(default_factory=Contact)
    address: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    category: str | None = None
    ward: str | None = None
    priority: Priority | None = None
    created_at: datetime | None = None
    provider_message_id: str | None = None  # the channel's id of the message that opened the ticket
    opening_text: str | None = None  # the whole opening message, when the description had to be trimmed


def status_name(status: Status) -> Text:
    return label("st_", status.value)


def _check_reference(session: Session, model: type[Any], code: str | None, what: str) -> Any:
    if code is None:
        return None
    row = session.get(model, code)
    if row is None:
        known = ", ".join(sorted(session.exec(select(model.code)).all()))
        raise Invalid(
            _("Không có mã “{code}”; hãy dùng một trong: {known}", code=code, known=known), field=what
        )
    return row


def _title_from(description: str) -> str:
    first_line = description.strip().splitlines()[0] if description.strip() else ""
    return first_line[:120].rstrip() + ("…" if len(first_line) > 120 else "")


def _validate_new(draft: NewTicket) -> None:
    limit = get_settings().description_max_chars
    if not draft.description or not draft.description.strip():
        raise Invalid(_("Nội dung đang trống; hãy cho biết sự việc và địa điểm."), field="description")
    if len(draft.description) > limit:
        raise Invalid(
            _("Nội dung dài {count} ký tự; tối đa {limit} ký tự.", count=len(draft.description), limit=limit),
            field="description",
        )
    if draft.title and len(draft.title) > TITLE_MAX:
        raise Invalid(_("Tiêu đề dài quá {limit} ký tự.", limit=TITLE_MAX), field="title")
    if draft.address and len(draft.address) > ADDRESS_MAX:
        raise Invalid(_("Địa chỉ dài quá {limit} ký tự.", limit=ADDRESS_MAX), field="address")
    if (draft.latitude is None) != (draft.longitude is None):
        raise Invalid(_("Hãy nhập cả vĩ độ và kinh độ, hoặc bỏ trống cả hai."), field="latitude")
    if draft.latitude is not None and not -90 <= draft.latitude <= 90:
        raise Invalid(_("Vĩ độ phải nằm trong khoảng -90 đến 90."), field="latitude")
    if draft.longitude is not None and not -180 <= draft.longitude <= 180:
        raise Invalid(_("Kinh độ phải nằm trong khoảng -180 đến 180."), field="longitude")


def create_ticket(session: Session, draft: NewTicket, *, actor: Actor = CITIZEN) -> Ticket:
    draft = _cleaned(draft)
    _validate_new(draft)
    category: Category | None = _check_reference(session, Category, draft.category, "category")
    _check_reference(session, Ward, draft.ward, "ward")
    citizen = resolve_citizen(session, draft.contact)
    created_at = as_utc(draft.created_at) if draft.created_at else utcnow()
    ticket = Ticket(
        code=next_ticket_code(
            session, prefix=get_settings().city_code, year=created_at.astimezone(city_tz()).year
        ),
        tracking_token=new_tracking_token(),
        title=(draft.title or _title_from(draft.description)).strip(),
        description=draft.description.strip(),
        category_code=category.code if category else None,
        ward_code=draft.ward,
        department_code=category.department_code if category else None,
        address_text=draft.address,
        latitude=draft.latitude,
        longitude=draft.longitude,
        priority=draft.priority or (category.priority if category else Priority.NORMAL),
        origin_channel=draft.channel,
        citizen_id=citizen.id if citizen else None,
        created_at=created_at,
        updated_at=created_at,
    )
    session.add(ticket)
    session.flush()
    session.add(
        Message(
            ticket_id=ticket.id,
            citizen_id=ticket.citizen_id,
            channel=draft.channel,
            direction=Direction.INBOUND,
            provider_message_id=draft.provider_message_id,
            text=draft.opening_text.strip() if draft.opening_text else ticket.description,
            created_at=created_at,
        )
    )
    record_event(
        session, ticket, EventKind.CREATED, actor=actor, public=True, at=created_at, channel=draft.channel
    )
    life.follower().opened(session, ticket)
    log.info(  # codes and flags only: never the citizen's words or contact details
        "ticket created",
        extra={
            "ticket": ticket.code,
            "channel": draft.channel,
            "category": ticket.category_code,
            "ward": ticket.ward_code,
            "priority": ticket.priority,
            "citizen_known": ticket.citizen_id is not None,
            "located": ticket.latitude is not None,
        },
    )
    return ticket


# --- reading --------------------------------------------------------------------------------------


def visible_to(user: User) -> list[Any]:
    """The conditions that bound what a member of staff may see."""
    if user.role == Role.DEPARTMENT_STAFF:
        return [Ticket.department_code == user.department_code]
    if user.role == Role.WARD_OFFICER:
        return [Ticket.ward_code == user.ward_code]
    return []


def get_ticket(session: Session, ticket_id: int, *, viewer: User | None = None, lock: bool = False) -> Ticket:
    """The ticket, if it exists and the viewer may see it; 404 otherwise (never 403: ids don't leak)."""
    query = select(Ticket).where(Ticket.id == ticket_id)
    if viewer is not None:
        query = query.where(*visible_to(viewer))
    if lock:
        query = query.with_for_update()
    ticket = session.exec(query).first()
    if ticket is None:
        raise NotFound(_("Không có phản ánh số {number}.", number=ticket_id))
    return ticket


def ticket_id_by_code(session: Session, code: str, *, viewer: User | None = None) -> int:
    """The id of the ticket a person names by its code, typed in any case and with stray spaces."""
    wanted = code.strip().upper()
    query = select(Ticket.id).where(Ticket.code == wanted)
    if viewer is not None:
        query = query.where(*visible_to(viewer))
    found = session.exec(query).first()
    if found is None:
        raise NotFound(_("Không tìm thấy phản ánh mã {code}.", code=wanted or "—"))
    return found


def visible_attachment(session: Session, attachment_id: int, *, viewer: User) -> Attachment:
    """A ticket's attachment, if the viewer may see the ticket; 404 otherwise, as for the ticket."""
    attachment = session.get(Attachment, attachment_id)
    if attachment is None or attachment.ticket_id is None:
        raise NotFound(_("Không có tệp đính kèm số {number}.", number=attachment_id))
    get_ticket(session, attachment.ticket_id, viewer=viewer)
    return attachment


def get_ticket_by_token(session: Session, token: str) -> Ticket:
    ticket = session.exec(select(Ticket).where(Ticket.tracking_token == token)).first() if token else None
    if ticket is None:
        raise NotFound(_("Không tìm thấy phản ánh."))
    return ticket


def timeline(session: Session, ticket_id: int, *, public_only: bool = False) -> list[TicketEvent]:
    query = select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
    if public_only:
        query = query.where(col(TicketEvent.public).is_(True))
    return list(session.exec(query.order_by(col(TicketEvent.created_at), col(TicketEvent.id))).all())


def messages_of(session: Session, ticket_id: int) -> list[Message]:
    query = select(Message).where(Message.ticket_id == ticket_id)
    return list(session.exec(query.order_by(col(Message.created_at), col(Message.id))).all())


def attachments_of(session: Session, ticket_id: int) -> list[Attachment]:
    """Every file of a ticket, its own and those that came with its messages, oldest first."""
    own_messages = select(Message.id).where(Message.ticket_id == ticket_id)
    query = select(Attachment).where(
        or_(col(Attachment.ticket_id) == ticket_id, col(Attachment.message_id).in_(own_messages))
    )
    return list(session.exec(query.order_by(col(Attachment.created_at), col(Attachment.id))).all())


@dataclass
class TicketFilter:
    status: list[str] = field(default_factory=list)
    category: str | None = None
    ward: str | None = None
    department: str | None = None
    channel: str | None = None
    text: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    assignee_id: int | None = None
    citizen_id: int | None = None


def _encode_cursor(ticket: Ticket) -> str:
    raw = json.dumps([ticket.created_at.isoformat(), ticket.id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created, ticket_id = json.loads(raw)
        return as_utc(datetime.fromisoformat(created)), int(ticket_id)
    except (ValueError, TypeError) as exc:
        raise Invalid(
            _("Con trỏ phân trang không hợp lệ; hãy bắt đầu lại từ trang đầu."), field="cursor"
        ) from exc


def list_tickets(
    session: Session,
    filters: TicketFilter,
    *,
    viewer: User | None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Ticket], str | None]:
    """Newest first, keyset-paginated on (created_at, id) so pages stay stable as tickets arrive.

    The page's ids are chosen first, then its rows read by id: choosing ids alone lets PostgreSQL
    answer a ward's newest tickets from ``ix_ticket_ward_created`` without touching the table, where
    asking for whole rows made it walk ``created_at`` backwards over every ticket since an old ward
    was merged away (it cannot know that an old ward's tickets are all old)."""
    conditions = filter_conditions(filters, viewer=viewer)
    search.prefer_index_walks(session)
    if cursor:
        created, ticket_id = _decode_cursor(cursor)
        conditions.append(
            or_(
                col(Ticket.created_at) < created,
                (col(Ticket.created_at) == created) & (col(Ticket.id) < ticket_id),
            )
        )
    newest_first = (col(Ticket.created_at).desc(), col(Ticket.id).desc())
    page = select(Ticket.id).where(*conditions).order_by(*newest_first).limit(limit + 1)
    query = select(Ticket).where(col(Ticket.id).in_(page.scalar_subquery())).order_by(*newest_first)
    rows = list(session.exec(query).all())
    next_cursor = _encode_cursor(rows[limit - 1]) if len(rows) > limit else None
    return rows[:limit], next_cursor


def filter_conditions(filters: TicketFilter, *, viewer: User | None) -> list[Any]:
    """The WHERE conditions of a filter, bounded by what the viewer may see (shared by every list)."""
    conditions: list[Any] = visible_to(viewer) if viewer else []
    if filters.status:
        unknown = set(filters.status) - {s.value for s in Status}
        if unknown:
            raise Invalid(
                _(
                    "Trạng thái không hợp lệ: {unknown}; hãy dùng: {known}",
                    unknown=", ".join(sorted(unknown)),
                    known=", ".join(s.value for s in Status),
                ),
                field="status",
            )
        conditions.append(col(Ticket.status).in_(filters.status))
    for column, value in (
        (Ticket.category_code, filters.category),
        (Ticket.ward_code, filters.ward),
        (Ticket.department_code, filters.department),
        (Ticket.origin_channel, filters.channel),
        (Ticket.assignee_id, filters.assignee_id),
        (Ticket.citizen_id, filters.citizen_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if filters.text:
        conditions.extend(search.text_conditions(filters.text))
    if filters.created_from:
        conditions.append(col(Ticket.created_at) >= filters.created_from)
    if filters.created_to:
        conditions.append(col(Ticket.created_at) < filters.created_to)
    return conditions


# --- changes --------------------------------------------------------------------------------------


def _set_status(
    session: Session,
    ticket: Ticket,
    target: Status,
    *,
    actor: Actor,
    reason: str | None,
    public: bool = True,
    **data: Any,
) -> None:
    previous = Status(ticket.status)
    now = utcnow()
    ticket.status = target
    ticket.updated_at = now
    if target == Status.RESOLVED:
        ticket.resolved_at = now
    elif target == Status.CLOSED:
        ticket.closed_at = now
    elif target == Status.REOPENED:
        ticket.closed_at = None
    kind = EventKind.REOPENED if target == Status.REOPENED else EventKind.STATUS_CHANGED
    record_event(
        session,
        ticket,
        kind,
        actor=actor,
        public=public,
        note=reason,
        old=previous.value,
        new=target.value,
        **data,
    )
    life.follower().status_changed(session, ticket, previous, target)


def _require_move(ticket: Ticket, target: Status) -> None:
    current = Status(ticket.status)
    if not lifecycle.can_move(current, target):
        raise Conflict(
            _(
                "Phản ánh “{current}” không thể chuyển sang “{target}”.",
                current=status_name(current),
                target=status_name(target),
            ),
            current=current.value,
            allowed=[s.value for s in lifecycle.allowed_next(current)],
        )


def transition(
    session: Session,
    ticket_id: int,
    target: Status,
    *,
    actor: Actor,
    viewer: User | None = None,
    reason: str | None = None,
) -> Ticket:
    """Move a ticket to another status. The row is locked first, so of two concurrent moves from the
    same status only the first can succeed; the second sees the new status and is refused."""
    ticket = get_ticket(session, ticket_id, viewer=viewer, lock=True)
    if viewer is not None:
        permissions.require_status_move(viewer, target, ticket)
    if target in lifecycle.SET_BY_OWN_VERB:
        raise Invalid(
            _("Hãy dùng thao tác giao việc.")
            if target == Status.ASSIGNED
            else _("Hãy dùng thao tác gộp phản ánh.")
        )
    _require_move(ticket, target)
    if target in lifecycle.REASON_REQUIRED and not (reason and reason.strip()):
        raise Invalid(
            REASON_NEEDED_VI.get(target)
            or _("Hãy nêu lý do chuyển sang “{target}”.", target=status_name(target)),
            field="reason",
        )
    if target == Status.REOPENED:
        _check_reopen_window(ticket)
    if is_return(ticket, target, actor):
        _hand_back(session, ticket, actor=actor, reason=reason)
    else:
        _set_status(session, ticket, target, actor=actor, reason=reason)
    return ticket


REASON_NEEDED_VI = {
    Status.WAITING_CITIZEN: _("Hãy ghi điều cần hỏi người dân."),
    Status.REJECTED: _("Hãy ghi lý do từ chối."),
    Status.REOPENED: _("Hãy ghi lý do mở lại."),
}


def is_return(ticket: Ticket, target: Status, actor: Actor) -> bool:
    """A person sends work back to triage: the ticket was with a department or a ward."""
    return (
        target == Status.TRIAGED
        and actor.type == ActorType.STAFF
        and Status(ticket.status) in lifecycle.RETURNABLE
    )


def _hand_back(session: Session, ticket: Ticket, *, actor: Actor, reason: str | None) -> None:
    """Returned work leaves the department's (or ward's) hands and waits in the triage queue with the
    reason, for the desk to route again. The reason is internal: the citizen is not shown it."""
    if not (reason and reason.strip()):
        raise Invalid(
            "Hãy ghi lý do trả lại để bộ phận tiếp nhận định tuyến lại."
            " (Say why the ticket is returned, so the desk can route it again.)",
            field="reason",
        )
    returned_from = {"department": ticket.department_code, "assignee_id": ticket.assignee_id}
    ticket.department_code = None
    ticket.assignee_id = None
    ticket.needs_review = True
    _set_status(
        session,
        ticket,
        Status.TRIAGED,
        actor=actor,
        reason=reason.strip(),
        public=False,
        returned=True,
        returned_from=returned_from,
    )


def _check_reopen_window(ticket: Ticket) -> None:
    days = get_settings().reopen_days
    if ticket.resolved_at is None or utcnow() - ticket.resolved_at > timedelta(days=days):
        raise Conflict(_("Chỉ mở lại được trong {days} ngày sau khi xử lý; hãy gửi phản ánh mới.", days=days))


def assign(
    session: Session,
    ticket_id: int,
    *,
    department: str | None,
    assignee_id: int | None = None,
    actor: Actor,
    viewer: User | None = None,
    reason: str | None = None,
    rule: str | None = None,
) -> Ticket:
    """Route a ticket to a department (and optionally a person), or with no department keep it with its
    ward's officers. A move to another department (or to the ward) puts it back to ``assigned`` for the
    new holder to accept; the SLA clock is not restarted. ``rule`` names the routing rule that chose it."""
    ticket = get_ticket(session, ticket_id, viewer=viewer, lock=True)
    dept: Department | None = _check_reference(session, Department, department, "department")
    if dept is None and ticket.ward_code is None:
        raise Invalid(
            _("Phản ánh chưa có phường/xã: hãy chọn phòng ban hoặc phường/xã trước."),
            field="department",
        )
    assignee = _check_assignee(session, assignee_id, dept, ticket.ward_code)
    if viewer is not None:
        permissions.require_assign(viewer, ticket, department=department)
    status = Status(ticket.status)
    department_code = dept.code if dept else None
    moves_department = ticket.department_code != department_code
    if status not in OPEN_STATUSES:
        raise Conflict(
            _("Phản ánh “{status}” không thể giao; hãy mở lại trước.", status=status_name(status)),
            current=status.value,
        )
    previous = {"department": ticket.department_code, "assignee_id": ticket.assignee_id}
    ticket.department_code = department_code
    ticket.assignee_id = assignee.id if assignee else None
    ticket.needs_review = False
    ticket.updated_at = utcnow()
    extra: dict[str, Any] = {"rule": rule} if rule else {}
    record_event(
        session,
        ticket,
        EventKind.ASSIGNED,
        actor=actor,
        public=moves_department,
        note=reason,
        department=department_code,
        ward=None if dept else ticket.ward_code,
        assignee_id=ticket.assignee_id,
        previous=previous,
        **extra,
    )
    if status != Status.ASSIGNED and (
        moves_department or status in {Status.NEW, Status.TRIAGED, Status.REOPENED}
    ):
        _set_status(session, ticket, Status.ASSIGNED, actor=actor, reason=None)
    return ticket


def _check_assignee(
    session: Session, assignee_id: int | None, department: Department | None, ward: str | None
) -> User | None:
    if assignee_id is None:
        return None
    user = session.get(User, assignee_id)
    if user is None or not user.active:
        raise Invalid(
            _("Không có cán bộ đang hoạt động số {number}.", number=assignee_id), field="assignee_id"
        )
    if department is None:
        if user.role != Role.WARD_OFFICER or user.ward_code != ward:
            raise Invalid(
                _("{username} không phải cán bộ của phường/xã này.", username=user.username),
                field="assignee_id",
            )
        return user
    if user.role == Role.DEPARTMENT_STAFF and user.department_code != department.code:
        raise Invalid(
            _(
                "{username} thuộc đơn vị khác, không thuộc {department}.",
                username=user.username,
                department=department.name_vi,
            ),
            field="assignee_id",
        )
    return user


def add_comment(
    session: Session, ticket_id: int, *, text: str, public: bool, actor: Actor, viewer: User | None = None
) -> TicketEvent:
    """An internal note, or a public reply that the citizen sees (and the channels deliver)."""
    if not text.strip():
        raise Invalid(_("Nội dung trả lời đang trống."), field="text")
    if len(text) > get_settings().description_max_chars:
        raise Invalid(_("Nội dung trả lời quá dài."), field="text")
    ticket = get_ticket(session, ticket_id, viewer=viewer)
    ticket.updated_at = utcnow()
    event = record_event(session, ticket, EventKind.COMMENT, actor=actor, public=public, note=text.strip())
    session.flush()  # the caller answers with the event's number
    return event


EDITABLE_FIELDS = (
    "title",
    "public_description",
    "category_code",
    "ward_code",
    "priority",
    "address_text",
    "hidden_from_public",
    "legal_process",
)


def update_ticket(
    session: Session, ticket_id: int, changes: dict[str, Any], *, actor: Actor, viewer: User | None = None
) -> Ticket:
    """Edit a ticket's details. A category, ward or priority change by a person is a correction, kept on
    the timeline with the old value so triage can learn from it."""
    ticket = get_ticket(session, ticket_id, viewer=viewer, lock=True)
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise Invalid(_("Không sửa được các mục: {fields}", fields=", ".join(sorted(unknown))))
    if "category_code" in changes:
        new_category = _check_reference(session, Category, changes["category_code"], "category")
        changes = _priority_follows_category(session, ticket, new_category, changes)
    if "ward_code" in changes:
        _check_reference(session, Ward, changes["ward_code"], "ward")
    if "priority" in changes and changes["priority"] not in {p.value for p in Priority}:
        raise Invalid(
            _("Mức ưu tiên phải là một trong: {known}", known=", ".join(p.value for p in Priority)),
            field="priority",
        )
    diff = {
        name: [getattr(ticket, name), value]
        for name, value in changes.items()
        if getattr(ticket, name) != value
    }
    if not diff:
        return ticket
    if viewer is not None:
        permissions.require_fields(viewer, set(diff))
    for name, (_old, value) in diff.items():
        setattr(ticket, name, value)
    ticket.updated_at = utcnow()
    corrected = {"category_code", "ward_code", "priority"} & set(diff)
    kind = EventKind.CLASSIFIED if corrected else EventKind.EDITED
    record_event(session, ticket, kind, actor=actor, changes=diff, correction=bool(corrected))
    return ticket


def _priority_follows_category(
    session: Session, ticket: Ticket, new_category: Category | None, changes: dict[str, Any]
) -> dict[str, Any]:
    """A reclassified ticket takes the new category's priority, unless a person set one on purpose."""
    old_category = session.get(Category, ticket.category_code) if ticket.category_code else None
    set_by_default = old_category is None or ticket.priority == old_category.priority
    if "priority" in changes or new_category is None or not set_by_default:
        return changes
    return {**changes, "priority": new_category.priority}


def merge(
    session: Session, ticket_id: int, *, into_id: int, actor: Actor, viewer: User | None = None
) -> Ticket:
    """Mark a ticket as a duplicate of another; both timelines say so."""
    if ticket_id == into_id:
        raise Invalid(_("Không thể gộp phản ánh vào chính nó."))
    ticket = get_ticket(session, ticket_id, viewer=viewer, lock=True)
    target = get_ticket(session, into_id, viewer=viewer)
    if target.status == Status.DUPLICATE:
        original = session.get(Ticket, target.duplicate_of_id) if target.duplicate_of_id else None
        raise Conflict(
            _(
                "{code} đã được gộp vào {original}; hãy gộp vào phản ánh đó.",
                code=target.code,
                original=original.code if original else "—",
            )
        )
    _require_move(ticket, Status.DUPLICATE)
    ticket.duplicate_of_id = target.id
    record_event(session, ticket, EventKind.MERGED, actor=actor, public=True, into=target.code)
    record_event(session, target, EventKind.MERGED, actor=actor, merged=ticket.code)
    _set_status(session, ticket, Status.DUPLICATE, actor=actor, reason=f"duplicate of {target.code}")
    return ticket


def split_message(
    session: Session, ticket_id: int, message_id: int, *, actor: Actor, viewer: User | None = None
) -> Ticket:
    """A message that is really another problem becomes its own ticket (then triaged like any other)."""
    ticket = get_ticket(session, ticket_id, viewer=viewer, lock=True)
    message = session.get(Message, message_id)
    if message is None or message.ticket_id != ticket.id:
        raise NotFound(
            _("Phản ánh {code} không có tin nhắn số {number}.", code=ticket.code, number=message_id)
        )
    if message.direction != Direction.INBOUND or not message.text.strip():
        raise Invalid(_("Chỉ tin nhắn có nội dung của người dân mới tách thành phản ánh riêng được."))
    first = session.exec(
        select(Message).where(Message.ticket_id == ticket.id).order_by(col(Message.id))
    ).first()
    if first is not None and first.id == message.id:
        raise Conflict(_("Tin nhắn này mở đầu phản ánh; không tách ra được."))
    citizen = session.get(Citizen, ticket.citizen_id) if ticket.citizen_id else None
    new = create_ticket(
        session,
        NewTicket(description=message.text, channel=Channel(message.channel), created_at=message.created_at),
        actor=actor,
    )
    new.citizen_id = citizen.id if citizen else None
    opening = session.exec(select(Message).where(Message.ticket_id == new.id)).one()
    session.delete(opening)  # the split message itself opens the new ticket
    message.ticket_id = new.id
    record_event(
        session,
        ticket,
        EventKind.EDITED,
        actor=actor,
        note=_("Tin nhắn đã tách thành {code}", code=new.code),
        split_into=new.code,
        message_id=message.id,
    )
    record_event(
        session,
        new,
        EventKind.EDITED,
        actor=actor,
        note=_("Tách từ {code}", code=ticket.code),
        split_from=ticket.code,
    )
    return new


def rate(session: Session, ticket_id: int, *, rating: int, comment: str | None = None) -> Ticket:
    ticket = get_ticket(session, ticket_id, lock=True)
    if ticket.status not in (Status.RESOLVED, Status.CLOSED):
        raise Conflict(_("Chỉ đánh giá được khi phản ánh đã xử lý xong."))
    if not 1 <= rating <= 5:
        raise Invalid(_("Số sao từ 1 đến 5."), field="rating")
    ticket.rating = rating
    record_event(session, ticket, EventKind.RATED, actor=CITIZEN, public=True, note=comment, rating=rating)
    return ticket


def record_message(session: Session, message: Message) -> tuple[Message, bool]:
    """Store a message once: a redelivered provider message id returns the stored one and False."""
    if message.provider_message_id:
        existing = _stored_message(session, message)
        if existing:
            return existing, False
    try:
        with session.begin_nested():
            session.add(message)
    except IntegrityError:  # stored meanwhile by a concurrent delivery of the same message
        stored = _stored_message(session, message)
        assert stored is not None
        return stored, False
    return message, True


def _stored_message(session: Session, message: Message) -> Message | None:
    query = select(Message).where(
        Message.channel == message.channel, Message.provider_message_id == message.provider_message_id
    )
    return session.exec(query).first()


def close_resolved_before(session: Session, cutoff: datetime, *, limit: int = 500) -> list[str]:
    """Close resolved tickets whose dispute window has passed; returns their codes."""
    query = (
        select(Ticket)
        .where(Ticket.status == Status.RESOLVED, col(Ticket.resolved_at) < cutoff)
        .order_by(col(Ticket.resolved_at))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    closed = []
    for ticket in session.exec(query).all():
        _set_status(session, ticket, Status.CLOSED, actor=SYSTEM, reason=None)
        closed.append(ticket.code)
    return closed

"""The citizen's side of the conversation on the status page: an answer to the city's question, or more
information while the report is open. One submission id makes one message, however often it is sent."""

from __future__ import annotations

from typing import Any, Protocol

from sqlmodel import Session, select

from kernel.errors import Conflict, Invalid
from kernel.i18n import _
from kernel.settings import get_settings
from kernel.text import clean_text
from tickets import service
from tickets.attachments import store_attachment
from tickets.models import OPEN_STATUSES, Channel, Direction, EventKind, Message, Status, Ticket
from tickets.photos import clean_photo
from tickets.service import CITIZEN

PROVIDER_PREFIX = "status-page:"
# what the SLA hook and the status page look for on the citizen's message event
VIA_STATUS_PAGE = "status_page"


def citizen_reply(
    session: Session,
    ticket: Ticket,
    *,
    text: str,
    photos: list[tuple[str | None, bytes]],
    submission_id: str | None = None,
) -> Message:
    """Record what the citizen wrote through the status page. An answer while the city waits for them
    puts the ticket back in progress (the SLA clocks run again); the assignee hears of it either way."""
    locked = service.get_ticket(session, ticket.id or 0, lock=True)
    provider_id = f"{PROVIDER_PREFIX}{submission_id}" if submission_id else None
    if provider_id and (earlier := _already_sent(session, provider_id)) is not None:
        return earlier
    _require_open(locked)
    body = clean_text(text).strip()
    _validate(body, photos)
    cleaned = [(name, clean_photo(data)) for name, data in photos]
    message, _ = service.record_message(
        session,
        Message(
            ticket_id=locked.id,
            citizen_id=locked.citizen_id,
            channel=Channel.WEB,
            direction=Direction.INBOUND,
            provider_message_id=provider_id,
            text=body,
        ),
    )
    for name, photo in cleaned:
        store_attachment(
            session,
            data=photo.data,
            original_name=name,
            ticket_id=locked.id,
            message_id=message.id,
            purpose="evidence",
        )
    answered = locked.status == Status.WAITING_CITIZEN
    locked.updated_at = message.created_at
    service.record_event(
        session,
        locked,
        EventKind.MESSAGE_RECEIVED,
        actor=CITIZEN,
        public=True,
        note=body or None,
        message_id=message.id,
        photos=len(cleaned),
        via=VIA_STATUS_PAGE,
        answer=answered,
    )
    if answered:
        service.transition(
            session, locked.id or 0, Status.IN_PROGRESS, actor=CITIZEN, reason="người dân đã trả lời"
        )
    return message


def _already_sent(session: Session, provider_id: str) -> Message | None:
    query = select(Message).where(Message.channel == Channel.WEB, Message.provider_message_id == provider_id)
    return session.exec(query).first()


def _require_open(ticket: Ticket) -> None:
    if ticket.status not in OPEN_STATUSES:
        raise Conflict(
            _("Phản ánh này đã kết thúc nên không nhận thêm tin nhắn; hãy gửi phản ánh mới."),
            reason="reply_closed",
            current=ticket.status,
        )


def _validate(body: str, photos: list[tuple[str | None, bytes]]) -> None:
    if not body and not photos:
        raise Invalid(
            _("Hãy viết nội dung hoặc gửi kèm ảnh."),
            field="text",
            reason="reply_empty",
        )
    limit = get_settings().description_max_chars
    if len(body) > limit:
        raise Invalid(
            _("Nội dung dài {length} ký tự; tối đa {limit}.", length=len(body), limit=limit),
            field="text",
            reason="reply_too_long",
        )


class KindAndData(Protocol):
    """An event as far as telling its kind goes: the ORM's row or the status page's ``TimelineEntry``."""

    @property
    def kind(self) -> str: ...
    @property
    def data(self) -> dict[str, Any]: ...


def is_status_page_message(event: KindAndData) -> bool:
    return event.kind == EventKind.MESSAGE_RECEIVED and event.data.get("via") == VIA_STATUS_PAGE

"""Which ticket events tell the citizen, on which route, in which words — queued in THE outbox
(channels' outbound_message), once per event and route.

Route choice: the citizen's own conversation first when its window allows (Zalo OA 7 days; Messenger
24 hours, 7 days for a person's reply; one private reply per Facebook comment), then the fallbacks in
the order administrators set (ZNS, SMS brandname, e-mail by default). A route that fails for good hands
the same event to the next one. SMS waits for the morning in quiet hours unless the report is urgent.
A citizen who stopped updates gets none (a person's reply in their own conversation still goes)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from channels import templates
from channels.clients import configured
from channels.models import NotificationSetting, OutboundMessage, OutboxState
from kernel.db import send_task_after_commit
from kernel.errors import Invalid
from kernel.i18n import _, label
from kernel.settings import get_settings
from kernel.timeutil import as_utc, city_tz, utcnow
from notifications.adapters import sms_segments, without_diacritics
from notifications.ports import FALLBACK_ROUTES, OWN_ROUTES, Route
from tickets import service as tickets
from tickets.citizens import dialable_phone, identities_of
from tickets.links import tracking_url
from tickets.models import (
    ActorType,
    Citizen,
    Direction,
    EventKind,
    IdentityKind,
    Message,
    Priority,
    Status,
    Ticket,
    TicketEvent,
)

log = logging.getLogger(__name__)

ZALO_WINDOW = timedelta(days=7)
MESSENGER_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
PRIVATE_REPLY_WINDOW = timedelta(days=7)
FALLBACK_ORDER_KEY = "fallback_order"
NOTIFIED = {
    Status.ASSIGNED,
    Status.WAITING_CITIZEN,
    Status.RESOLVED,
    Status.REJECTED,
    Status.DUPLICATE,
    Status.REOPENED,
}
PAID_ROUTES = (Route.ZNS, Route.SMS)
STOPPED_NOTE = _("Người dân đã yêu cầu ngừng nhận thông báo")


@dataclass(frozen=True)
class Notice:
    """What one ticket event tells the citizen."""

    event_id: int
    purpose: str  # the template key
    note: str = ""
    human: bool = False


@dataclass(frozen=True)
class Planned:
    route: Route
    recipient: str
    to_comment: bool = False


# --- which events notify --------------------------------------------------------------------------


def notice_for(event: TicketEvent) -> Notice | None:
    assert event.id is not None
    if event.kind == EventKind.CREATED:
        return Notice(event.id, "receipt")
    if event.kind in (EventKind.STATUS_CHANGED, EventKind.REOPENED):
        old, new = event.data.get("old"), event.data.get("new")
        if new not in NOTIFIED or (new == old == Status.ASSIGNED):
            return None
        # the citizen's own reason for reopening is not read back to them
        note = "" if new == Status.REOPENED else event.note or ""
        return Notice(event.id, f"status_{new}", note)
    if (
        event.kind == EventKind.COMMENT
        and event.public
        and event.actor_type == ActorType.STAFF
        and event.note
    ):
        return Notice(event.id, "reply", event.note, human=True)
    return None


def on_event(session: Session, ticket: Ticket, event: TicketEvent) -> None:
    """The ticket core's hook: every timeline event passes here, in the transaction that records it."""
    if event.kind not in (EventKind.CREATED, EventKind.STATUS_CHANGED, EventKind.REOPENED, EventKind.COMMENT):
        return
    session.flush()  # the event's id is part of the idempotency key
    notice = notice_for(event)
    if notice is not None:
        notify(session, ticket, notice)


def notify(session: Session, ticket: Ticket, notice: Notice) -> OutboundMessage | None:
    citizen = session.get(Citizen, ticket.citizen_id) if ticket.citizen_id else None
    if citizen is None:
        return None  # nobody to tell (an anonymous call)
    routes, reasons = plan(session, ticket, human=notice.human)
    if citizen.updates_stopped_at is not None:
        routes = [r for r in routes if notice.human and r.route in OWN_ROUTES]
    if not routes:
        if reasons and citizen.updates_stopped_at is None:
            tickets.record_event(
                session,
                ticket,
                EventKind.REPLY_FAILED,
                purpose=notice.purpose,
                note=_("Không gửi được thông báo cho người dân: {reasons}", reasons=reasons),
            )
        return None
    return queue(session, ticket, notice, routes[0], [r.route for r in routes[1:]])


# --- route choice ---------------------------------------------------------------------------------


def fallback_order(session: Session) -> list[Route]:
    row = session.get(NotificationSetting, FALLBACK_ORDER_KEY)
    names = row.value if row else [n for n in get_settings().notify_fallback_order.split(",") if n]
    return [Route(name) for name in names]


def set_fallback_order(session: Session, order: list[str]) -> list[Route]:
    known = {r.value for r in FALLBACK_ROUTES}
    if not set(order) <= known or len(set(order)) != len(order):
        raise Invalid(
            _("Thứ tự kênh dự phòng chỉ gồm {known}, mỗi kênh một lần", known=", ".join(sorted(known))),
            field="order",
        )
    row = session.get(NotificationSetting, FALLBACK_ORDER_KEY) or NotificationSetting(key=FALLBACK_ORDER_KEY)
    row.value, row.updated_at = list(order), utcnow()
    session.add(row)
    return [Route(name) for name in order]


def _mode(route: Route) -> str:
    settings = get_settings()
    return {Route.ZNS: settings.zns_mode, Route.SMS: settings.sms_mode, Route.EMAIL: settings.email_mode}[
        route
    ]


def plan(session: Session, ticket: Ticket, *, human: bool) -> tuple[list[Planned], list[str]]:
    """The routes that can reach this ticket's citizen now, best first; and why others cannot."""
    assert ticket.citizen_id is not None
    found: dict[str, str] = {}
    for identity in identities_of(session, ticket.citizen_id):
        found.setdefault(identity.kind, identity.value)
    routes: list[Planned] = []
    reasons: list[str] = []
    own, why = _own_route(session, ticket, found, human=human)
    if own is not None:
        routes.append(own)
    elif why:
        reasons.append(why)
    for route in fallback_order(session):
        planned = _fallback(route, found)
        if planned is not None and _mode(route) != "off":
            routes.append(planned)
    return routes, reasons


def _fallback(route: Route, found: dict[str, str]) -> Planned | None:
    phone = found.get(IdentityKind.PHONE)
    if route == Route.EMAIL:
        email = found.get(IdentityKind.EMAIL)
        return Planned(route, email) if email else None
    if not phone or not phone.startswith("+84"):
        return None  # ZNS and brandname SMS reach Vietnamese numbers
    return Planned(route, phone[1:] if route == Route.ZNS else dialable_phone(phone))


def _own_route(
    session: Session, ticket: Ticket, found: dict[str, str], *, human: bool
) -> tuple[Planned | None, str | None]:
    channel = ticket.origin_channel
    if channel not in OWN_ROUTES:
        return None, None
    if not configured(channel):
        return None, _(
            "Kênh {channel} chưa được cấu hình: người dân chưa nhận được tin", channel=label("ch_", channel)
        )
    if channel == Route.ZALO:
        user = found.get(IdentityKind.ZALO)
        last = last_inbound(session, ticket.citizen_id, "zalo")
        if user and last and utcnow() - last <= ZALO_WINDOW:
            return Planned(Route.ZALO, user), None
        return None, _("đã quá 7 ngày từ tin nhắn Zalo cuối")
    comment = _opening_comment(session, ticket)
    if comment is not None and not _private_reply_used(session, comment[0]):
        if utcnow() - comment[1] <= PRIVATE_REPLY_WINDOW:
            return Planned(Route.FACEBOOK, comment[0], to_comment=True), None
    psid = found.get(IdentityKind.FACEBOOK)
    last = last_inbound(session, ticket.citizen_id, "facebook", messenger_only=True)
    window = HUMAN_AGENT_WINDOW if human else MESSENGER_WINDOW
    if psid and last and utcnow() - last <= window:
        return Planned(Route.FACEBOOK, psid), None
    return None, _("ngoài khung thời gian nhắn tin Messenger")


def last_inbound(
    session: Session, citizen_id: int | None, channel: str, *, messenger_only: bool = False
) -> datetime | None:
    query = select(func.max(Message.created_at)).where(
        Message.citizen_id == citizen_id, Message.channel == channel, Message.direction == Direction.INBOUND
    )
    if messenger_only:
        query = query.where(func.coalesce(Message.provider_message_id, "").not_like("comment:%"))
    last = session.exec(query).one()
    return as_utc(last) if last else None


def _opening_comment(session: Session, ticket: Ticket) -> tuple[str, datetime] | None:
    opening = session.exec(
        select(Message)
        .where(Message.ticket_id == ticket.id, Message.direction == Direction.INBOUND)
        .order_by(col(Message.id))
    ).first()
    if opening and opening.provider_message_id and opening.provider_message_id.startswith("comment:"):
        return opening.provider_message_id.split(":")[1], as_utc(opening.created_at)
    return None


def _private_reply_used(session: Session, comment_id: str) -> bool:
    """A comment allows one private reply, ever: any earlier try (even a failed one) spends it."""
    used = session.exec(
        select(OutboundMessage.id).where(
            col(OutboundMessage.reply_to_comment).is_(True), OutboundMessage.recipient == comment_id
        )
    ).first()
    return used is not None


# --- the outbox -----------------------------------------------------------------------------------


def event_key(ticket_id: int | None, event_id: int, route: str) -> str:
    return f"t{ticket_id}:e{event_id}:{route}"


def queue(
    session: Session, ticket: Ticket, notice: Notice, planned: Planned, rest: list[Route]
) -> OutboundMessage | None:
    key = event_key(ticket.id, notice.event_id, planned.route)
    if session.exec(select(OutboundMessage.id).where(OutboundMessage.event_key == key)).first():
        return None  # this event already went this way
    citizen = session.get(Citizen, ticket.citizen_id) if ticket.citizen_id else None
    language = citizen.language if citizen and citizen.language == "en" else "vi"
    link = tracking_url(ticket.tracking_token)
    status = templates.status_word(notice.purpose, language)
    values = {"code": ticket.code, "link": link, "note": notice.note, "status": status}
    text = templates.render(session, notice.purpose, language=language, **values)
    not_before = (
        quiet_until(utcnow()) if planned.route == Route.SMS and ticket.priority != Priority.URGENT else None
    )
    outbound = OutboundMessage(
        ticket_id=ticket.id,
        channel=planned.route,
        recipient=planned.recipient,
        reply_to_comment=planned.to_comment,
        purpose=notice.purpose,
        text=text,
        event_key=key,
        fallbacks=",".join(rest),
        not_before=not_before,
        payload=_payload(session, notice, values, language, link),
    )
    session.add(outbound)
    session.flush()
    log.info(  # the route and the purpose, never the recipient or the words
        "outbound queued",
        extra={
            "outbound_id": outbound.id,
            "ticket": ticket.code,
            "route": planned.route,
            "purpose": notice.purpose,
            "held_until": not_before.isoformat() if not_before else None,
            "fallbacks": outbound.fallbacks or None,
        },
    )
    if not_before is None:
        from notifications.tasks import send_outbound

        send_task_after_commit(session, send_outbound, outbound.id)
    return outbound


def _payload(
    session: Session, notice: Notice, values: dict[str, str], language: str, link: str
) -> dict[str, Any]:
    return {
        "event_id": notice.event_id,
        "human": notice.human,
        "note": notice.note,
        "link": link,
        "subject": templates.render(session, "email_subject", language=language, **values),
        "unsubscribe_url": f"{link}/stop-updates",
        "template_data": {  # the parameters of the approved ZNS template
            "ma_phan_anh": values["code"],
            "trang_thai": values["status"],
            "noi_dung": notice.note[:400],
            "duong_dan": link,
        },
    }


def quiet_until(now: datetime) -> datetime | None:
    """The end of the SMS quiet hours (in UTC) if ``now`` falls within them, else None."""
    window = get_settings().sms_quiet_hours
    if not window:
        return None
    start, end = (time.fromisoformat(part) for part in window.split("-"))
    local = now.astimezone(city_tz())
    clock = local.time()
    inside = start <= clock or clock < end if start > end else start <= clock < end
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=city_tz()).astimezone(as_utc(now).tzinfo)


def cost_of(outbound: OutboundMessage) -> int:
    settings = get_settings()
    if outbound.channel == Route.ZNS:
        return settings.zns_cost_vnd
    if outbound.channel == Route.SMS:
        return settings.sms_cost_vnd * sms_segments(without_diacritics(outbound.text))
    return 0


def fall_back(session: Session, failed: OutboundMessage) -> OutboundMessage | None:
    """The same event on the next route still possible, after a route failed for good."""
    ticket = session.get(Ticket, failed.ticket_id) if failed.ticket_id else None
    event_id = failed.payload.get("event_id")
    if ticket is None or ticket.citizen_id is None or not failed.fallbacks or not isinstance(event_id, int):
        return None
    citizen = session.get(Citizen, ticket.citizen_id)
    if citizen is not None and citizen.updates_stopped_at is not None:
        return None
    notice = Notice(
        event_id, failed.purpose, str(failed.payload.get("note") or ""), bool(failed.payload.get("human"))
    )
    possible = {p.route: p for p in plan(session, ticket, human=notice.human)[0]}
    remaining = [Route(name) for name in failed.fallbacks.split(",")]
    for index, route in enumerate(remaining):
        if route in possible:
            log.info(
                "outbound falls back",
                extra={
                    "outbound_id": failed.id,
                    "ticket": ticket.code,
                    "failed_route": failed.channel,
                    "route": route,
                },
            )
            return queue(session, ticket, notice, possible[route], remaining[index + 1 :])
    log.warning(
        "outbound has no route left",
        extra={"outbound_id": failed.id, "ticket": ticket.code, "failed_route": failed.channel},
    )
    return None


def stop_updates(session: Session, ticket: Ticket) -> None:
    """The citizen asked for no more updates: stored on the person, and what waits in the outbox for
    them is dropped (kept, failed, with the reason)."""
    citizen = session.get(Citizen, ticket.citizen_id) if ticket.citizen_id else None
    if citizen is None or citizen.updates_stopped_at is not None:
        return
    citizen.updates_stopped_at = utcnow()
    waiting = session.exec(
        select(OutboundMessage)
        .join(Ticket, col(Ticket.id) == OutboundMessage.ticket_id)
        .where(Ticket.citizen_id == citizen.id, OutboundMessage.state == OutboxState.QUEUED)
        .with_for_update(of=OutboundMessage)
    ).all()
    for outbound in waiting:
        if not outbound.payload.get("human"):
            outbound.state, outbound.error = OutboxState.FAILED, STOPPED_NOTE
    tickets.record_event(session, ticket, EventKind.EDITED, actor=tickets.CITIZEN, note=STOPPED_NOTE)


# --- the cost report ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CostRow:
    department_code: str | None
    route: str
    messages: int
    cost_vnd: int


def costs(session: Session, *, since: datetime, until: datetime) -> list[CostRow]:
    """Paid messages (ZNS, SMS) sent in [since, until), per department of their ticket."""
    query = (
        select(Ticket.department_code, OutboundMessage.channel, func.count(), func.sum(OutboundMessage.cost))
        .join(Ticket, col(Ticket.id) == OutboundMessage.ticket_id)
        .where(
            col(OutboundMessage.channel).in_([r.value for r in PAID_ROUTES]),
            OutboundMessage.state == OutboxState.SENT,
            col(OutboundMessage.sent_at) >= since,
            col(OutboundMessage.sent_at) < until,
        )
        .group_by(col(Ticket.department_code), col(OutboundMessage.channel))
        .order_by(col(Ticket.department_code), col(OutboundMessage.channel))
    )
    return [
        CostRow(dept, route, int(n), int(total or 0)) for dept, route, n, total in session.exec(query).all()
    ]

"""Facebook threading: our private reply to a page comment opens a Messenger conversation with the
commenter, whose page-scoped id (PSID) differs from the id their comment carried. Once we learn the
PSID the private reply went to (from its echo, or from the Send API's `recipient_id`), what that person
writes on Messenger joins the comment's ticket, and the PSID becomes one more identifier of the person."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlmodel import Session, col, select

from channels.models import OutboundMessage
from tickets.citizens import PROVIDER, Claim, add_verified
from tickets.models import OPEN_STATUS_ORDER, Citizen, IdentityKind, MessengerThread, Ticket


def remember_private_reply(session: Session, *, ticket_id: int, comment_id: str, psid: str) -> Ticket | None:
    """The private reply about `comment_id` (ticket `ticket_id`) reached the person known on Messenger
    as `psid`. Idempotent: a repeated echo changes nothing."""
    ticket = session.get(Ticket, ticket_id)
    if ticket is None or not psid:
        return None
    session.execute(
        insert(MessengerThread)
        .values(psid=psid, ticket_id=ticket_id, comment_id=comment_id)
        .on_conflict_do_nothing(index_elements=["psid", "ticket_id"])
    )
    citizen = session.get(Citizen, ticket.citizen_id) if ticket.citizen_id else None
    if citizen is not None:
        add_verified(session, citizen, Claim(IdentityKind.FACEBOOK, psid, PROVIDER))
    return ticket


def private_reply_echoed(session: Session, mid: str, psid: str | None) -> Ticket | None:
    """An echo of one of our own private replies ties its recipient to the comment's ticket."""
    ours = session.exec(
        select(OutboundMessage).where(
            OutboundMessage.provider_message_id == mid,
            OutboundMessage.channel == "facebook",
            col(OutboundMessage.reply_to_comment).is_(True),
        )
    ).first()
    if ours is None or ours.ticket_id is None or not psid:
        return None
    return remember_private_reply(session, ticket_id=ours.ticket_id, comment_id=ours.recipient, psid=psid)


def thread_ticket(session: Session, psid: str) -> Ticket | None:
    """The open ticket whose comment we privately answered this person about, the latest first."""
    return session.exec(
        select(Ticket)
        .join(MessengerThread, col(MessengerThread.ticket_id) == col(Ticket.id))
        .where(MessengerThread.psid == psid, col(Ticket.status).in_(OPEN_STATUS_ORDER))
        .order_by(col(MessengerThread.id).desc())
    ).first()

"""Asking a Messenger or Zalo user for their phone, and recognising the answer: a message that is only
a phone number, from the person we asked, before they wrote anything else on that ticket, counts as
given through the channel (like Messenger's phone quick reply) and links them to whoever verifiably
holds that number — a caller, say. Asking is notifications' (notifications/phone_question.py): the
question goes through the outbox like every message."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, col, select

from channels.adapter import InboundMessage
from channels.models import OutboundMessage
from kernel.timeutil import as_utc, utcnow
from tickets.models import Direction, Message, Ticket

PURPOSE = "ask_phone"
ANSWER_WITHIN = timedelta(days=7)
PHONE_CHARACTERS = set("+0123456789 ()-.")


def looks_like_phone(text: str) -> bool:
    value = text.strip()
    digits = sum(ch.isdigit() for ch in value)
    return 8 <= digits <= 15 and set(value) <= PHONE_CHARACTERS


def answers_question(session: Session, ticket: Ticket | None, message: InboundMessage) -> bool:
    """This message is the person's answer to our question on `ticket`: a bare number, the first thing
    they wrote on it since we asked, within a week."""
    if ticket is None or not looks_like_phone(message.text):
        return False
    asked = session.exec(
        select(OutboundMessage)
        .where(OutboundMessage.ticket_id == ticket.id, OutboundMessage.purpose == PURPOSE)
        .order_by(col(OutboundMessage.id).desc())
    ).first()
    if asked is None or as_utc(asked.created_at) < utcnow() - ANSWER_WITHIN:
        return False
    since = session.exec(
        select(Message.id).where(
            Message.ticket_id == ticket.id,
            Message.direction == Direction.INBOUND,
            col(Message.created_at) > asked.created_at,
        )
    ).first()
    return since is None

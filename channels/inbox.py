"""The agents' unified inbox: Zalo and Facebook conversations whose last word is the citizen's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, col, select

from tickets.models import Channel, Direction, Message, Ticket
from tickets.service import visible_to
from tickets.staff import User

CONVERSATION_CHANNELS = (Channel.ZALO, Channel.FACEBOOK)


@dataclass(frozen=True)
class Conversation:
    ticket: Ticket
    channel: str
    last_text: str
    last_at: datetime
    waiting: bool  # the citizen spoke last: someone owes an answer


def inbox(
    session: Session, viewer: User, *, waiting_only: bool = False, limit: int = 100
) -> list[Conversation]:
    """Conversations the viewer may see, those waiting for an answer first, the longest-waiting on top."""
    latest = (
        select(col(Message.ticket_id), func.max(Message.id).label("last_id"))
        .where(col(Message.channel).in_(CONVERSATION_CHANNELS), col(Message.ticket_id).is_not(None))
        .group_by(col(Message.ticket_id))
        .subquery()
    )
    query = (
        select(Ticket, Message)
        .join(latest, col(Ticket.id) == latest.c.ticket_id)
        .join(Message, col(Message.id) == latest.c.last_id)
        .where(*visible_to(viewer))
    )
    if waiting_only:
        query = query.where(Message.direction == Direction.INBOUND)
    rows = session.exec(query).all()
    conversations = [
        Conversation(
            ticket, message.channel, message.text, message.created_at, message.direction == "inbound"
        )
        for ticket, message in rows
    ]
    stamp = {id(c): c.last_at.timestamp() for c in conversations}
    conversations.sort(key=lambda c: (not c.waiting, stamp[id(c)] if c.waiting else -stamp[id(c)]))
    return conversations[:limit]

"""Asking a Messenger or Zalo user for their phone number: the question is queued on the ticket's own
channel through the outbox, like every message; recognising the answer is channels'
(channels/phone_question.py)."""

from __future__ import annotations

from sqlmodel import Session

from channels.models import OutboundMessage
from channels.phone_question import PURPOSE
from channels.service import REPLY_CHANNELS
from kernel.errors import Invalid
from notifications.service import Notice, notify
from tickets import service as tickets
from tickets.models import EventKind, Ticket
from tickets.service import SYSTEM


def ask(session: Session, ticket: Ticket) -> OutboundMessage:
    """Queue the question on the ticket's own channel (through the outbox, like every message)."""
    if ticket.origin_channel not in REPLY_CHANNELS:
        raise Invalid(
            f"Phản ánh {ticket.code} đến qua kênh {ticket.origin_channel}: chỉ hỏi số điện thoại"
            " qua Zalo hoặc Messenger.",
        )
    asked = tickets.record_event(
        session, ticket, EventKind.COMMENT, actor=SYSTEM, note="Đã hỏi số điện thoại của người dân"
    )
    session.flush()
    # a person pressed the button: the message may go as a person's reply on the citizen's channel
    queued = notify(session, ticket, Notice(asked.id or 0, PURPOSE, human=True))
    if queued is None or queued.channel not in REPLY_CHANNELS:
        raise Invalid(f"Không gửi được câu hỏi cho người dân của phản ánh {ticket.code} trên kênh này.")
    return queued

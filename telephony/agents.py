"""Which CivicDesk user answers at which queue interface: the link a screen pop follows from the PBX's
agent to the staff member's console. Written once for the API and the CLI."""

from __future__ import annotations

from sqlmodel import Session, select

from kernel.errors import Invalid, NotFound
from kernel.i18n import _
from telephony.models import QueueMember
from tickets.staff import User


def link_agent(session: Session, *, interface: str, username: str, extension: str | None) -> QueueMember:
    """Tie a queue member's interface (e.g. PJSIP/agent101) to a user; the user's earlier interface, if
    any, loses the link (one person sits at one phone). The extension is kept when none is given."""
    if "/" not in interface:
        raise Invalid(
            _(
                "{interface} không phải tên giao diện; hãy viết như Asterisk, ví dụ PJSIP/agent101",
                interface=interface,
            ),
            field="interface",
        )
    user = session.exec(select(User).where(User.username == username)).first()
    if user is None:
        raise NotFound(_("không có người dùng {username}", username=username))
    for other in session.exec(select(QueueMember).where(QueueMember.user_id == user.id)):
        other.user_id = None
        session.add(other)
    session.flush()
    member = session.get(QueueMember, interface) or QueueMember(interface=interface)
    member.user_id, member.extension = user.id, extension or member.extension
    session.add(member)
    return member


def queue_members(session: Session) -> list[QueueMember]:
    """Every queue member the PBX reported, by interface, with the staff member linked to it."""
    return list(session.exec(select(QueueMember).order_by(QueueMember.interface)).all())


def member_of(session: Session, user_id: int | None) -> QueueMember | None:
    """The queue interface a staff member sits at, if they are linked to one."""
    return session.exec(select(QueueMember).where(QueueMember.user_id == user_id)).first()

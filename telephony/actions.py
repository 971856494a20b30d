"""What staff ask of the PBX: pause/unpause an agent (QueuePause) and call a citizen back (Originate:
the agent's phone rings first, then the citizen's). Requests are rows; the telephony service sends them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from kernel.city import hotline_number
from kernel.errors import Conflict, Invalid, NotFound
from kernel.i18n import _
from kernel.settings import Settings
from kernel.timeutil import utcnow
from telephony import agents
from telephony.models import PbxAction, PbxActionKind, PbxActionStatus, QueueMember
from telephony.store import phone_of
from tickets import permissions
from tickets.citizens import dialable_phone, identities_of
from tickets.models import ActorType, EventKind, IdentityKind, Ticket
from tickets.service import Actor, record_event
from tickets.staff import User

ORIGINATE_TIMEOUT_MS = 30_000
# OriginateResponse Reason codes (ast_control_frame_type): what the agent is told on the ticket
ORIGINATE_REASONS = {
    "0": "the call could not be placed",
    "1": "hung up",
    "3": "no answer",
    "4": "answered",
    "5": "busy",
    "8": "congested or unavailable",
}


@dataclass(frozen=True)
class Result:
    ok: bool
    text: str


def member_of(session: Session, user: User) -> QueueMember:
    """The agent's queue member, or a Conflict saying to ask for a link (an action needs one)."""
    member = agents.member_of(session, user.id)
    if member is None:
        raise Conflict(
            _("Tài khoản của bạn chưa gắn với máy lẻ trong hàng đợi; hãy đề nghị quản trị viên gắn máy lẻ.")
        )
    return member


def request_pause(session: Session, user: User, paused: bool, reason: str | None = None) -> PbxAction:
    member = member_of(session, user)
    action = PbxAction(
        kind=PbxActionKind.PAUSE,
        params={"interface": member.interface, "paused": paused, "reason": (reason or "")[:80]},
        requested_by=user.id,
    )
    session.add(action)
    session.flush()
    return action


def citizen_phone(session: Session, ticket: Ticket) -> str | None:
    if ticket.citizen_id is None:
        return None
    for identity in identities_of(session, ticket.citizen_id):
        if identity.kind == IdentityKind.PHONE:
            return identity.value
    return None


def request_callback(session: Session, ticket: Ticket, user: User) -> PbxAction:
    member = member_of(session, user)
    phone = phone_of(citizen_phone(session, ticket))
    if phone is None:
        raise Invalid(_("Phản ánh này không có số điện thoại để gọi lại; hãy trả lời qua kênh đã gửi."))
    action = PbxAction(
        kind=PbxActionKind.CALLBACK,
        params={"interface": member.interface, "number": dialable_phone(phone), "ticket_code": ticket.code},
        requested_by=user.id,
        ticket_id=ticket.id,
    )
    session.add(action)
    session.flush()
    record_event(session, ticket, EventKind.CALLBACK, actor=Actor.staff(user), note=_("Đã yêu cầu gọi lại"))
    return action


def action_seen_by(session: Session, action_id: int, viewer: User) -> PbxAction:
    """A PBX action, for the person who asked for it or for those who watch everyone's (supervisors,
    administrators); 404 for anyone else, so ids don't leak."""
    action = session.get(PbxAction, action_id)
    if action is None or (
        action.requested_by != viewer.id and not permissions.may(viewer, "watch_pbx_actions")
    ):
        raise NotFound(_("Không có yêu cầu tổng đài số {number}.", number=action_id))
    return action


def to_ami(action: PbxAction, settings: Settings) -> tuple[dict[str, str], float]:
    """The AMI action for a request and how long to wait for its outcome."""
    params = action.params
    if action.kind == PbxActionKind.PAUSE:
        ami = {
            "Action": "QueuePause",
            "Interface": params["interface"],
            "Paused": "true" if params["paused"] else "false",
        }
        if params.get("reason"):
            ami["Reason"] = params["reason"]
        return ami, 10.0
    return {
        "Action": "Originate",
        "Channel": params["interface"],
        "Context": settings.ami_callback_context,
        "Exten": params["number"],
        "Priority": "1",
        "CallerID": f"CivicDesk <{hotline_number()}>",
        "Timeout": str(ORIGINATE_TIMEOUT_MS),
        "Async": "true",  # without it panoramisk 1.4 fails inside and drops the link
        "Variable": f"CIVICDESK_TICKET={params['ticket_code']}",
    }, ORIGINATE_TIMEOUT_MS / 1000 + 30


def claim_pending(session: Session, settings: Settings) -> list[tuple[int, dict[str, str], float]]:
    pending = session.exec(
        select(PbxAction)
        .where(PbxAction.status == PbxActionStatus.PENDING)
        .order_by(col(PbxAction.id))
        .limit(50)
        .with_for_update(skip_locked=True)
    ).all()
    claimed = []
    for action in pending:
        action.status, action.sent_at = PbxActionStatus.SENT, utcnow()
        session.add(action)
        ami, timeout = to_ami(action, settings)
        claimed.append((action.id or 0, ami, timeout))
    return claimed


def describe_answer(messages: list[Any]) -> Result:
    """The outcome from the action's response and, for Originate, its OriginateResponse event."""
    last = messages[-1]
    if last.get("Event") == "OriginateResponse":
        reason = str(last.get("Reason", "0"))
        text = ORIGINATE_REASONS.get(reason, f"reason {reason}")
        return Result(ok=last.get("Response") == "Success" and reason == "4", text=text)
    ok = last.get("Response") == "Success"
    return Result(ok=ok, text=str(last.get("Message") or ("done" if ok else "refused by the PBX")))


def finish(session: Session, action_id: int, result: Result) -> None:
    action = session.get(PbxAction, action_id)
    if action is None or action.status in (PbxActionStatus.DONE, PbxActionStatus.FAILED):
        return
    action.status = PbxActionStatus.DONE if result.ok else PbxActionStatus.FAILED
    action.result, action.finished_at = result.text, utcnow()
    session.add(action)
    if action.kind == PbxActionKind.CALLBACK and action.ticket_id is not None:
        ticket = session.get(Ticket, action.ticket_id)
        if ticket is not None:
            outcome = (
                _("Đã gọi lại được") if result.ok else _("Gọi lại không được: {reason}", reason=result.text)
            )
            actor = Actor(ActorType.STAFF, action.requested_by)
            record_event(session, ticket, EventKind.CALLBACK, actor=actor, note=outcome)

"""/api/v1/channels: the dead-letter list with replay, the outbox, reply templates, the Zalo token pair;
/api/v1/tickets/{id}/messages: a ticket's conversation."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import ConfigDict, Field

from channels import service, templates, tokens
from channels.schemas import InboundEventOut, MessageOut, OutboundMessageOut, ReplyTemplateOut, SplitOut
from channels.tasks import process_inbound
from kernel.db import send_task_after_commit
from kernel.errors import Forbidden
from kernel.i18n import _
from kernel.text import CleanInput, RowId
from tickets import permissions
from tickets import service as tickets
from tickets.staff import Role, User
from web.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/api/v1/channels", tags=["channels"])
conversation_router = APIRouter(prefix="/api/v1/tickets", tags=["channels"])


def _admin(user: User) -> None:
    if Role(user.role) not in (Role.ADMIN, Role.SUPERVISOR):
        raise Forbidden(_("Chỉ quản trị viên và giám sát viên xem được sự kiện kênh."))


@router.get("/dead-letters")
def dead_letters(session: SessionDep, user: CurrentUser) -> list[InboundEventOut]:
    """Webhook events that failed for good (the newest 200), for an administrator to inspect or replay."""
    _admin(user)
    return [InboundEventOut.model_validate(e) for e in service.dead_letters(session)]


@router.post("/dead-letters/{event_id}/replay")
def replay(event_id: RowId, session: SessionDep, user: CurrentUser) -> InboundEventOut:
    """Process a dead event again from the start (after the cause was fixed)."""
    _admin(user)
    event = service.replay(session, event_id)
    send_task_after_commit(session, process_inbound, event_id)
    return InboundEventOut.model_validate(event)


@router.get("/outbox")
def outbox(session: SessionDep, user: CurrentUser, state: str | None = None) -> list[OutboundMessageOut]:
    """The newest 200 messages to citizens, on every route, optionally in one state."""
    _admin(user)
    return [OutboundMessageOut.model_validate(row) for row in service.outbox(session, state)]


class TemplateIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    text_vi: str = Field(
        min_length=1,
        max_length=1900,
        description="the Vietnamese text",
        examples=["Đã nhận phản ánh {code}."],
    )
    text_en: str = Field(
        default="", max_length=1900, description="the English text; empty for the built-in one"
    )


@router.get("/templates")
def list_templates(session: SessionDep, user: CurrentUser) -> dict[str, str]:
    """Every message template as it reads now, by name, with its placeholders shown."""
    return templates.previews(session)


@router.put("/templates/{key}")
def put_template(key: str, body: TemplateIn, session: SessionDep, user: CurrentUser) -> ReplyTemplateOut:
    """Reword one template (administrators); only {code}, {link}, {note} and {status} may appear."""
    if Role(user.role) != Role.ADMIN:
        raise Forbidden(_("Chỉ quản trị viên sửa được mẫu trả lời."))
    row = templates.save(session, key, text_vi=body.text_vi, text_en=body.text_en)
    return ReplyTemplateOut.model_validate(row)


class TokenPair(CleanInput):
    model_config = ConfigDict(extra="forbid")

    access_token: str = Field(min_length=10, max_length=4000, description="the OA access token")
    refresh_token: str = Field(min_length=10, max_length=4000, description="the OA refresh token")
    expires_in: int = Field(
        gt=0, le=10 * 86400, description="seconds the access token lasts", examples=[90000]
    )


@router.put("/zalo/token", status_code=204)
def put_zalo_token(body: TokenPair, session: SessionDep, user: CurrentUser) -> None:
    """Store the Zalo OA token pair an administrator obtained (sealed; refreshed by the workers)."""
    if Role(user.role) != Role.ADMIN:
        raise Forbidden(_("Chỉ quản trị viên cấp quyền cho Zalo OA."))
    tokens.store_pair(session, body.access_token, body.refresh_token, body.expires_in)


@conversation_router.post("/{ticket_id}/messages/{message_id}/split", status_code=201)
def split(ticket_id: RowId, message_id: RowId, session: SessionDep, user: CurrentUser) -> SplitOut:
    """A message about another problem becomes a ticket of its own."""
    permissions.require_action(user, "merge")
    new = tickets.split_message(session, ticket_id, message_id, actor=tickets.Actor.staff(user), viewer=user)
    return SplitOut.model_validate(new)


@conversation_router.get("/{ticket_id}/messages")
def conversation(ticket_id: RowId, session: SessionDep, user: CurrentUser) -> list[MessageOut]:
    """A ticket's conversation with the citizen, oldest first, on every channel."""
    tickets.get_ticket(session, ticket_id, viewer=user)  # 404 outside what this person may see
    return [MessageOut.model_validate(m) for m in tickets.messages_of(session, ticket_id)]

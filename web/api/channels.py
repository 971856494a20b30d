"""/api/v1/channels: the dead-letter list with replay, the outbox, reply templates, the Zalo token pair;
/api/v1/tickets/{id}/messages: a ticket's conversation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import ConfigDict, Field
from sqlmodel import col, select

from channels import service, templates, tokens
from channels.models import OutboundMessage, ReplyTemplate
from channels.tasks import process_inbound
from civicdesk.db import send_task_after_commit
from civicdesk.errors import Forbidden, Invalid, NotFound
from civicdesk.i18n import _
from civicdesk.text import CleanInput, RowId
from civicdesk.timeutil import utcnow
from tickets import service as tickets
from tickets.staff import Role, User
from web.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/api/v1/channels", tags=["channels"])
conversation_router = APIRouter(prefix="/api/v1/tickets", tags=["channels"])


def _admin(user: User) -> None:
    if Role(user.role) not in (Role.ADMIN, Role.SUPERVISOR):
        raise Forbidden(_("Chỉ quản trị viên và giám sát viên xem được sự kiện kênh."))


@router.get("/dead-letters")
def dead_letters(session: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    _admin(user)
    return [e.model_dump(mode="json") for e in service.dead_letters(session)]


@router.post("/dead-letters/{event_id}/replay")
def replay(event_id: RowId, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    _admin(user)
    event = service.replay(session, event_id)
    send_task_after_commit(session, process_inbound, event_id)
    return event.model_dump(mode="json")


@router.get("/outbox")
def outbox(session: SessionDep, user: CurrentUser, state: str | None = None) -> list[dict[str, Any]]:
    _admin(user)
    query = select(OutboundMessage).order_by(col(OutboundMessage.id).desc()).limit(200)
    if state:
        query = query.where(OutboundMessage.state == state)
    return [row.model_dump(mode="json") for row in session.exec(query).all()]


class TemplateIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    text_vi: str = Field(min_length=1, max_length=1900)
    text_en: str = Field(default="", max_length=1900)


@router.get("/templates")
def list_templates(session: SessionDep, user: CurrentUser) -> dict[str, str]:
    return templates.previews(session)


@router.put("/templates/{key}")
def put_template(key: str, body: TemplateIn, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    if Role(user.role) != Role.ADMIN:
        raise Forbidden(_("Chỉ quản trị viên sửa được mẫu trả lời."))
    if key not in templates.DEFAULTS:
        raise NotFound(
            _("Không có mẫu “{key}”; các mẫu: {known}", key=key, known=", ".join(sorted(templates.DEFAULTS)))
        )
    for field, text in (("text_vi", body.text_vi), ("text_en", body.text_en)):
        try:
            templates.check(text)
        except (KeyError, ValueError, IndexError) as exc:
            raise Invalid(
                _("Mẫu tin chỉ được dùng {{code}}, {{link}}, {{note}} và {{status}}: {error}", error=exc),
                field=field,
            ) from exc
    row = session.get(ReplyTemplate, key) or ReplyTemplate(key=key, text_vi=body.text_vi)
    row.text_vi, row.text_en, row.updated_at = body.text_vi, body.text_en, utcnow()
    session.add(row)
    return row.model_dump(mode="json")


class TokenPair(CleanInput):
    model_config = ConfigDict(extra="forbid")

    access_token: str = Field(min_length=10, max_length=4000)
    refresh_token: str = Field(min_length=10, max_length=4000)
    expires_in: int = Field(gt=0, le=10 * 86400)


@router.put("/zalo/token", status_code=204)
def put_zalo_token(body: TokenPair, session: SessionDep, user: CurrentUser) -> None:
    if Role(user.role) != Role.ADMIN:
        raise Forbidden(_("Chỉ quản trị viên cấp quyền cho Zalo OA."))
    tokens.store_pair(session, body.access_token, body.refresh_token, body.expires_in)


@conversation_router.post("/{ticket_id}/messages/{message_id}/split", status_code=201)
def split(ticket_id: RowId, message_id: RowId, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """A message about another problem becomes a ticket of its own."""
    from tickets import permissions

    permissions.require_action(user, "merge")
    new = tickets.split_message(session, ticket_id, message_id, actor=tickets.Actor.staff(user), viewer=user)
    return {"id": new.id, "code": new.code}


@conversation_router.get("/{ticket_id}/messages")
def conversation(ticket_id: RowId, session: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    tickets.get_ticket(session, ticket_id, viewer=user)  # 404 outside what this person may see
    return [m.model_dump(mode="json") for m in tickets.messages_of(session, ticket_id)]

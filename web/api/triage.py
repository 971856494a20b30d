"""/api/v1/triage: live suggestions for a draft report, the human triage queue; /api/v1/routing/rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from pydantic import ConfigDict, Field
from sqlmodel import col, select

from civicdesk.errors import Forbidden, NotFound
from civicdesk.i18n import _, label
from civicdesk.text import CleanInput, RowId
from routing import flows, rules, triage
from routing.models import RoutingRule, TriageCorrection
from tickets.schemas import TicketDetail, TicketOut
from tickets.service import Actor
from tickets.staff import Role, User
from web.api.tickets import detail, ticket_out
from web.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/api/v1/triage", tags=["triage"])
rules_router = APIRouter(prefix="/api/v1/routing/rules", tags=["triage"])
DESK_ROLES = (Role.ADMIN, Role.SUPERVISOR, Role.AGENT)


def _require(user: User, roles: tuple[Role, ...]) -> None:
    if Role(user.role) not in roles:
        raise Forbidden(_("Chỉ {roles} được làm việc này.", roles=[label("r_", r.value) for r in roles]))


class Draft(CleanInput):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=5000)
    reported_at: datetime | None = None
    channel: str | None = Field(default=None, max_length=16)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)


@router.post("/suggest")
def suggest(body: Draft, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    """What triage would decide for a draft: category, ward, address, routing, likely duplicates."""
    _require(user, DESK_ROLES)
    decision = triage.decide(
        session,
        body.text,
        reported_at=body.reported_at,
        channel=body.channel,
        latitude=body.latitude,
        longitude=body.longitude,
    )
    return decision.as_json()


class QueueItemOut(TicketOut):
    reasons: list[str]  # why it waits for a person, in Vietnamese


@router.get("/queue")
def queue(session: SessionDep, user: CurrentUser) -> list[QueueItemOut]:
    """Reports waiting for a person (triage was unsure, a sensitive category, no ward, returned by a
    department or ward with a reason), oldest first, each with why it is there."""
    _require(user, DESK_ROLES)
    return [
        QueueItemOut(**ticket_out(item.ticket).model_dump(), reasons=item.reasons)
        for item in flows.queue(session)
    ]


@router.post("/queue/{ticket_id}/confirm")
def confirm(ticket_id: RowId, session: SessionDep, user: CurrentUser) -> TicketDetail:
    """Route a queued ticket as it is: the routing rules run on its category and ward."""
    _require(user, DESK_ROLES)
    ticket = flows.confirm(session, ticket_id, actor=Actor.staff(user), viewer=user)
    return detail(session, ticket)


@router.get("/corrections")
def corrections(session: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    _require(user, (Role.ADMIN, Role.SUPERVISOR))
    rows = session.exec(select(TriageCorrection).order_by(col(TriageCorrection.id).desc()).limit(500)).all()
    return [row.model_dump(mode="json") for row in rows]


class RuleIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    position: int = Field(ge=0, le=100000)
    name: str = Field(min_length=1, max_length=120)
    category: str | None = Field(default=None, max_length=48)
    ward: str | None = Field(default=None, max_length=48)
    keywords: list[str] = Field(default_factory=list, max_length=50)
    channel: str | None = Field(default=None, max_length=16)
    department: str | None = Field(default=None, max_length=32)
    priority: str | None = Field(default=None, max_length=16)
    ward_officer: bool = False
    active: bool = True


def _rule_from(body: RuleIn, rule: RoutingRule | None = None) -> RoutingRule:
    rule = rule or RoutingRule(position=body.position, name=body.name)
    rule.position, rule.name, rule.keywords = body.position, body.name, body.keywords
    rule.category_code, rule.ward_code, rule.channel = body.category, body.ward, body.channel
    rule.department_code, rule.priority = body.department, body.priority
    rule.ward_officer, rule.active = body.ward_officer, body.active
    return rule


@rules_router.get("")
def list_rules(session: SessionDep, user: CurrentUser) -> list[dict[str, Any]]:
    _require(user, (Role.ADMIN, Role.SUPERVISOR))
    rows = session.exec(select(RoutingRule).order_by(col(RoutingRule.position))).all()
    return [row.model_dump(mode="json") for row in rows]


@rules_router.post("", status_code=201)
def create_rule(body: RuleIn, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    _require(user, (Role.ADMIN,))
    return rules.save_rule(session, _rule_from(body)).model_dump(mode="json")


@rules_router.put("/{rule_id}")
def update_rule(rule_id: RowId, body: RuleIn, session: SessionDep, user: CurrentUser) -> dict[str, Any]:
    _require(user, (Role.ADMIN,))
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound(_("Không có quy tắc số {number}.", number=rule_id))
    return rules.save_rule(session, _rule_from(body, rule)).model_dump(mode="json")


@rules_router.delete("/{rule_id}", status_code=204)
def delete_rule(rule_id: RowId, session: SessionDep, user: CurrentUser) -> None:
    _require(user, (Role.ADMIN,))
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound(_("Không có quy tắc số {number}.", number=rule_id))
    session.delete(rule)

"""/api/v1/triage: live suggestions for a draft report, the human triage queue; /api/v1/routing/rules."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import ConfigDict, Field

from kernel.text import CleanInput, RowId
from routing import flows, rules, triage
from routing.models import RoutingRule
from routing.schemas import CorrectionOut, QueueItemOut, RuleOut, SuggestionOut
from tickets import permissions
from tickets.schemas import TicketDetail
from tickets.service import Actor
from web.api.tickets import detail, ticket_out
from web.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/api/v1/triage", tags=["triage"])
rules_router = APIRouter(prefix="/api/v1/routing/rules", tags=["triage"])


class Draft(CleanInput):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(
        min_length=1,
        max_length=5000,
        description="the report's words",
        examples=["Đèn đường hỏng ở 12 Bạch Đằng"],
    )
    reported_at: datetime | None = Field(default=None, description="when it was reported; now by default")
    channel: str | None = Field(default=None, max_length=16, description="how it arrives", examples=["phone"])
    latitude: float | None = Field(default=None, ge=-90, le=90, description="a map pin, WGS84")
    longitude: float | None = Field(default=None, ge=-180, le=180, description="a map pin, WGS84")


@router.post("/suggest")
def suggest(body: Draft, session: SessionDep, user: CurrentUser) -> SuggestionOut:
    """What triage would decide for a draft: category, ward, address, routing, likely duplicates."""
    permissions.require_action(user, "triage")
    decision = triage.decide(
        session,
        body.text,
        reported_at=body.reported_at,
        channel=body.channel,
        latitude=body.latitude,
        longitude=body.longitude,
    )
    return SuggestionOut.model_validate(decision.as_json())


@router.get("/queue")
def queue(session: SessionDep, user: CurrentUser) -> list[QueueItemOut]:
    """Reports waiting for a person (triage was unsure, a sensitive category, no ward, returned by a
    department or ward with a reason), oldest first, each with why it is there."""
    permissions.require_action(user, "triage")
    return [
        QueueItemOut(**ticket_out(item.ticket).model_dump(), reasons=item.reasons)
        for item in flows.queue(session)
    ]


@router.post("/queue/{ticket_id}/confirm")
def confirm(ticket_id: RowId, session: SessionDep, user: CurrentUser) -> TicketDetail:
    """Route a queued ticket as it is: the routing rules run on its category and ward."""
    permissions.require_action(user, "triage")
    ticket = flows.confirm(session, ticket_id, actor=Actor.staff(user), viewer=user)
    return detail(session, ticket)


@router.get("/corrections")
def corrections(session: SessionDep, user: CurrentUser) -> list[CorrectionOut]:
    """The newest 500 changes people made to what triage decided (labelled data for the next model)."""
    permissions.require_action(user, "read_routing")
    return [CorrectionOut.model_validate(row) for row in triage.recent_corrections(session)]


class RuleIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    position: int = Field(ge=0, le=100000, description="its place in the order (lower first)", examples=[10])
    name: str = Field(min_length=1, max_length=120, description="its name", examples=["Cây xanh ở Hải Châu"])
    category: str | None = Field(default=None, max_length=48, description="match this category only")
    ward: str | None = Field(default=None, max_length=48, description="match this ward only")
    keywords: list[str] = Field(default_factory=list, max_length=50, description="match any of these words")
    channel: str | None = Field(default=None, max_length=16, description="match this channel only")
    department: str | None = Field(default=None, max_length=32, description="route to this department")
    priority: str | None = Field(default=None, max_length=16, description="set this priority")
    ward_officer: bool = Field(default=False, description="hand the ticket to the ward's officers")
    active: bool = Field(default=True, description="in use")


def _rule_from(body: RuleIn, rule: RoutingRule | None = None) -> RoutingRule:
    rule = rule or RoutingRule(position=body.position, name=body.name)
    rule.position, rule.name, rule.keywords = body.position, body.name, body.keywords
    rule.category_code, rule.ward_code, rule.channel = body.category, body.ward, body.channel
    rule.department_code, rule.priority = body.department, body.priority
    rule.ward_officer, rule.active = body.ward_officer, body.active
    return rule


@rules_router.get("")
def list_rules(session: SessionDep, user: CurrentUser) -> list[RuleOut]:
    """Every routing rule, in the order they are tried."""
    permissions.require_action(user, "read_routing")
    return [RuleOut.model_validate(rule) for rule in rules.all_rules(session)]


@rules_router.post("", status_code=201)
def create_rule(body: RuleIn, session: SessionDep, user: CurrentUser) -> RuleOut:
    """Add a rule; the category, ward and department must exist."""
    permissions.require_action(user, "manage_routing")
    return RuleOut.model_validate(rules.save_rule(session, _rule_from(body)))


@rules_router.put("/{rule_id}")
def update_rule(rule_id: RowId, body: RuleIn, session: SessionDep, user: CurrentUser) -> RuleOut:
    """Change a rule as a whole."""
    permissions.require_action(user, "manage_routing")
    return RuleOut.model_validate(
        rules.save_rule(session, _rule_from(body, rules.get_rule(session, rule_id)))
    )


@rules_router.delete("/{rule_id}", status_code=204)
def delete_rule(rule_id: RowId, session: SessionDep, user: CurrentUser) -> None:
    """Remove a rule."""
    permissions.require_action(user, "manage_routing")
    rules.delete_rule(session, rule_id)

"""/api/v1/incidents: supervisors see open incidents, open one from chosen reports, add reports, post the
public notice and resolve it (which resolves its reports)."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from civicdesk.errors import Forbidden
from civicdesk.text import CleanInput, RowId
from incidents import service
from incidents.models import Incident
from tickets.service import Actor
from tickets.staff import Role, User
from web.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])
MANAGERS = (Role.SUPERVISOR, Role.ADMIN)


class IncidentOut(BaseModel):
    id: int
    category_code: str
    title: str
    status: str
    source: str
    latitude: float
    longitude: float
    radius_m: int
    public_notice: str | None
    summary: str | None
    opened_at: datetime
    resolved_at: datetime | None
    reports: list[str] = Field(description="the codes of its reports")


class OpenIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    tickets: list[str] = Field(min_length=1, max_length=500, description="report codes, e.g. PR-2026-000123")


class ReportsIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    tickets: list[str] = Field(min_length=1, max_length=500)


class TextIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2000)


def _manager(user: User) -> Actor:
    if Role(user.role) not in MANAGERS:
        raise Forbidden("only supervisors and administrators manage incidents")
    return Actor.staff(user)


def _out(session: SessionDep, incident: Incident) -> IncidentOut:
    codes = [t.code for t in service.members(session, incident.id or 0)]
    return IncidentOut(**incident.model_dump(exclude={"opened_by_user_id"}), reports=codes)


@router.get("", response_model=list[IncidentOut])
def open_incidents(session: SessionDep, user: CurrentUser) -> list[IncidentOut]:
    _manager(user)
    return [_out(session, incident) for incident, _ in service.open_incidents(session)]


@router.get("/{incident_id}", response_model=IncidentOut)
def one(incident_id: RowId, session: SessionDep, user: CurrentUser) -> IncidentOut:
    _manager(user)
    return _out(session, service.get(session, incident_id))


@router.post("", response_model=IncidentOut, status_code=201)
def open_from_reports(body: OpenIn, session: SessionDep, user: CurrentUser) -> IncidentOut:
    incident = service.open_by_supervisor(session, body.tickets, body.title, actor=_manager(user))
    return _out(session, incident)


@router.post("/{incident_id}/reports", response_model=IncidentOut)
def add_reports(incident_id: RowId, body: ReportsIn, session: SessionDep, user: CurrentUser) -> IncidentOut:
    _manager(user)
    return _out(session, service.add_reports(session, incident_id, body.tickets))


@router.post("/{incident_id}/notice", response_model=IncidentOut)
def post_notice(incident_id: RowId, body: TextIn, session: SessionDep, user: CurrentUser) -> IncidentOut:
    return _out(session, service.post_notice(session, incident_id, body.text, actor=_manager(user)))


@router.post("/{incident_id}/resolve", response_model=IncidentOut)
def resolve(incident_id: RowId, body: TextIn, session: SessionDep, user: CurrentUser) -> IncidentOut:
    return _out(session, service.resolve(session, incident_id, body.text, actor=_manager(user)))

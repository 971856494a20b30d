"""/api/v1/incidents: supervisors see open incidents, open one from chosen reports, add reports, post the
public notice and resolve it (which resolves its reports)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import ConfigDict, Field

from incidents import service
from incidents.models import Incident
from incidents.schemas import IncidentOut
from kernel.text import CleanInput, RowId
from tickets import permissions
from tickets.service import Actor
from tickets.staff import User
from web.deps import CurrentUser, SessionDep

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])


class OpenIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=1, max_length=200, description="what happened", examples=["Ngập đường"])
    tickets: list[str] = Field(
        min_length=1, max_length=500, description="report codes", examples=[["PR-2026-000123"]]
    )


class ReportsIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    tickets: list[str] = Field(min_length=1, max_length=500, description="report codes to add")


class TextIn(CleanInput):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=2000, description="the words, in Vietnamese")


def _manager(user: User) -> Actor:
    permissions.require_action(user, "manage_incidents")
    return Actor.staff(user)


def _out(session: SessionDep, incident: Incident) -> IncidentOut:
    codes = [t.code for t in service.members(session, incident.id or 0)]
    shown = {name: getattr(incident, name) for name in IncidentOut.model_fields if name != "reports"}
    return IncidentOut(**shown, reports=codes)


@router.get("", response_model=list[IncidentOut])
def open_incidents(session: SessionDep, user: CurrentUser) -> list[IncidentOut]:
    """The open incidents, each with its reports' codes."""
    _manager(user)
    return [_out(session, incident) for incident, _ in service.open_incidents(session)]


@router.get("/{incident_id}", response_model=IncidentOut)
def one(incident_id: RowId, session: SessionDep, user: CurrentUser) -> IncidentOut:
    """One incident with its reports' codes."""
    _manager(user)
    return _out(session, service.get(session, incident_id))


@router.post("", response_model=IncidentOut, status_code=201)
def open_from_reports(body: OpenIn, session: SessionDep, user: CurrentUser) -> IncidentOut:
    """Open an incident from chosen reports (a supervisor saw what the surge detector did not)."""
    incident = service.open_by_supervisor(session, body.tickets, body.title, actor=_manager(user))
    return _out(session, incident)


@router.post("/{incident_id}/reports", response_model=IncidentOut)
def add_reports(incident_id: RowId, body: ReportsIn, session: SessionDep, user: CurrentUser) -> IncidentOut:
    """Add reports to an open incident."""
    _manager(user)
    return _out(session, service.add_reports(session, incident_id, body.tickets))


@router.post("/{incident_id}/notice", response_model=IncidentOut)
def post_notice(incident_id: RowId, body: TextIn, session: SessionDep, user: CurrentUser) -> IncidentOut:
    """Post a public notice: everyone who reported it is told."""
    return _out(session, service.post_notice(session, incident_id, body.text, actor=_manager(user)))


@router.post("/{incident_id}/resolve", response_model=IncidentOut)
def resolve(incident_id: RowId, body: TextIn, session: SessionDep, user: CurrentUser) -> IncidentOut:
    """Resolve the incident and, with its summary, every report in it."""
    return _out(session, service.resolve(session, incident_id, body.text, actor=_manager(user)))

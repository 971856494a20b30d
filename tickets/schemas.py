"""Request and response shapes of the ticket API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from civicdesk.text import CleanInput, RowId
from tickets.citizens import Contact
from tickets.models import Channel, IdentityKind, Priority, Status
from tickets.service import NewTicket


class TicketCreate(CleanInput):
    model_config = ConfigDict(extra="forbid")

    description: str = Field(min_length=1, max_length=5000)
    title: str | None = Field(default=None, max_length=300)
    channel: Channel = Channel.PHONE
    phone: str | None = Field(default=None, max_length=30)
    email: str | None = Field(default=None, max_length=200)
    citizen_name: str | None = Field(default=None, max_length=200)
    address: str | None = Field(default=None, max_length=500)
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    category: str | None = Field(default=None, max_length=48)
    ward: str | None = Field(default=None, max_length=48)
    priority: Priority | None = None

    def draft(self, contact: Contact | None = None) -> NewTicket:
        """The service's new ticket from this request; ``contact`` stands for the one the fields give
        (a call's ticket adds the caller's number, verified by the PBX)."""
        return NewTicket(
            description=self.description,
            title=self.title,
            channel=self.channel,
            contact=contact or Contact(phone=self.phone, email=self.email, name=self.citizen_name),
            address=self.address,
            latitude=self.latitude,
            longitude=self.longitude,
            category=self.category,
            ward=self.ward,
            priority=self.priority,
        )


class TicketUpdate(CleanInput):
    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, max_length=300)
    public_description: str | None = Field(default=None, max_length=5000)
    category: str | None = Field(default=None, max_length=48)
    ward: str | None = Field(default=None, max_length=48)
    priority: Priority | None = None
    address: str | None = Field(default=None, max_length=500)
    hidden_from_public: bool | None = None
    legal_process: bool | None = None


class TransitionRequest(CleanInput):
    model_config = ConfigDict(extra="forbid")

    status: Status
    reason: str | None = Field(default=None, max_length=2000)


class AssignRequest(CleanInput):
    """To a department, or with no department to the ward's officers (``assignee_id`` one of them)."""

    model_config = ConfigDict(extra="forbid")

    department: str | None = Field(default=None, max_length=32)
    assignee_id: RowId | None = None
    reason: str | None = Field(default=None, max_length=2000)


class CommentRequest(CleanInput):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=5000)
    public: bool = False


class MergeRequest(CleanInput):
    """The ticket to merge into: by its code as people read it (PR-2026-000123), or by id for programs."""

    model_config = ConfigDict(extra="forbid")

    into: RowId | None = None
    into_code: str | None = Field(default=None, min_length=1, max_length=40)

    @model_validator(mode="after")
    def one_target(self) -> MergeRequest:
        if (self.into is None) == (self.into_code is None):
            raise ValueError("give exactly one of into (id) or into_code (PR-…)")
        return self


class EventOut(BaseModel):
    id: int
    kind: str
    actor_type: str
    actor_user_id: int | None
    public: bool
    note: str | None
    data: dict[str, Any]
    created_at: datetime


class ContactOut(BaseModel):
    citizen_id: int
    name: str | None
    phone: list[str]
    email: list[str]
    zalo: list[str]
    facebook: list[str]


class TicketOut(BaseModel):
    id: int
    code: str
    status: Status
    title: str
    description: str
    public_description: str | None
    category: str | None
    ward: str | None
    department: str | None
    assignee_id: int | None
    priority: Priority
    channel: Channel
    address: str | None
    latitude: float | None
    longitude: float | None
    duplicate_of: int | None
    hidden_from_public: bool
    city_level: bool = False
    legal_process: bool = False
    rating: int | None
    tracking_url: str
    created_at: datetime
    updated_at: datetime
    resolved_at: datetime | None
    closed_at: datetime | None
    # sla.state, as in every other view (lists fill them in one read; None where not asked for)
    sla_urgency: str | None = None
    due_at: datetime | None = None


class SlaOut(BaseModel):
    out_of_sla: bool
    response_due_at: datetime | None
    resolution_due_at: datetime | None
    state: str | None
    breached: bool
    urgency: str = "no_deadline"  # breached, at_risk, on_track, paused, no_deadline, met, missed, out_of_sla
    overdue_minutes: int | None = None
    label: str = ""  # in Vietnamese, as the staff pages show it


class TicketDetail(TicketOut):
    contact: ContactOut | None
    timeline: list[EventOut]
    sla: SlaOut | None = None


class TicketPage(BaseModel):
    items: list[TicketOut]
    next_cursor: str | None


class UserCreate(CleanInput):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=64)
    password: str = Field(min_length=8, max_length=200)
    role: str = Field(max_length=24)
    full_name: str = Field(default="", max_length=200)
    department: str | None = Field(default=None, max_length=32)
    ward: str | None = Field(default=None, max_length=48)


class UserOut(BaseModel):
    id: int
    username: str
    full_name: str
    role: str
    department: str | None
    ward: str | None
    is_head: bool = False
    active: bool = True


class IdentityLink(CleanInput):
    """Staff vouch that this phone, e-mail, Zalo or Facebook id is this person's."""

    model_config = ConfigDict(extra="forbid")

    kind: IdentityKind
    value: str = Field(min_length=1, max_length=200)


class CitizenMergeRequest(CleanInput):
    """Whom this person is the same as: a citizen id, or the code of one of their tickets."""

    model_config = ConfigDict(extra="forbid")

    into: RowId | None = None
    into_code: str | None = Field(default=None, min_length=1, max_length=40)
    reason: str = Field(default="", max_length=300)

    @model_validator(mode="after")
    def _one_target(self) -> CitizenMergeRequest:
        if (self.into is None) == (self.into_code is None):
            raise ValueError("give either into (a citizen id) or into_code (one of their tickets' codes)")
        return self


class IdentityOut(BaseModel):
    id: int
    kind: str
    value: str
    verified_by: str | None
    verified_at: datetime | None


class LastMessageOut(BaseModel):
    text: str
    channel: str
    direction: str
    at: datetime


class CitizenTicketOut(BaseModel):
    id: int
    code: str
    title: str
    channel: str
    status: str
    created_at: datetime
    last_message: LastMessageOut | None


class CitizenMergeOut(BaseModel):
    id: int
    source_id: int
    target_id: int
    ticket_ids: list[int]
    message_ids: list[int]
    identity_ids: list[int]
    automatic: bool
    reason: str
    created_at: datetime
    undone_at: datetime | None


class CitizenOut(BaseModel):
    id: int
    display_name: str | None
    merged_into_id: int | None
    identities: list[IdentityOut]
    tickets: list[CitizenTicketOut]
    merges: list[CitizenMergeOut]


class PhoneQuestionOut(BaseModel):
    """The question asking a Zalo or Messenger user for their phone, queued in the outbox."""

    outbound_id: int
    channel: str
    text: str

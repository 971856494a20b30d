"""Request and response shapes of the ticket API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from kernel.schemas import FromRow
from kernel.text import CleanInput, RowId
from tickets.citizens import Contact
from tickets.models import Channel, IdentityKind, Priority, Status
from tickets.service import NewTicket


class TicketCreate(CleanInput):
    """A report a member of staff files for a citizen."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(
        min_length=1,
        max_length=5000,
        description="the citizen's words",
        examples=["Đèn đường hỏng trước nhà 12"],
    )
    title: str | None = Field(
        default=None, max_length=300, description="a short title; made from the words if none"
    )
    channel: Channel = Field(default=Channel.PHONE, description="how it arrived", examples=["phone"])
    phone: str | None = Field(
        default=None, max_length=30, description="the citizen's phone", examples=["0912345678"]
    )
    email: str | None = Field(default=None, max_length=200, description="the citizen's e-mail")
    citizen_name: str | None = Field(default=None, max_length=200, description="the name the citizen gives")
    address: str | None = Field(default=None, max_length=500, description="where, in words")
    latitude: float | None = Field(default=None, ge=-90, le=90, description="where, WGS84")
    longitude: float | None = Field(default=None, ge=-180, le=180, description="where, WGS84")
    category: str | None = Field(
        default=None, max_length=48, description="the category's code; triage picks one if none"
    )
    ward: str | None = Field(
        default=None, max_length=48, description="the ward's code; triage places it if none"
    )
    priority: Priority | None = Field(default=None, description="the category's priority if none")

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
    """The fields to change; those left out stay as they are."""

    model_config = ConfigDict(extra="forbid")

    title: str | None = Field(default=None, max_length=300, description="a short title")
    public_description: str | None = Field(
        default=None, max_length=5000, description="the wording shown publicly"
    )
    category: str | None = Field(default=None, max_length=48, description="the category's code")
    ward: str | None = Field(default=None, max_length=48, description="the ward's code")
    priority: Priority | None = Field(default=None, description="low, normal, high or urgent")
    address: str | None = Field(default=None, max_length=500, description="where, in words")
    hidden_from_public: bool | None = Field(default=None, description="keep it off public lists and maps")
    legal_process: bool | None = Field(
        default=None, description="a complaint or denunciation under its own law"
    )


class TransitionRequest(CleanInput):
    model_config = ConfigDict(extra="forbid")

    status: Status = Field(description="the status to move to", examples=["in_progress"])
    reason: str | None = Field(default=None, max_length=2000, description="why (required for some moves)")


class AssignRequest(CleanInput):
    """To a department, or with no department to the ward's officers (``assignee_id`` one of them)."""

    model_config = ConfigDict(extra="forbid")

    department: str | None = Field(
        default=None, max_length=32, description="the department's code", examples=["urban"]
    )
    assignee_id: RowId | None = Field(default=None, description="the staff member who works on it")
    reason: str | None = Field(default=None, max_length=2000, description="why, for the timeline")


class CommentRequest(CleanInput):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(
        min_length=1, max_length=5000, description="the words", examples=["Đã cử đội kiểm tra."]
    )
    public: bool = Field(default=False, description="a public reply the citizen is told about, else a note")


class MergeRequest(CleanInput):
    """The ticket to merge into: by its code as people read it (PR-2026-000123), or by id for programs."""

    model_config = ConfigDict(extra="forbid")

    into: RowId | None = Field(default=None, description="the ticket's number")
    into_code: str | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        description="the ticket's code",
        examples=["PR-2026-000123"],
    )

    @model_validator(mode="after")
    def one_target(self) -> MergeRequest:
        if (self.into is None) == (self.into_code is None):
            raise ValueError("give exactly one of into (id) or into_code (PR-…)")
        return self


class EventOut(BaseModel):
    """One entry of a ticket's timeline."""

    id: int = Field(description="the event's number")
    kind: str = Field(description="what happened", examples=["status_changed"])
    actor_type: str = Field(description="staff, citizen or system", examples=["staff"])
    actor_user_id: int | None = Field(description="the staff member who did it")
    public: bool = Field(description="shown on the citizen's status page")
    note: str | None = Field(description="the comment or reason given")
    data: dict[str, Any] = Field(description="the event's details (old and new values, reasons)")
    created_at: datetime = Field(description="when it happened (UTC)")


class ContactOut(BaseModel):
    """The reporting citizen and every identifier known for them (staff only)."""

    citizen_id: int = Field(description="the citizen's number")
    name: str | None = Field(description="the name they gave")
    phone: list[str] = Field(description="their phone numbers", examples=[["0912345678"]])
    email: list[str] = Field(description="their e-mail addresses")
    zalo: list[str] = Field(description="their Zalo user ids")
    facebook: list[str] = Field(description="their Facebook page-scoped ids")


class TicketOut(BaseModel):
    """A ticket as staff lists show it."""

    id: int = Field(description="the ticket's number", examples=[1234])
    code: str = Field(description="the code citizens quote", examples=["PR-2026-001234"])
    status: Status = Field(description="where it stands in its life", examples=["in_progress"])
    title: str = Field(description="a short title", examples=["Đèn đường hỏng"])
    description: str = Field(description="the citizen's words")
    public_description: str | None = Field(description="the wording shown publicly, when staff edited it")
    category: str | None = Field(description="the category's code", examples=["lighting"])
    ward: str | None = Field(description="the ward's code")
    department: str | None = Field(description="the department that holds it", examples=["urban"])
    assignee_id: int | None = Field(description="the staff member working on it")
    priority: Priority = Field(description="low, normal, high or urgent", examples=["normal"])
    channel: Channel = Field(description="how it arrived", examples=["phone"])
    address: str | None = Field(description="where, in words")
    latitude: float | None = Field(description="where, WGS84", examples=[16.0544])
    longitude: float | None = Field(description="where, WGS84", examples=[108.2022])
    duplicate_of: int | None = Field(description="the ticket it was merged into")
    hidden_from_public: bool = Field(description="kept off public lists and maps")
    city_level: bool = Field(default=False, description="handled at city level")
    legal_process: bool = Field(default=False, description="a complaint or denunciation under its own law")
    rating: int | None = Field(description="the citizen's rating of the resolution, 1-5")
    tracking_url: str = Field(description="the citizen's secret status page")
    created_at: datetime = Field(description="when it was filed (UTC)")
    updated_at: datetime = Field(description="when it last changed (UTC)")
    resolved_at: datetime | None = Field(description="when it was resolved (UTC)")
    closed_at: datetime | None = Field(description="when it was closed (UTC)")
    # sla.state, as in every other view (lists fill them in one read; None where not asked for)
    sla_urgency: str | None = Field(default=None, description="the SLA standing", examples=["at_risk"])
    due_at: datetime | None = Field(default=None, description="the running clock's deadline (UTC)")


class SlaOut(BaseModel):
    """The ticket's SLA clocks."""

    out_of_sla: bool = Field(description="its category follows no SLA (a legal process)")
    response_due_at: datetime | None = Field(description="the first staff response is due by (UTC)")
    resolution_due_at: datetime | None = Field(description="the resolution is due by (UTC)")
    state: str | None = Field(description="the resolution clock's state", examples=["running"])
    breached: bool = Field(description="a deadline has passed")
    urgency: str = Field(
        default="no_deadline",
        description="breached, at_risk, on_track, paused, no_deadline, met, missed or out_of_sla",
    )
    overdue_minutes: int | None = Field(default=None, description="minutes past the deadline")
    label: str = Field(default="", description="in Vietnamese, as the staff pages show it")


class TicketDetail(TicketOut):
    """A ticket with its citizen, timeline and SLA clocks."""

    contact: ContactOut | None = Field(description="who reported it")
    timeline: list[EventOut] = Field(description="what happened, oldest first")
    sla: SlaOut | None = Field(default=None, description="its SLA clocks")


class TicketPage(BaseModel):
    """One page of a ticket list."""

    items: list[TicketOut] = Field(description="the tickets on this page")
    next_cursor: str | None = Field(description="pass as `cursor` for the next page; null on the last")


class UserCreate(CleanInput):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(max_length=64, description="what they sign in with", examples=["agent1"])
    password: str = Field(min_length=8, max_length=200, description="at least 8 characters")
    role: str = Field(max_length=24, description="admin, supervisor, agent, department_staff or ward_officer")
    full_name: str = Field(default="", max_length=200, description="their name")
    department: str | None = Field(default=None, max_length=32, description="their department's code")
    ward: str | None = Field(default=None, max_length=48, description="their ward's code (ward officers)")


class UserOut(BaseModel):
    """A staff account."""

    id: int = Field(description="the user's number")
    username: str = Field(description="what they sign in with", examples=["agent1"])
    full_name: str = Field(description="their name")
    role: str = Field(description="admin, supervisor, agent, department_staff or ward_officer")
    department: str | None = Field(description="their department's code")
    ward: str | None = Field(description="their ward's code (ward officers)")
    is_head: bool = Field(default=False, description="the head of their department or ward")
    active: bool = Field(default=True, description="may sign in")


class IdentityLink(CleanInput):
    """Staff vouch that this phone, e-mail, Zalo or Facebook id is this person's."""

    model_config = ConfigDict(extra="forbid")

    kind: IdentityKind = Field(description="phone, email, zalo or facebook", examples=["phone"])
    value: str = Field(min_length=1, max_length=200, description="the identifier", examples=["0912345678"])


class CitizenMergeRequest(CleanInput):
    """Whom this person is the same as: a citizen id, or the code of one of their tickets."""

    model_config = ConfigDict(extra="forbid")

    into: RowId | None = Field(default=None, description="the citizen's number")
    into_code: str | None = Field(
        default=None,
        min_length=1,
        max_length=40,
        description="one of their tickets' codes",
        examples=["PR-2026-000123"],
    )
    reason: str = Field(default="", max_length=300, description="why, for the record")

    @model_validator(mode="after")
    def _one_target(self) -> CitizenMergeRequest:
        if (self.into is None) == (self.into_code is None):
            raise ValueError("give either into (a citizen id) or into_code (one of their tickets' codes)")
        return self


class IdentityOut(BaseModel):
    """One identifier of a citizen on one channel."""

    id: int = Field(description="the identity's number")
    kind: str = Field(description="phone, email, zalo or facebook", examples=["phone"])
    value: str = Field(description="the identifier", examples=["0912345678"])
    verified_by: str | None = Field(description="who vouched for it (pbx, staff, the citizen's answer)")
    verified_at: datetime | None = Field(description="when it was vouched for (UTC)")


class LastMessageOut(BaseModel):
    """A ticket's latest message."""

    text: str = Field(description="its words")
    channel: str = Field(description="the channel it travelled on")
    direction: str = Field(description="in or out")
    at: datetime = Field(description="when (UTC)")


class CitizenTicketOut(BaseModel):
    """One of a citizen's tickets, on any channel."""

    id: int = Field(description="the ticket's number")
    code: str = Field(description="the ticket's code", examples=["PR-2026-001234"])
    title: str = Field(description="its title")
    channel: str = Field(description="how it arrived")
    status: str = Field(description="where it stands")
    created_at: datetime = Field(description="when it was filed (UTC)")
    last_message: LastMessageOut | None = Field(description="its latest message, if any")


class CitizenMergeOut(BaseModel):
    """Two citizen records joined, with what moved (so it can be undone)."""

    id: int = Field(description="the merge's number")
    source_id: int = Field(description="the citizen merged away")
    target_id: int = Field(description="the citizen kept")
    ticket_ids: list[int] = Field(description="the tickets that moved")
    message_ids: list[int] = Field(description="the messages that moved")
    identity_ids: list[int] = Field(description="the identities that moved")
    automatic: bool = Field(description="made by the system (a verified identifier), not by a person")
    reason: str = Field(description="why")
    created_at: datetime = Field(description="when (UTC)")
    undone_at: datetime | None = Field(description="when it was undone (UTC)")


class CitizenOut(BaseModel):
    """One person across channels."""

    id: int = Field(description="the citizen's number")
    display_name: str | None = Field(description="the name they gave")
    merged_into_id: int | None = Field(description="the record this one was merged into")
    identities: list[IdentityOut] = Field(description="their identifiers")
    tickets: list[CitizenTicketOut] = Field(description="their tickets, newest first")
    merges: list[CitizenMergeOut] = Field(description="merges that involved them")


class PhoneQuestionOut(BaseModel):
    """The question asking a Zalo or Messenger user for their phone, queued in the outbox."""

    outbound_id: int = Field(description="the queued message's number in the outbox")
    channel: str = Field(description="zalo or facebook")
    text: str = Field(description="the question as sent")


class AttachmentOut(BaseModel):
    """A stored file."""

    id: int = Field(description="the attachment's number")
    sha256: str = Field(description="the content's hash")
    mime_type: str = Field(description="its type", examples=["image/jpeg"])
    size_bytes: int = Field(description="its size in bytes")
    purpose: str = Field(description="evidence, result or document", examples=["evidence"])


class CategoryOut(FromRow):
    """A category of report."""

    code: str = Field(description="the category's code", examples=["lighting"])
    name_vi: str = Field(description="its Vietnamese name", examples=["Chiếu sáng công cộng"])
    name_en: str = Field(description="its English name", examples=["Street lighting"])
    department_code: str = Field(description="the department that handles it by default")
    priority: str = Field(description="its default priority", examples=["normal"])
    public: bool = Field(description="shown on public lists and maps (sensitive categories are not)")
    out_of_sla: bool = Field(description="follows its own legal process, with no SLA")
    active: bool = Field(description="new reports may use it")


class DepartmentOut(FromRow):
    """A department that handles reports."""

    code: str = Field(description="the department's code", examples=["urban"])
    name_vi: str = Field(description="its Vietnamese name")
    name_en: str = Field(description="its English name")
    kind: str = Field(description="division, agency or ward", examples=["division"])
    active: bool = Field(description="may receive tickets")


class WardOut(FromRow):
    """An administrative unit, with the dates it was in force and the unit that took it over."""

    code: str = Field(description="the unit's code")
    name_vi: str = Field(description="its name", examples=["Phường Hải Châu"])
    kind: str = Field(description="phuong, xa or dac_khu", examples=["phuong"])
    valid_from: date | None = Field(description="in force from")
    valid_to: date | None = Field(description="in force until")
    successor_code: str | None = Field(description="the unit that took it over")
    aliases: list[str] = Field(description="other names people use for it")

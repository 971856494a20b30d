"""What the triage and routing API answers: a suggestion for a draft, corrections, routing rules."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from kernel.schemas import FromRow
from tickets.schemas import TicketOut


class AddressOut(BaseModel):
    """The address triage read in the words."""

    house_number: str | None = Field(description="the house number", examples=["12"])
    alley: str | None = Field(description="the alley (hẻm/kiệt)")
    khu_pho: str | None = Field(description="the neighbourhood (khu phố/tổ)")
    street: str | None = Field(description="the street", examples=["Bạch Đằng"])


class DuplicateOut(BaseModel):
    """An open ticket the draft may repeat."""

    ticket_id: int = Field(description="the ticket's number")
    code: str = Field(description="the ticket's code", examples=["PR-2026-001234"])
    score: float = Field(description="how alike, 0-1", examples=[0.82])
    automatic: bool = Field(description="sure enough to merge without a person")
    why: str = Field(description="why, in Vietnamese", examples=["cách 35 m, cùng lĩnh vực"])
    distance_m: float | None = Field(description="metres between the two places")


class SuggestionOut(BaseModel):
    """What triage would decide for a draft report."""

    category: str | None = Field(description="the likely category's code", examples=["lighting"])
    category_confidence: float = Field(description="the model's confidence, 0-1", examples=[0.91])
    ward: str | None = Field(description="the ward's code")
    ward_named: str | None = Field(description="the unit's name as the text refers to it")
    ward_source: str | None = Field(description="pin_boundary, text, street or pin_nearest_centre")
    ward_approximate: bool = Field(description="the ward is a guess from the nearest centre")
    location_message: str | None = Field(description="for the citizen, when the pin could not be used")
    department: str | None = Field(description="the department routing would choose")
    priority: str | None = Field(description="the priority routing would set")
    needs_review: bool = Field(description="a person would have to confirm it")
    model_version: str | None = Field(description="the category model that decided")
    reasons: list[str] = Field(description="why, for programs and logs")
    address: AddressOut = Field(description="the address read in the words")
    duplicates: list[DuplicateOut] = Field(description="open tickets it may repeat, best first")


class QueueItemOut(TicketOut):
    """A ticket waiting for a person, with why."""

    reasons: list[str] = Field(description="why it waits for a person, in Vietnamese")


class CorrectionOut(FromRow):
    """A person's change to what triage decided: labelled data for the next model."""

    id: int = Field(description="the correction's number")
    ticket_id: int = Field(description="the ticket corrected")
    field: str = Field(description="category, ward or department", examples=["category"])
    old_value: str | None = Field(description="what triage had chosen")
    new_value: str | None = Field(description="what the person chose")
    text: str = Field(description="the report's words")
    user_id: int | None = Field(description="who corrected it")
    created_at: datetime = Field(description="when (UTC)")


class RuleOut(FromRow):
    """A routing rule: the first active one that matches a ticket routes it."""

    id: int = Field(description="the rule's number")
    position: int = Field(description="its place in the order (lower first)", examples=[10])
    name: str = Field(description="its name", examples=["Cây xanh ở Hải Châu"])
    category_code: str | None = Field(description="matches this category only")
    ward_code: str | None = Field(description="matches this ward only")
    keywords: list[str] = Field(description="matches when the words contain one of these")
    channel: str | None = Field(description="matches this channel only")
    department_code: str | None = Field(description="the department it routes to")
    priority: str | None = Field(description="the priority it sets")
    ward_officer: bool = Field(description="hands the ticket to the ward's officers")
    active: bool = Field(description="in use")
    updated_at: datetime = Field(description="when it last changed (UTC)")

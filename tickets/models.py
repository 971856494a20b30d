"""The ticket core's tables: citizens and their channel identities, tickets, their conversation
(messages and attachments) and their append-only timeline."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, Computed, Index, String, Text, UniqueConstraint
from sqlalchemy import text as sql_text
from sqlmodel import Field, SQLModel

from kernel.timeutil import UTCDateTime, utcnow


class Status(StrEnum):
    NEW = "new"
    TRIAGED = "triaged"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    WAITING_CITIZEN = "waiting_citizen"
    RESOLVED = "resolved"
    CLOSED = "closed"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"
    REOPENED = "reopened"


# In SQL, the open statuses are listed in this order, the predicate's of the partial indexes on open
# tickets (ix_ticket_open, ix_ticket_open_ward, ix_ticket_open_search_trgm): PostgreSQL matched another
# order of the same list (a frozenset's, which changes with each process's hash seed) to those predicates
# only in part and ANDed a scan of ix_ticket_status_created (138,000 rows) into a search of 5,000 open
# tickets, tripling it. Use OPEN_STATUS_ORDER in queries, OPEN_STATUSES for membership.
OPEN_STATUS_ORDER = (
    Status.NEW,
    Status.TRIAGED,
    Status.ASSIGNED,
    Status.IN_PROGRESS,
    Status.WAITING_CITIZEN,
    Status.REOPENED,
)
OPEN_STATUSES = frozenset(OPEN_STATUS_ORDER)


class Priority(StrEnum):
    URGENT = "urgent"
    HIGH = "high"
    NORMAL = "normal"
    LOW = "low"


class Channel(StrEnum):
    PHONE = "phone"
    VOICEMAIL = "voicemail"
    ZALO = "zalo"
    FACEBOOK = "facebook"
    WEB = "web"
    EMAIL = "email"
    API = "api"
    OPEN311 = "open311"
    INTERNAL = "internal"


class IdentityKind(StrEnum):
    PHONE = "phone"
    ZALO = "zalo"
    FACEBOOK = "facebook"
    EMAIL = "email"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class EventKind(StrEnum):
    CREATED = "created"
    CLASSIFIED = "classified"
    ROUTED = "routed"
    ASSIGNED = "assigned"
    STATUS_CHANGED = "status_changed"
    COMMENT = "comment"
    MESSAGE_RECEIVED = "message_received"
    REPLY_SENT = "reply_sent"
    REPLY_FAILED = "reply_failed"
    ATTACHMENT_ADDED = "attachment_added"
    EDITED = "edited"
    SLA_WARNING = "sla_warning"
    SLA_BREACH = "sla_breach"
    ESCALATED = "escalated"
    MERGED = "merged"
    REOPENED = "reopened"
    RATED = "rated"
    CALL_LINKED = "call_linked"
    CALLBACK = "callback"
    TRANSCRIBED = "transcribed"  # a voicemail's words and how sure the recogniser was of them


class ActorType(StrEnum):
    SYSTEM = "system"
    STAFF = "staff"
    CITIZEN = "citizen"


def _str(length: int, **kw: Any) -> Any:
    return Field(sa_type=String(length), **kw)


def _time(**kw: Any) -> Any:
    return Field(sa_type=UTCDateTime, **kw)


class Citizen(SQLModel, table=True):
    """One person, however many channels they use. The name is private: never shown publicly."""

    id: int | None = Field(default=None, primary_key=True)
    display_name: str | None = _str(200, default=None)
    # set while this record is merged into another person (an undo clears it)
    merged_into_id: int | None = Field(default=None, foreign_key="citizen.id")
    created_at: datetime = _time(default_factory=utcnow)
    language: str | None = _str(8, default=None)  # "vi" or "en": the language of their notifications
    updates_stopped_at: datetime | None = _time(default=None)  # asked to receive no more updates


class ChannelIdentity(SQLModel, table=True):
    """A way to reach a citizen: phone number, Zalo user id, Facebook page-scoped id or e-mail.

    A verified identifier (a channel's own user id, the caller's number from the PBX, a phone given
    through Zalo's or Messenger's own form, an address the citizen confirmed by link) belongs to one
    person only and links their channels; an unverified one (typed into a form) is only stored: the
    same unverified value may sit on several people and never joins them."""

    __tablename__ = "channel_identity"
    __table_args__ = (
        UniqueConstraint("citizen_id", "kind", "value"),
        Index(
            "uq_channel_identity_verified",
            "kind",
            "value",
            unique=True,
            postgresql_where=sql_text("verified_by IS NOT NULL"),
        ),
        Index("ix_channel_identity_kind_value", "kind", "value"),
    )

    id: int | None = Field(default=None, primary_key=True)
    citizen_id: int = Field(foreign_key="citizen.id", index=True)
    kind: str = _str(16)
    value: str = _str(200)
    verified_by: str | None = _str(24, default=None)  # who vouches: see tickets.citizens (PROVIDER…)
    verified_at: datetime | None = _time(default=None)
    created_at: datetime = _time(default_factory=utcnow)
    last_seen_at: datetime = _time(default_factory=utcnow)


class CitizenMerge(SQLModel, table=True):
    """One merge of a person into another, with exactly what moved, so an undo puts it all back."""

    __tablename__ = "citizen_merge"

    id: int | None = Field(default=None, primary_key=True)
    source_id: int = Field(foreign_key="citizen.id", index=True)
    target_id: int = Field(foreign_key="citizen.id", index=True)
    ticket_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    message_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    identity_ids: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # rows of other domains that name the person (calls…): {table: [ids]}
    other_ids: dict[str, list[int]] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    reason: str = _str(300, default="")
    automatic: bool = False  # a verified identifier matched; otherwise a person of staff merged
    actor_user_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = _time(default_factory=utcnow)
    undone_at: datetime | None = _time(default=None)
    undone_by_user_id: int | None = Field(default=None, foreign_key="user.id")


class IdentityConfirmation(SQLModel, table=True):
    """A link sent to a phone or e-mail given on a report: following it proves the citizen holds it.
    Only a hash of the token is kept."""

    __tablename__ = "identity_confirmation"

    token_hash: str = Field(sa_type=String(64), primary_key=True)
    identity_id: int = Field(foreign_key="channel_identity.id", index=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id")
    created_at: datetime = _time(default_factory=utcnow)
    expires_at: datetime = _time()
    used_at: datetime | None = _time(default=None)


class MessengerThread(SQLModel, table=True):
    """Our private reply to a page comment opened a Messenger thread with the commenter: what they
    write there (under their page-scoped id) belongs to the comment's ticket."""

    __tablename__ = "messenger_thread"
    __table_args__ = (UniqueConstraint("psid", "ticket_id"),)

    id: int | None = Field(default=None, primary_key=True)
    psid: str = _str(200, index=True)
    ticket_id: int = Field(foreign_key="ticket.id", index=True)
    comment_id: str = _str(200)
    created_at: datetime = _time(default_factory=utcnow)


class TicketSequence(SQLModel, table=True):
    """The last number used for human codes in a year (PR-2026-000123)."""

    __tablename__ = "ticket_sequence"

    year: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    last: int = 0


# OPEN_STATUSES as SQL, the predicate of the partial index ix_ticket_open (migration 0026)
OPEN_STATUS_SQL = f"status IN ({', '.join(repr(status.value) for status in OPEN_STATUS_ORDER)})"

SEARCHED_EXPRESSION = (
    "civicdesk_fold(code || ' ' || title || ' ' || description || ' ' || coalesce(address_text, ''))"
)


PUBLICLY_LISTED = "hidden_from_public IS false AND legal_process IS false"


class Ticket(SQLModel, table=True):
    __table_args__ = (
        Index("ix_ticket_status_created", "status", "created_at"),
        Index("ix_ticket_department_status", "department_code", "status"),
        Index("ix_ticket_ward_status", "ward_code", "status"),
        # a ward's tickets (an old ward's too) newest first, in the staff lists' order (migration 0026)
        Index("ix_ticket_ward_created", "ward_code", "created_at", "id"),
        # the reports merged into a ticket (the status page names their citizens): few, so partial
        Index(
            "ix_ticket_duplicate_of_id",
            "duplicate_of_id",
            postgresql_where=sql_text("duplicate_of_id IS NOT NULL"),
        ),
        # the open work, for the SLA board's counts and the worklist read from the index alone
        Index(
            "ix_ticket_open",
            "department_code",
            "ward_code",
            postgresql_include=["id", "category_code", "legal_process", "created_at"],
            postgresql_where=sql_text(OPEN_STATUS_SQL),
        ),
        Index(
            "ix_ticket_search_text_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
        ),
        # the staff list's open part, sorted by urgency (sla.lists): a ward's open tickets, and the open
        # tickets with a word, found without walking the done ones (migration 0028)
        Index(
            "ix_ticket_open_ward",
            "ward_code",
            postgresql_include=["id", "status", "created_at"],
            postgresql_where=sql_text(OPEN_STATUS_SQL),
        ),
        Index(
            "ix_ticket_open_search_trgm",
            "search_text",
            postgresql_using="gin",
            postgresql_ops={"search_text": "gin_trgm_ops"},
            postgresql_where=sql_text(OPEN_STATUS_SQL),
        ),
        # the public list and map, newest first, whole or by category or ward (issue 22): read from the
        # top of an index, never by sorting every listed ticket; the predicate is publicly_listed()'s
        Index("ix_ticket_public_created", "created_at", "id", postgresql_where=sql_text(PUBLICLY_LISTED)),
        Index(
            "ix_ticket_public_category_created",
            "category_code",
            "created_at",
            "id",
            postgresql_where=sql_text(PUBLICLY_LISTED),
        ),
        Index(
            "ix_ticket_public_ward_created",
            "ward_code",
            "created_at",
            "id",
            postgresql_where=sql_text(PUBLICLY_LISTED),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    code: str = _str(32, unique=True)
    tracking_token: str = _str(64, unique=True)
    title: str = _str(300)
    description: str = Field(sa_type=Text)
    public_description: str | None = Field(default=None, sa_type=Text)
    # code, title, description and address without diacritics, lower case (civicdesk_fold in the
    # database, see migration 0015), kept by PostgreSQL itself and searched through a trigram index
    search_text: str | None = Field(
        default=None, sa_column=Column(Text, Computed(SEARCHED_EXPRESSION, persisted=True), nullable=False)
    )
    category_code: str | None = Field(default=None, foreign_key="category.code", index=True)
    ward_code: str | None = Field(default=None, foreign_key="ward.code")
    ward_named_code: str | None = Field(default=None, foreign_key="ward.code")
    department_code: str | None = Field(default=None, foreign_key="department.code")
    assignee_id: int | None = Field(default=None, foreign_key="user.id", index=True)
    address_text: str | None = _str(500, default=None)
    latitude: float | None = None
    longitude: float | None = None
    priority: str = _str(16, default=Priority.NORMAL)
    status: str = _str(24, default=Status.NEW)
    origin_channel: str = _str(16, default=Channel.WEB)
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    duplicate_of_id: int | None = Field(default=None, foreign_key="ticket.id")
    hidden_from_public: bool = False
    city_level: bool = False
    # a complaint or denunciation (khiếu nại, tố cáo) follows its own legal process: out of SLA
    legal_process: bool = False
    # set by triage: low confidence or no ward found sends the ticket to a person
    needs_review: bool = Field(default=False, index=True)
    triaged_at: datetime | None = _time(default=None)
    rating: int | None = None
    created_at: datetime = _time(default_factory=utcnow, index=True)
    updated_at: datetime = _time(default_factory=utcnow)
    resolved_at: datetime | None = _time(default=None)
    closed_at: datetime | None = _time(default=None)


class Message(SQLModel, table=True):
    """One message of a ticket's conversation, in or out, on any channel."""

    __table_args__ = (UniqueConstraint("channel", "provider_message_id"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    citizen_id: int | None = Field(default=None, foreign_key="citizen.id", index=True)
    author_user_id: int | None = Field(default=None, foreign_key="user.id")
    channel: str = _str(16)
    direction: str = _str(8)
    provider_message_id: str | None = _str(200, default=None)
    text: str = Field(default="", sa_type=Text)
    created_at: datetime = _time(default_factory=utcnow)


class Attachment(SQLModel, table=True):
    """A stored file (photo, voice message, document), kept once per content hash on disk."""

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int | None = Field(default=None, foreign_key="ticket.id", index=True)
    message_id: int | None = Field(default=None, foreign_key="message.id", index=True)
    sha256: str = _str(64, index=True)
    mime_type: str = _str(100)
    size_bytes: int
    original_name: str | None = _str(255, default=None)
    storage_key: str = _str(300)
    purpose: str = _str(16, default="evidence")  # evidence, before, after, voicemail
    public: bool = True
    created_at: datetime = _time(default_factory=utcnow)


class TicketEvent(SQLModel, table=True):
    """The append-only timeline: the database refuses updates and deletes (see the migration)."""

    __tablename__ = "ticket_event"
    __table_args__ = (Index("ix_ticket_event_ticket_created", "ticket_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    ticket_id: int = Field(foreign_key="ticket.id")
    kind: str = _str(32)
    actor_type: str = _str(16, default=ActorType.SYSTEM)
    actor_user_id: int | None = Field(default=None, foreign_key="user.id")
    public: bool = False
    note: str | None = Field(default=None, sa_type=Text)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    created_at: datetime = _time(default_factory=utcnow)

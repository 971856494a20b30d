"""search: staff searches at a million tickets — the newest tickets of a ward (an old one included) read
from one index, in the list's order, instead of walking every ticket by date and dropping the others

Revision ID: 0026_search
Revises: 0025_notify
Create Date: 2026-11-28 12:00:00

Words with or without diacritics, partial codes and phone numbers written in a report are served by the
trigram index on ``search_text`` (``civicdesk_fold``: unaccent through an IMMUTABLE wrapper, migration
0016); a whole code by the code's unique index; a citizen's phone number by ``ix_channel_identity_kind_value``
and ``ix_ticket_citizen_id`` (tickets/search.py). A ward filter had only ``ix_ticket_ward_status``, whose
order is not the list's: PostgreSQL walked ``created_at`` backwards over every ticket since the ward was
merged away (170 ms at a million for a ward of 2024). ``(ward_code, created_at, id)`` gives a ward's
tickets newest first directly, and also serves a ward officer's own list.

The SLA board counts every open ticket by department, ward and urgency, and the worklist sorts them by
urgency: two partial covering indexes, the open tickets and the current resolution clocks, let both read
indexes alone instead of the whole ticket table (3 s → about 1 s at a million tickets, 138,000 open).

The status page names the citizens of the reports merged into one (``duplicate_of_id = …``), which had no
index: two sequential scans of the ticket table per page view (about 0.4 s each at a million).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026_search"
down_revision: str | None = "0025_notify"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# tickets.models.OPEN_STATUS_SQL and sla.models.CURRENT_CLOCK_SQL as they are today
OPEN_STATUS_SQL = "status IN ('new', 'triaged', 'assigned', 'in_progress', 'waiting_citizen', 'reopened')"
CURRENT_CLOCK_SQL = (
    "kind = 'resolution' AND (state IN ('running', 'paused') OR (state = 'breached' AND met_at IS NULL))"
)


def upgrade() -> None:
    op.create_index("ix_ticket_ward_created", "ticket", ["ward_code", "created_at", "id"])
    op.create_index(
        "ix_ticket_duplicate_of_id",
        "ticket",
        ["duplicate_of_id"],
        postgresql_where=sa.text("duplicate_of_id IS NOT NULL"),
    )
    op.create_index(
        "ix_ticket_open",
        "ticket",
        ["department_code", "ward_code"],
        postgresql_include=["id", "category_code", "legal_process", "created_at"],
        postgresql_where=sa.text(OPEN_STATUS_SQL),
    )
    op.create_index(
        "ix_sla_clock_current",
        "sla_clock",
        ["ticket_id"],
        postgresql_include=["id", "state", "due_at", "warn_at", "warned", "breached_at"],
        postgresql_where=sa.text(CURRENT_CLOCK_SQL),
    )


def downgrade() -> None:
    op.drop_index("ix_sla_clock_current", table_name="sla_clock")
    op.drop_index("ix_ticket_open", table_name="ticket")
    op.drop_index("ix_ticket_duplicate_of_id", table_name="ticket")
    op.drop_index("ix_ticket_ward_created", table_name="ticket")

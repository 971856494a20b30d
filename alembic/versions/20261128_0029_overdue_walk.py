"""overdue walk: the current, running or breached resolution clocks by due time, so the staff list's
first page in urgency order is read from the longest overdue down (sla.boards.overdue_first) instead
of sorting every open match

Plain CREATE INDEX (the migrations run in one transaction); on a live database make it first without
locking the table (the migration then finds it and skips it):

    CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_sla_clock_timed_due ON sla_clock (due_at)
        INCLUDE (ticket_id, breached_at) WHERE kind = 'resolution' AND due_at IS NOT NULL
        AND (state = 'running' OR (state = 'breached' AND met_at IS NULL));

Revision ID: 0029_overdue_walk
Revises: 0028_staff_search
Create Date: 2026-11-28 20:15:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0029_overdue_walk"
down_revision: str | None = "0028_staff_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMED = (
    "kind = 'resolution' AND due_at IS NOT NULL"
    " AND (state = 'running' OR (state = 'breached' AND met_at IS NULL))"
)


def upgrade() -> None:
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_sla_clock_timed_due ON sla_clock (due_at)"
        f" INCLUDE (ticket_id, breached_at) WHERE {TIMED}"
    )


def downgrade() -> None:
    op.drop_index("ix_sla_clock_timed_due", table_name="sla_clock")

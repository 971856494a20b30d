"""staff search: the open tickets of a ward, and the open tickets with a word, indexed apart from the
done ones, so the staff list sorts only the open matches by urgency (sla.lists)

Plain CREATE INDEX: kernel.migrations.upgrade runs every migration in one transaction, where
CREATE INDEX CONCURRENTLY is refused. On a live database of a million tickets, make them first without
locking the table (the migration then finds them and skips them):

    CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_ticket_open_ward ON ticket (ward_code)
        INCLUDE (id, status, created_at) WHERE status IN ('new', 'triaged', 'assigned', 'in_progress',
        'waiting_citizen', 'reopened');
    CREATE INDEX CONCURRENTLY IF NOT EXISTS ix_ticket_open_search_trgm ON ticket
        USING gin (search_text gin_trgm_ops) WHERE status IN (… the same …);

Revision ID: 0028_staff_search
Revises: 0027_public_reads
Create Date: 2026-11-28 15:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0028_staff_search"
down_revision: str | None = "0027_public_reads"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('new', 'triaged', 'assigned', 'in_progress', 'waiting_citizen', 'reopened')"


def upgrade() -> None:
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_ticket_open_ward ON ticket (ward_code)"
        f" INCLUDE (id, status, created_at) WHERE {OPEN}"
    )
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_ticket_open_search_trgm ON ticket"
        f" USING gin (search_text gin_trgm_ops) WHERE {OPEN}"
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_open_search_trgm", table_name="ticket")
    op.drop_index("ix_ticket_open_ward", table_name="ticket")

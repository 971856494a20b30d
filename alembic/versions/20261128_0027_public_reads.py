"""public reads: indexes behind the public list and map (newest first, whole or by category or ward); the
merged-report lookup of a status page is served by 0026's ix_ticket_duplicate_of_id

Revision ID: 0027_public_reads
Revises: 0026_search
Create Date: 2026-11-28 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0027_public_reads"
down_revision: str | None = "0026_search"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PUBLICLY_LISTED = sa.text("hidden_from_public IS false AND legal_process IS false")


def upgrade() -> None:
    op.create_index(
        "ix_ticket_public_created", "ticket", ["created_at", "id"], postgresql_where=PUBLICLY_LISTED
    )
    op.create_index(
        "ix_ticket_public_category_created",
        "ticket",
        ["category_code", "created_at", "id"],
        postgresql_where=PUBLICLY_LISTED,
    )
    op.create_index(
        "ix_ticket_public_ward_created",
        "ticket",
        ["ward_code", "created_at", "id"],
        postgresql_where=PUBLICLY_LISTED,
    )


def downgrade() -> None:
    op.drop_index("ix_ticket_public_ward_created", table_name="ticket")
    op.drop_index("ix_ticket_public_category_created", table_name="ticket")
    op.drop_index("ix_ticket_public_created", table_name="ticket")
